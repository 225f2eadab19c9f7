"""dashboard indexes: a covering index for the prospects list, the submitted order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 02:30:00.000000

Measured at 100,000 intakes (bench/dashboard.py): the rows hold the answers (~2 KB),
so every count or filter that read the table scanned ~230 MB (SQLite follows overflow
pages to reach the columns stored after ``answers``; PostgreSQL reads the whole heap).

- ix_intakes_listing holds every column the list filters, searches, counts and sorts
  on, plus the id: the count per band, the filters, a search (LIKE '%x%' cannot seek
  any index, but it scans this ~13 MB index instead of the table) and the sorts by
  owner, top risk or status become index-only scans. band and status lead, so those
  filters seek it. On SQLite the id (the rowid) is stored anyway.
- ix_intakes_submitted_order (submitted_at, id, status) gives the default order
  (newest first, then id) with the status test inside the index: a deep page skips
  its offset in the index alone (page 2000: 60 ms -> 2 ms on both databases).

Plain B-tree indexes on plain columns: the same on SQLite and PostgreSQL.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LISTING = [
    'band', 'status', 'owner_id', 'submitted_at', 'score', 'top_risk',
    'contact_name', 'company', 'contact_email', 'id',
]


def upgrade():
    op.create_index('ix_intakes_listing', 'intakes', LISTING, unique=False)
    op.create_index(
        'ix_intakes_submitted_order', 'intakes', ['submitted_at', 'id', 'status'], unique=False
    )


def downgrade():
    op.drop_index('ix_intakes_submitted_order', table_name='intakes')
    op.drop_index('ix_intakes_listing', table_name='intakes')

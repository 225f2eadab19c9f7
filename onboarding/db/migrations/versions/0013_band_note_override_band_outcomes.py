"""the band's note (v1.1 cap), a manager's own band, engagement outcomes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00

- ``intakes.band_note``: the latest assessment's ``band_note`` (which cause capped the
  band at guarded; assessment.md v1.1), copied for the lists like score and band.
- ``intakes.override_band``: a manager's override sets its own band, shown beside the
  computed one (never derived from the override's score).
- ``engagement_outcomes``: how an engagement turned out (smooth, needed firm
  boundaries, micromanaged, ended early), one per intake, recorded once the agreement
  is signed; the admin's outcomes page learns from them which rules predict trouble.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('intakes') as batch:
        batch.add_column(sa.Column('band_note', sa.String(length=400), nullable=True))
        batch.add_column(sa.Column('override_band', sa.String(length=10), nullable=True))
    op.create_table(
        'engagement_outcomes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('intake_id'),
    )


def downgrade():
    op.drop_table('engagement_outcomes')
    with op.batch_alter_table('intakes') as batch:
        batch.drop_column('override_band')
        batch.drop_column('band_note')

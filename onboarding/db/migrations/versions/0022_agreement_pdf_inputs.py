"""agreement PDF inputs: find a pre-rendered agreement PDF with one statement (issue 28)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 22:00:00

- ``agreement_pdf_inputs``: per intake and paper, a digest of what its agreement PDF was
  last rendered from and the key of that PDF in ``rendered_pdfs``, so a download finds
  the PDF without composing the agreement first.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'agreement_pdf_inputs',
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('paper', sa.String(length=10), nullable=False),
        sa.Column('inputs', sa.String(length=64), nullable=False),
        sa.Column('pdf_key', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('intake_id', 'paper'),
    )


def downgrade():
    op.drop_table('agreement_pdf_inputs')

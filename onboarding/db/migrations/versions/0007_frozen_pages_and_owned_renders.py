"""agreement pages frozen with their version; cached PDFs tied to their intake

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 09:00:00

Each agreement version now keeps the page the prospect reads (title, HTML, stylesheet
and their SHA-256); versions sent before keep NULL there and show their PDF.

A cached PDF now belongs to its intake (``intake_id``, ``ON DELETE CASCADE``), so
deleting a prospect deletes their renders. The old rows name no intake and cannot be
given one without re-composing every agreement, so the cache starts empty: the next
download renders again.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stylesheet', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('page_sha256', sa.String(length=64), nullable=True))

    op.drop_table('rendered_pdfs')
    op.create_table('rendered_pdfs',
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_rendered_pdfs_intake_id_intakes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intake_id', 'key', name=op.f('pk_rendered_pdfs'))
    )


def downgrade():
    op.drop_table('rendered_pdfs')
    op.create_table('rendered_pdfs',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rendered_pdfs'))
    )

    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_column('page_sha256')
        batch_op.drop_column('stylesheet')
        batch_op.drop_column('html')
        batch_op.drop_column('title')

"""the client as a party: the legal name and address the client confirmed on accepting

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 18:00:00

The prospect confirms or completes the client's legal name and registered address on
the agreement page before accepting (shared/spec/proposal.md, "The client as a
party"): the acceptance keeps them, and the accepted and signed PDFs state them in the
party block. Versions accepted before have none (their party block is as sent).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agreement_versions') as batch_op:
        batch_op.add_column(sa.Column('accepted_legal_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('accepted_address', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agreement_versions') as batch_op:
        batch_op.drop_column('accepted_address')
        batch_op.drop_column('accepted_legal_name')

"""outbox: one attachment per message (the signed agreement's PDF)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00

A message may carry one file: its bytes and its name (the prospect's confirmation when
the agreement is fully signed carries the signed PDF).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('attachment', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('attachment_name', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('attachment_name')
        batch.drop_column('attachment')

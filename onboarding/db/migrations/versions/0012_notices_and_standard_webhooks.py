"""staff notices per user (each, daily digest, off); webhook endpoints on Standard Webhooks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 18:00:00

- ``users.notices``: how a member of staff hears of submissions, change requests and
  acceptances: ``each`` message (the default), a daily ``digest``, or ``off``.
- ``outbox_messages.digest_id``: a notice held for a digest points at the digest that
  carried it.
- ``webhook_endpoints.signing``: ``standard`` (Standard Webhooks headers, a ``whsec_``
  base64 secret) for endpoints registered from now on; endpoints that exist keep
  ``legacy`` (today's ``Onboarding-Signature`` only) until an admin rolls their secret.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(
            sa.Column('notices', sa.String(length=10), nullable=False, server_default='each')
        )
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_outbox_messages_digest_id',
            'outbox_messages',
            ['digest_id'],
            ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.add_column(
            sa.Column('signing', sa.String(length=10), nullable=False, server_default='legacy')
        )


def downgrade():
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.drop_column('signing')
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_constraint('fk_outbox_messages_digest_id', type_='foreignkey')
        batch.drop_column('digest_id')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('notices')

"""hash chains: audit events and security events carry prev_hash and hash

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 15:00:00

Each intake's history (``audit_events``, one chain per intake and one for events of
no intake) and the security log (``security_events``, one chain) become hash chains
(``onboarding.domain.chain``). The rows written before are chained here, once, in the
order they were written (by id).
"""
import sqlalchemy as sa
from alembic import op

from onboarding.domain import chain

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

AUDIT = sa.table(
    'audit_events',
    sa.column('id', sa.Integer()),
    sa.column('intake_id', sa.Integer()),
    sa.column('user_id', sa.Integer()),
    sa.column('kind', sa.String()),
    sa.column('from_value', sa.String()),
    sa.column('to_value', sa.String()),
    sa.column('detail', sa.Text()),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)
SECURITY = sa.table(
    'security_events',
    sa.column('id', sa.Integer()),
    sa.column('kind', sa.String()),
    sa.column('actor', sa.String()),
    sa.column('subject', sa.String()),
    sa.column('address', sa.String()),
    sa.column('detail', sa.String()),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
)


def _chain(bind, table, kind, group=None):
    rows = [dict(r._mapping) for r in bind.execute(sa.select(table).order_by(table.c.id))]
    chains = {}
    for row in rows:
        chains.setdefault(row.get(group) if group else None, []).append(row)
    for events in chains.values():
        for id_, prev, digest in chain.chain_rows(kind, events):
            bind.execute(
                table.update().where(table.c.id == id_).values(prev_hash=prev, hash=digest)
            )


def upgrade():
    for name in ('audit_events', 'security_events'):
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
            batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    _chain(bind, AUDIT, 'audit', 'intake_id')
    _chain(bind, SECURITY, 'security')


def downgrade():
    for name in ('audit_events', 'security_events'):
        with op.batch_alter_table(name) as batch:
            batch.drop_column('hash')
            batch.drop_column('prev_hash')

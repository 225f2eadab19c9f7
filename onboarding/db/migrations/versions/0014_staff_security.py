"""staff accounts to ASVS level 2: sign-in failures, TOTP, recovery codes, the
security log, agreement links that lapse

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-10 10:00:00

- ``login_failures``: one row per failed sign-in (the email as typed, known or not, and
  the address), counted per (account, address), per address and per account by every
  app server alike (issue 17; replaces ``users.failed_logins``, kept unused).
- ``users.totp_*``: the TOTP second factor (its secret, when it was enrolled, the last
  time step used so a code works once); ``users.email_code_*``: the one-time code
  emailed when an account past its ceiling has no TOTP.
- ``recovery_codes``: the SHA-256 of each recovery code, and when it was used.
- ``security_events``: who did what to accounts, tokens and webhooks, when, from where.
- ``agreement_versions.link_renewed_at``: when a manager renewed the link of an
  unsigned agreement (it lapses ``SIGNING_DAYS`` after it was sent or renewed).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failures_email_at', 'login_failures', ['email', 'at'])
    op.create_index('ix_login_failures_address_at', 'login_failures', ['address', 'at'])
    op.create_index('ix_login_failures_at', 'login_failures', ['at'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('email_code_hash', sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column('email_code_expires_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column('email_code_tries', sa.Integer(), nullable=False, server_default='0')
        )
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_codes_user_id', 'recovery_codes', ['user_id'])
    op.create_table(
        'security_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=True),
        sa.Column('subject', sa.String(length=254), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_security_events_at', 'security_events', ['at'])
    with op.batch_alter_table('agreement_versions') as batch:
        batch.add_column(sa.Column('link_renewed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('agreement_versions') as batch:
        batch.drop_column('link_renewed_at')
    op.drop_index('ix_security_events_at', table_name='security_events')
    op.drop_table('security_events')
    op.drop_index('ix_recovery_codes_user_id', table_name='recovery_codes')
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email_code_tries')
        batch.drop_column('email_code_expires_at')
        batch.drop_column('email_code_hash')
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_enabled_at')
        batch.drop_column('totp_secret')
    op.drop_index('ix_login_failures_at', table_name='login_failures')
    op.drop_index('ix_login_failures_address_at', table_name='login_failures')
    op.drop_index('ix_login_failures_email_at', table_name='login_failures')
    op.drop_table('login_failures')

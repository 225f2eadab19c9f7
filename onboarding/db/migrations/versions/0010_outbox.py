"""outbox: outbound messages (email today) and draft reminders' stop links

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00

One table for every outbound message, written in the transaction of the change that
caused it and sent after commit by the worker (channel ``email`` now; webhook deliveries
may move in later as channel ``webhook``), and one row per draft that was reminded,
holding its stop link's token.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
WHEN = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('to_name', sa.String(length=200), nullable=True),
        sa.Column('from_address', sa.String(length=400), nullable=False),
        sa.Column('reply_to', sa.String(length=400), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=True),
        sa.Column('headers', JSON, nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('dedupe_key', sa.String(length=120), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_code', sa.Integer(), nullable=True),
        sa.Column('last_answer', sa.String(length=500), nullable=True),
        sa.Column('next_attempt_at', WHEN, nullable=True),
        sa.Column('locked_until', WHEN, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.Column('sent_at', WHEN, nullable=True),
        sa.Column('resent_from_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['intake_id'], ['intakes.id'],
            name=op.f('fk_outbox_messages_intake_id_intakes'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_outbox_messages_user_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['resent_from_id'], ['outbox_messages.id'],
            name=op.f('fk_outbox_messages_resent_from_id_outbox_messages'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_outbox_messages_message_id')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key')),
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'])
        batch_op.create_index('ix_outbox_messages_intake_kind', ['intake_id', 'kind'])
        batch_op.create_index('ix_outbox_messages_to_created', ['to_address', 'created_at'])
        batch_op.create_index('ix_outbox_messages_created', ['created_at'])

    op.create_table(
        'draft_reminders',
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('stop_token', sa.String(length=64), nullable=False),
        sa.Column('stopped_at', WHEN, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ['intake_id'], ['intakes.id'],
            name=op.f('fk_draft_reminders_intake_id_intakes'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('intake_id', name=op.f('pk_draft_reminders')),
        sa.UniqueConstraint('stop_token', name=op.f('uq_draft_reminders_stop_token')),
    )


def downgrade():
    op.drop_table('draft_reminders')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_created')
        batch_op.drop_index('ix_outbox_messages_to_created')
        batch_op.drop_index('ix_outbox_messages_intake_kind')
        batch_op.drop_index('ix_outbox_messages_due')
    op.drop_table('outbox_messages')

"""playbook versions: the workspace's playbook editor

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 15:00:00

- ``playbook_versions``: each save of the playbook editor (rule points, risk, on/off and
  reason over the playbook files), cumulative; the latest row is what the installation
  runs, the rows before it are the history.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table(
        'playbook_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('base_version', sa.String(length=64), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=False),
        sa.Column('edits', JSON, nullable=False),
        sa.Column('changes', JSON, nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_playbook_versions_version', 'playbook_versions', ['version'])


def downgrade():
    op.drop_index('ix_playbook_versions_version', table_name='playbook_versions')
    op.drop_table('playbook_versions')

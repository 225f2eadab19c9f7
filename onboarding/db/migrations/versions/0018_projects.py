"""projects: the page a countersigned agreement starts, and what happened on it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 18:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table(
        'projects',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('intake_id', sa.Integer(), sa.ForeignKey('intakes.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('version_id', sa.Integer(), sa.ForeignKey('agreement_versions.id'),
                  nullable=False),
        sa.Column('token', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('link_renewed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded_for', sa.String(10), nullable=True),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_projects_intake_id', 'projects', ['intake_id'], unique=True)
    op.create_table(
        'project_entries',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('author', sa.String(10), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('data', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_project_entries_project_id', 'project_entries', ['project_id'])


def downgrade():
    op.drop_index('ix_project_entries_project_id', 'project_entries')
    op.drop_table('project_entries')
    op.drop_index('ix_projects_intake_id', 'projects')
    op.drop_table('projects')

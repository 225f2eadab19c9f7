"""background renders: render jobs (the outbox's render channel) and render claims

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:10:00

- ``render_jobs``: an agreement to render ahead of the request that will want it (after
  a submit, a re-assessment, saved terms or a saved agency profile), or the accepted or
  signed file of a version; worked by the outbox worker like an email.
- ``render_claims``: one row per PDF being rendered (by the SHA-256 key of what it is
  rendered from), so two processes never render the same content at once.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'render_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('paper', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['agreement_versions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_render_jobs_due', 'render_jobs', ['status', 'next_attempt_at'])
    op.create_index('ix_render_jobs_intake', 'render_jobs', ['intake_id', 'kind', 'status'])
    op.create_table(
        'render_claims',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade():
    op.drop_table('render_claims')
    op.drop_index('ix_render_jobs_intake', table_name='render_jobs')
    op.drop_index('ix_render_jobs_due', table_name='render_jobs')
    op.drop_table('render_jobs')

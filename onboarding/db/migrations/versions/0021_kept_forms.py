"""kept forms: what was typed and not yet saved, kept server-side (issue 26)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 18:00:00

- ``kept_forms``: a staff member's form posted after their session lapsed (kept a short
  while, restored into the form after a fresh sign-in), and a prospect's answers that
  did not pass their checks (shown again with their message when the step opens).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    op.create_table(
        'kept_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('intake_id', sa.Integer(), nullable=True),
        sa.Column('place', sa.String(length=300), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_kept_forms_user_id', 'kept_forms', ['user_id'])
    op.create_index('ix_kept_forms_intake_id', 'kept_forms', ['intake_id'])
    op.create_index('ix_kept_forms_created_at', 'kept_forms', ['created_at'])


def downgrade():
    op.drop_index('ix_kept_forms_created_at', table_name='kept_forms')
    op.drop_index('ix_kept_forms_intake_id', table_name='kept_forms')
    op.drop_index('ix_kept_forms_user_id', table_name='kept_forms')
    op.drop_table('kept_forms')

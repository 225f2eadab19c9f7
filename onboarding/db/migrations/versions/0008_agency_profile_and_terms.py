"""the agency profile's versions and each engagement's terms

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:10:00

The agency profile is saved by admins, each save a new version (never changed);
an engagement's terms are saved by its account manager (shared/spec/terms.md).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'agency_profile_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'],
            name=op.f('fk_agency_profile_versions_created_by_id_users'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_profile_versions')),
        sa.UniqueConstraint('version', name=op.f('uq_agency_profile_versions_version')),
    )
    op.create_table(
        'engagement_terms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=False),
        sa.Column('data', JSON, nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['intake_id'], ['intakes.id'],
            name=op.f('fk_engagement_terms_intake_id_intakes'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['updated_by_id'], ['users.id'],
            name=op.f('fk_engagement_terms_updated_by_id_users'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_terms')),
    )
    with op.batch_alter_table('engagement_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_terms_intake_id'), ['intake_id'], unique=True)
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms', JSON, nullable=True))
        batch_op.add_column(sa.Column('profile_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('walk_away_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_column('walk_away_reason')
        batch_op.drop_column('profile_version')
        batch_op.drop_column('terms')
    with op.batch_alter_table('engagement_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_terms_intake_id'))
    op.drop_table('engagement_terms')
    op.drop_table('agency_profile_versions')

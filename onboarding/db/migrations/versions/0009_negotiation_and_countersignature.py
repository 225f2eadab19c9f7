"""negotiation and countersignature: version content and redline, signing rights

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:40:00

Each agreement version keeps its content as data and its redline against the version
before; the client's signer may give a title and confirm authority; a staff user with
signing rights countersigns, which stores the fully signed PDF.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column('can_sign', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', JSON, nullable=True))
        batch_op.add_column(sa.Column('redline', JSON, nullable=True))
        batch_op.add_column(sa.Column('accepted_title', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('accepted_authority', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('countersigned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('countersigned_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('countersigned_title', sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column('countersigned_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('countersigned_ip', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('countersigned_user_agent', sa.String(length=500), nullable=True)
        )
        batch_op.add_column(sa.Column('signed_pdf', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('signed_pdf_sha256', sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_agreement_versions_signed_pdf_sha256'), ['signed_pdf_sha256'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_agreement_versions_countersigned_by_id_users'),
            'users', ['countersigned_by_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_agreement_versions_countersigned_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_agreement_versions_signed_pdf_sha256'))
        for column in ('signed_pdf_sha256', 'signed_pdf', 'countersigned_user_agent',
                       'countersigned_ip', 'countersigned_at', 'countersigned_title',
                       'countersigned_name', 'countersigned_by_id', 'accepted_authority',
                       'accepted_title', 'redline', 'content'):
            batch_op.drop_column(column)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('can_sign')
        batch_op.drop_column('title')

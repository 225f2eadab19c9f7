"""proposal options: the options the client chose, frozen with the acceptance

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 18:20:00

``agreement_versions.options_chosen``: the options of the proposal the client chose on
accepting (``[{"id", "quantity"}]``; null before the acceptance, or for a version
accepted before options existed). The options offered are kept in the version's
``content`` (``options_offered``), like the rest of what was sent.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    with op.batch_alter_table('agreement_versions') as batch:
        batch.add_column(sa.Column('options_chosen', json_type, nullable=True))


def downgrade():
    with op.batch_alter_table('agreement_versions') as batch:
        batch.drop_column('options_chosen')

"""the approval form (审批单) of a publication: the SHA-256 of its signed PDF in the archive

Revision ID: 0013_approval_form
Revises: 0012_uplevel
Create Date: 2026-12-01 20:10:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_approval_form'
down_revision = '0012_uplevel'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval_sha256', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_publication_approval_sha256'), ['approval_sha256'])


def downgrade():
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_publication_approval_sha256'), type_='unique')
        batch_op.drop_column('approval_sha256')

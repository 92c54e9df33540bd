"""The readiness check's last result for each review, shared by every worker (issue 8).

Each worker kept its own: with four workers, every review near submission or publication had its
three reports rendered and scanned four times after each change, and at national scale a view often
found the result missing (a tenth of a second of rendering in a read request).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 23:10:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('readiness_results',
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('inputs', sa.String(length=64), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_readiness_results_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('review_id', name=op.f('pk_readiness_results'))
    )


def downgrade() -> None:
    op.drop_table('readiness_results')

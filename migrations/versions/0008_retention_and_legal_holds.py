"""Retention: each partnership's retention period (years after a review ends), a version for its
edits, and legal holds on reviews.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 14:03:59.558984
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('legal_holds',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('placed_by', sa.String(length=32), nullable=True),
    sa.Column('placed_by_name', sa.String(length=200), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=32), nullable=True),
    sa.Column('lifted_by_name', sa.String(length=200), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lifted_by'], ['users.id'], name=op.f('fk_legal_holds_lifted_by_users')),
    sa.ForeignKeyConstraint(['placed_by'], ['users.id'], name=op.f('fk_legal_holds_placed_by_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_legal_holds_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_holds_review_id'), ['review_id'], unique=False)

    with op.batch_alter_table('csps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_years', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))



def downgrade() -> None:
    # Not in batch mode: on SQLite that copies csps and drops the original, which the reviews'
    # foreign keys refuse; SQLite 3.35+ drops a plain column in place.
    op.drop_column('csps', 'version')
    op.drop_column('csps', 'retention_years')

    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_holds_review_id'))

    op.drop_table('legal_holds')

"""The national DHR library's facts on each review (cause and location of death, flags) and its learning themes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 09:48:31.642082
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('death_cause', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('death_location', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('flags', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('themes', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('themes')
        batch_op.drop_column('flags')
        batch_op.drop_column('death_location')
        batch_op.drop_column('death_cause')

"""Indexes the lists need (issue 8, item 3): the Home Office's reviews are found by the date they
were first submitted without reading the whole reviews table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 15:30:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_reviews_first_submitted_on'), 'reviews', ['first_submitted_on'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reviews_first_submitted_on'), table_name='reviews')

"""The reports' scans a readiness result used, kept with it (issue 8): a check after a change that
leaves the reports' text as it was (a pend and a resume) reuses them in any worker, instead of
rendering and reading three reports again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 03:20:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('readiness_results') as batch_op:
        batch_op.add_column(sa.Column('scans', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('readiness_results') as batch_op:
        batch_op.drop_column('scans')

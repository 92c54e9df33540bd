"""Two indexes for the lists at national scale (issue 8).

- Each review's open deadlines by due date: "overdue" in the lists and on the home pages probed every
  deadline of every visible review (a Home Office list of overdue reviews read 21,000 index entries to
  keep 2,800 reviews); this partial index holds only the open ones.
- The lists' order (newest notification first, then reference): a page of the Home Office's thousands
  of reviews is read in order, not sorted from all of them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 02:40:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OPEN = sa.text("met_on IS NULL AND waived_on IS NULL")


def upgrade() -> None:
    op.create_index('ix_deadlines_open_by_review', 'deadlines', ['review_id', 'due_on'], unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index('ix_reviews_list_order', 'reviews', [sa.text('notified_on DESC'), 'reference'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reviews_list_order', table_name='reviews')
    op.drop_index('ix_deadlines_open_by_review', table_name='deadlines')

"""Sign-in safety: when each token was last used (idle time-out) and failed sign-ins per user
(slow-down and lock-out), and per unknown email address (keyed hash only) so both answer alike.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 14:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'sign_in_throttles',
        sa.Column('email_digest', sa.String(length=64), nullable=False),
        sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('email_digest', name=op.f('pk_sign_in_throttles')),
    )
    with op.batch_alter_table('sign_in_throttles') as batch:
        batch.create_index(batch.f('ix_sign_in_throttles_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_throttles') as batch:
        batch.drop_index(batch.f('ix_sign_in_throttles_updated_at'))
    op.drop_table('sign_in_throttles')
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would drop and recreate `users`, which the
    # foreign keys of every table pointing at it refuse.
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_sign_ins')
    op.drop_column('api_tokens', 'last_used_at')

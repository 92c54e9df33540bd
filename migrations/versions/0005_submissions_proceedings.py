"""Submissions to the Home Office with their packages, QA change items, parallel proceedings, published files.

The review's criminal_proceedings_open flag becomes a criminal_trial row in proceedings, so the
trial, the inquest and other reviews are recorded alike; an open flag is carried over as an open trial.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:21:20.547311
"""
import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proceedings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expected_end_on', sa.Date(), nullable=True),
    sa.Column('concluded_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_proceedings_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proceedings'))
    )
    with op.batch_alter_table('proceedings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proceedings_review_id'), ['review_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('submitted_by', sa.String(length=32), nullable=True),
    sa.Column('submitted_by_name', sa.String(length=200), nullable=False),
    sa.Column('what_changed', sa.Text(), nullable=True),
    sa.Column('answers_feedback', sa.Text(), nullable=True),
    sa.Column('edits', sa.JSON(), nullable=True),
    sa.Column('history_seq', sa.Integer(), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('qa_outcome', sa.String(length=40), nullable=True),
    sa.Column('qa_received_on', sa.Date(), nullable=True),
    sa.Column('letter_filename', sa.String(length=200), nullable=True),
    sa.Column('letter_media_type', sa.String(length=100), nullable=True),
    sa.Column('letter_sha256', sa.String(length=64), nullable=True),
    sa.Column('letter_size', sa.Integer(), nullable=True),
    sa.Column('letter_uploaded_by_name', sa.String(length=200), nullable=True),
    sa.Column('letter_uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('letter', sa.LargeBinary(), nullable=True),
    sa.Column('package_sha256', sa.String(length=64), nullable=True),
    sa.Column('package_size', sa.Integer(), nullable=True),
    sa.Column('package_made_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('package', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_submissions_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_submissions_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('review_id', 'number', name=op.f('uq_submissions_review_id_number'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_review_id'), ['review_id'], unique=False)

    op.create_table('qa_changes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('submission_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=True),
    sa.Column('how', sa.Text(), nullable=True),
    sa.Column('made_by', sa.String(length=32), nullable=True),
    sa.Column('made_by_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['made_by'], ['users.id'], name=op.f('fk_qa_changes_made_by_users')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_qa_changes_review_id_reviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_qa_changes_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_changes')),
    sa.UniqueConstraint('review_id', 'number', name=op.f('uq_qa_changes_review_id_number'))
    )
    with op.batch_alter_table('qa_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qa_changes_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qa_changes_submission_id'), ['submission_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_on', sa.Date(), nullable=True))

    reviews = sa.table("reviews", sa.column("id", sa.String), sa.column("criminal_proceedings_open", sa.Boolean))
    proceedings = sa.table(
        "proceedings", sa.column("id", sa.String), sa.column("review_id", sa.String), sa.column("kind", sa.String),
        sa.column("description", sa.Text), sa.column("status", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)), sa.column("version", sa.Integer),
    )
    connection = op.get_bind()
    stamp = dt.datetime.now(dt.timezone.utc)
    open_ids = connection.execute(sa.select(reviews.c.id).where(reviews.c.criminal_proceedings_open == sa.true())).scalars().all()
    for review_id in open_ids:
        connection.execute(proceedings.insert().values(
            id=uuid.uuid4().hex, review_id=review_id, kind="criminal_trial", description="Criminal proceedings",
            status="open", created_at=stamp, updated_at=stamp, version=1,
        ))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('criminal_proceedings_open')



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('criminal_proceedings_open', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE reviews SET criminal_proceedings_open = TRUE WHERE id IN "
        "(SELECT review_id FROM proceedings WHERE kind = 'criminal_trial' AND status = 'open')"
    )

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('published_on')

    with op.batch_alter_table('qa_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qa_changes_submission_id'))
        batch_op.drop_index(batch_op.f('ix_qa_changes_review_id'))

    op.drop_table('qa_changes')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_review_id'))

    op.drop_table('submissions')
    with op.batch_alter_table('proceedings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proceedings_review_id'))

    op.drop_table('proceedings')

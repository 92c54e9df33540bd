"""Documents and partnerships' templates (issue 3); people's ethnic origin; dissemination list

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:33:32.078289
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_templates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('csp_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=32), nullable=True),
    sa.Column('uploaded_by_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['csp_id'], ['csps.id'], name=op.f('fk_document_templates_csp_id_csps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_document_templates_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_templates')),
    sa.UniqueConstraint('csp_id', 'kind', 'version', name=op.f('uq_document_templates_csp_id_kind_version'))
    )
    with op.batch_alter_table('document_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_templates_csp_id'), ['csp_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('variant', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.String(length=32), nullable=False),
    sa.Column('imr_id', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('template_sha256', sa.String(length=64), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=True),
    sa.Column('created_by_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_documents_created_by_users')),
    sa.ForeignKeyConstraint(['imr_id'], ['imrs.id'], name=op.f('fk_documents_imr_id_imrs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_documents_review_id_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('review_id', 'kind', 'variant', 'subject_id', 'version', name=op.f('uq_documents_review_id_kind_variant_subject_id_version'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_imr_id'), ['imr_id'], unique=False)
        batch_op.create_index('ix_documents_review_kind', ['review_id', 'kind', 'variant'], unique=False)

    with op.batch_alter_table('overviews', schema=None) as batch_op:
        # Existing overviews start with an empty dissemination list.
        batch_op.add_column(sa.Column('dissemination', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ethnicity', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('ethnicity')

    with op.batch_alter_table('overviews', schema=None) as batch_op:
        batch_op.drop_column('dissemination')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_review_kind')
        batch_op.drop_index(batch_op.f('ix_documents_imr_id'))

    op.drop_table('documents')
    with op.batch_alter_table('document_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_templates_csp_id'))

    op.drop_table('document_templates')

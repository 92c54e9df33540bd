"""Emails' bodies compressed with lz4 on PostgreSQL (issue 8: the sweep within 2 s at national scale).

A sweep writes thousands of emails at once, each body about 2 KB of HTML and 1 KB of text, just over
the size at which PostgreSQL compresses a row's long values. Its default, pglz, gains almost nothing on
them (25 MB against 24 MB for a national day's alerts) and costs a tenth of a second per 8,000 emails;
lz4 does the same work several times faster. SQLite stores text as it is: nothing to do there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 21:10:00
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BODIES = ("body_text", "body_html")


def _compress_with(method: str) -> None:
    # Only rows written from now on: existing values keep the compression they were stored with.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox " + ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in BODIES))


def upgrade() -> None:
    _compress_with("lz4")


def downgrade() -> None:
    _compress_with("pglz")

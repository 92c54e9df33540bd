"""The history as hash chains: each row carries the hash of the row before (app/audit/chain.py).

Each review's rows are one chain, in their seq order. The rows not about a review (seq 0 until now)
become the "administration" chain, numbered 1, 2, ... in the order they were written (by `at`, then
id). Every existing row is hashed here, keyed from DHR_SECRET_KEY as the app does, and
history_heads gets each chain's last number and hash.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 12:44:15.416240
"""
import datetime as dt
import hashlib
import hmac
import json

import sqlalchemy as sa
from alembic import op

from app.core.config import get_settings

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# A frozen copy of the hash in app/audit/chain.py as it was at this revision, so this migration
# computes the same hashes even if the app's code moves on (a new version would change both).
GENESIS = "0" * 64
ADMINISTRATION = "administration"
CONTENT = ("review_id", "seq", "entity_type", "entity_id", "event", "from_state", "to_state", "on", "at",
           "actor_id", "actor_name", "data", "changes", "note", "prev_hash")


def _key() -> bytes:
    return hmac.new(get_settings().secret_key.encode(), b"dhr history chain v1", hashlib.sha256).digest()


def _plain(value):
    if isinstance(value, dt.datetime):
        value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _hash(key: bytes, row: dict) -> str:
    content = json.loads(json.dumps({name: _plain(row[name]) for name in CONTENT}))
    return hmac.new(key, json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(), hashlib.sha256).hexdigest()


history = sa.table(
    "history", sa.column("id", sa.String), sa.column("seq", sa.Integer), sa.column("review_id", sa.String),
    sa.column("entity_type", sa.String), sa.column("entity_id", sa.String), sa.column("event", sa.String),
    sa.column("from_state", sa.String), sa.column("to_state", sa.String), sa.column("on", sa.Date),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("actor_id", sa.String), sa.column("actor_name", sa.String),
    sa.column("data", sa.JSON), sa.column("changes", sa.JSON), sa.column("note", sa.Text),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)
heads = sa.table("history_heads", sa.column("chain", sa.String), sa.column("seq", sa.Integer), sa.column("hash", sa.String))


def upgrade() -> None:
    op.create_table('history_heads',
    sa.Column('chain', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_history_heads'))
    )
    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    key = _key()
    # One chain at a time, so memory holds one chain, not the whole history.
    review_ids = connection.execute(sa.select(history.c.review_id).where(history.c.review_id.is_not(None)).distinct()).scalars().all()
    for review_id in [*review_ids, None]:
        if review_id is None:  # the administration rows, all seq 0 until now: in the order they were written
            query = sa.select(history).where(history.c.review_id.is_(None)).order_by(history.c.at, history.c.id)
        else:
            query = sa.select(history).where(history.c.review_id == review_id).order_by(history.c.seq)
        previous, updates = GENESIS, []
        for number, row in enumerate(connection.execute(query).mappings(), start=1):
            seq = row["seq"] if review_id is not None else number
            row_hash = _hash(key, {**row, "seq": seq, "prev_hash": previous})
            updates.append({"row_id": row["id"], "new_seq": seq, "new_prev_hash": previous, "new_hash": row_hash})
            previous = row_hash
        if not updates:
            continue
        connection.execute(
            history.update().where(history.c.id == sa.bindparam("row_id")).values(
                seq=sa.bindparam("new_seq"), prev_hash=sa.bindparam("new_prev_hash"), hash=sa.bindparam("new_hash")),
            updates,
        )
        connection.execute(heads.insert().values(chain=review_id or ADMINISTRATION, seq=updates[-1]["new_seq"], hash=previous))

    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('uq_history_administration_seq', ['seq'], unique=True, sqlite_where=sa.text('review_id IS NULL'), postgresql_where=sa.text('review_id IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('history', schema=None) as batch_op:
        batch_op.drop_index('uq_history_administration_seq', sqlite_where=sa.text('review_id IS NULL'), postgresql_where=sa.text('review_id IS NULL'))
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    op.execute("UPDATE history SET seq = 0 WHERE review_id IS NULL")
    op.drop_table('history_heads')

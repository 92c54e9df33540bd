"""The history as hash chains: each row carries the hash of the one before, so tampering shows.

There is one chain per review (its rows numbered 1, 2, ... by `seq`) and one for the rows not about
a review (user administration, partnerships, agencies, reports): the "administration" chain. A row's
hash is an HMAC-SHA256, keyed from DHR_SECRET_KEY, over its content, its number and the hash of the
row before it (GENESIS for the first row). `history_heads` keeps each chain's last number and hash.

Why keyed: with a plain SHA-256 anyone could check the chain, but anyone able to write to the database
could also recompute every hash after changing a row. With the key, a changed, inserted or renumbered
row can only be given a valid hash by someone who also has the server's secret. The price: checking
needs the same DHR_SECRET_KEY the rows were written with (it already signs sign-in tokens, so it is
not rotated lightly), and someone with the database alone can delete the newest rows of a chain and
wind its head back to match. A copy of the heads that `dhr verify-history` prints, kept somewhere
else (a ticket, a log), catches that too: a chain's row N must keep the hash it had.

`verify` names each problem: a row edited, deleted, inserted or out of order.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import get_settings

GENESIS = "0" * 64  # the prev_hash of a chain's first row
ADMINISTRATION = "administration"  # the chain key (in history_heads) of the rows not about a review
SEARCH = 50  # how far from its number a renumbered row is looked for; further, it counts as changed
CONTENT = ("review_id", "seq", "entity_type", "entity_id", "event", "from_state", "to_state", "on", "at",
           "actor_id", "actor_name", "data", "changes", "note", "prev_hash")


# -- the hash: migrations/versions/0006_history_chain.py keeps a frozen copy; change both or neither ----

def key(secret: str | None = None) -> bytes:
    """The history's own key, derived from the secret so that no other use of the secret (token
    digests, calendar links) ever yields a valid history hash."""
    return hmac.new((secret or get_settings().secret_key).encode(), b"dhr history chain v1", hashlib.sha256).digest()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # SQLite hands back naive UTC, PostgreSQL the session's zone: hash the same instant either way.
        value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical(row: Mapping[str, Any]) -> bytes:
    """The row's content as bytes: JSON with sorted keys and no spaces, dates ISO, timestamps ISO in UTC.
    Round-tripped through JSON first, as the database round-trips data and changes (tuples become
    lists, keys become strings), so the hash written equals the hash read back."""
    content = json.loads(json.dumps({name: _plain(row[name]) for name in CONTENT}))
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(secret_key: bytes, row: Mapping[str, Any]) -> str:
    return hmac.new(secret_key, canonical(row), hashlib.sha256).hexdigest()


def content_of(entry: Any, **override: Any) -> dict[str, Any]:
    return {**{name: getattr(entry, name) for name in CONTENT}, **override}


# -- checking --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    chain: str  # the review's reference, or "administration"
    seq: int | None  # the row concerned (the first of a range); None for the chain as a whole
    what: str  # in words, e.g. "row 12 of DHR-2026-CAMCITY-001 was edited"

    def __str__(self) -> str:
        return self.what


@dataclass
class ChainReport:
    name: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    head: tuple[int, str] | None = None  # (last number, last hash) as history_heads records them


def verify(session: Session, progress: Callable[[ChainReport], None] | None = None) -> list[Problem]:
    """Check every chain; an empty list means the history is intact. `progress` hears of each chain.

    On PostgreSQL the check must read one snapshot (a row committed between reading a chain and
    reading its head would look inserted): given a session that has not begun, it reads at
    REPEATABLE READ; a caller with a transaction open must have begun it at that level or stricter.
    SQLite transactions begin IMMEDIATE here (app.core.db), which is a snapshot already."""
    import app.models  # noqa: F401  every mapper, so that Review's relationships resolve in a bare process
    from app.audit.models import HistoryEntry, HistoryHead
    from app.reviews.models import Review

    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    secret = key()
    references = dict(session.execute(select(Review.id, Review.reference)).tuples().all())
    heads = {chain: (seq, hash_) for chain, seq, hash_ in session.execute(select(HistoryHead.chain, HistoryHead.seq, HistoryHead.hash))}
    # The administration chain first, then the reviews by reference: the same order on both databases.
    rows = session.execute(
        select(HistoryEntry).outerjoin(Review, Review.id == HistoryEntry.review_id)
        .order_by(HistoryEntry.review_id.is_not(None), Review.reference, HistoryEntry.review_id, HistoryEntry.seq)
        .execution_options(yield_per=2000)
    ).scalars()
    problems: list[Problem] = []
    seen: set[str] = set()

    def check(chain: str, chain_rows: list) -> None:
        seen.add(chain)
        name = ADMINISTRATION if chain == ADMINISTRATION else references.get(chain, f"the deleted review {chain}")
        report = ChainReport(name, len(chain_rows), check_chain(name, chain_rows, heads.get(chain), secret), heads.get(chain))
        problems.extend(report.problems)
        if progress:
            progress(report)

    for review_id, chain_rows in groupby(rows, key=lambda r: r.review_id):
        check(review_id or ADMINISTRATION, list(chain_rows))
    # Chains with no rows left: a head whose rows were all deleted, or a review without any history
    # (creating a review writes its first row).
    for chain in sorted((set(heads) | set(references)) - seen, key=lambda c: (c != ADMINISTRATION, references.get(c, c))):
        check(chain, [])
    return problems


def _rows(first: int, last: int) -> str:
    return f"row {first}" if first == last else f"rows {first} to {last}"


def _gaps(taken: set[int], upto: int) -> list[tuple[int, int]]:
    """The runs of numbers from 1 to upto not taken: {1, 2, 5}, 7 -> [(3, 4), (6, 7)]. Arithmetic, not a
    set of every number, as a tampered head may claim any number of rows."""
    gaps, expected = [], 1
    for n in sorted(taken):
        if n > expected:
            gaps.append((expected, n - 1))
        expected = n + 1
    if upto >= expected:
        gaps.append((expected, upto))
    return gaps


def _holds(secret: bytes, row: Any, seq: int) -> bool:
    return bool(row.hash) and hmac.compare_digest(row_hash(secret, content_of(row, seq=seq)), row.hash)


def check_chain(name: str, rows: list, head: tuple[int, str] | None, secret: bytes) -> list[Problem]:
    """One chain's problems. `rows` in the order of their numbers, `head` (last number, last hash)."""
    of = name if name != ADMINISTRATION else "the administration history"
    found: list[tuple[int, str]] = []
    if head is None:
        found.append((0, f"the head record of {of} is missing (deleted)" if rows else f"{of} has no history at all (deleted)"))
    head_seq, head_hash = head or (0, None)

    # Where each row belongs. Its hash covers its number, so a row in place proves it at once, and a
    # renumbered row still proves its old number: the one after its predecessor's, or one nearby.
    position: dict[int, int] = {}  # id(row) -> its place in the chain
    for row in rows:
        if row.seq >= 1 and _holds(secret, row, row.seq):
            position[id(row)] = row.seq
    taken = set(position.values())
    place_of = {r.hash: position[id(r)] for r in rows if id(r) in position}
    changed, copies = [], []
    for row in rows:
        if id(row) in position:
            continue
        after = 0 if row.prev_hash == GENESIS else place_of.get(row.prev_hash)
        near = [after + 1] if after is not None else []
        near += [row.seq + d * sign for d in range(1, SEARCH + 1) for sign in (-1, 1)]
        seq = next((n for n in near if n >= 1 and _holds(secret, row, n)), None)
        if seq is None:
            changed.append(row)
        elif seq in taken:
            copies.append((row, seq))
        else:
            position[id(row)], place_of[row.hash] = seq, seq
            taken.add(seq)

    # A changed row that the next row (or the head) still links to was edited in place: walk back
    # from those links. A changed row that nothing links to was inserted.
    changed_by_hash: dict[str | None, list] = {}
    for row in changed:
        changed_by_hash.setdefault(row.hash, []).append(row)
    links = [(r.prev_hash, position[id(r)] - 1) for r in rows if id(r) in position]
    links += [(head_hash, head_seq)] if head else []
    edited = []
    while links:
        link, place = links.pop()
        if not changed_by_hash.get(link) or place < 1 or place in taken:
            continue
        row = changed_by_hash[link].pop(0)
        position[id(row)] = place
        taken.add(place)
        edited.append(row)
        links.append((row.prev_hash, place - 1))
    changed = [row for row in changed if id(row) not in position]

    upto = max(taken | {head_seq})
    for row in changed:
        if 1 <= row.seq <= upto and row.seq not in taken:  # replaced, hash and all, where a row is missing: an edit
            taken.add(row.seq)
            found.append((row.seq, f"row {row.seq} of {of} was edited"))
        else:
            found.append((row.seq, f"row {row.seq} of {of} was inserted"))
    for row, original in copies:
        found.append((row.seq, f"row {row.seq} of {of} was inserted (a copy of row {original})"))
    for row in edited:
        found.append((row.seq, f"row {row.seq} of {of} was edited"))
    for first, last in _gaps(taken, upto):
        found.append((first, f"{_rows(first, last)} of {of} {'is' if first == last else 'are'} missing (deleted)"))

    # Rows out of place: rows that swapped numbers among themselves are out of order; rows shifted
    # (to close the gap of a deletion, or make room for an insertion) were renumbered.
    moved = {r.seq: position[id(r)] for r in rows if id(r) in position and position[id(r)] != r.seq}
    in_cycle: set[int] = set()
    for start in sorted(moved):
        cycle, seq = [start], moved[start]
        while seq in moved and seq not in cycle:
            cycle.append(seq)
            seq = moved[seq]
        if seq == start and start not in in_cycle:
            in_cycle.update(cycle)
            numbers = sorted(cycle)
            listed = ", ".join(str(n) for n in numbers[:-1]) + f" and {numbers[-1]}"
            found.append((numbers[0], f"rows {listed} of {of} are out of order"))
    runs: list[list[tuple[int, int]]] = []
    for place, seq in sorted((place, seq) for seq, place in moved.items() if seq not in in_cycle):
        if runs and runs[-1][-1] == (place - 1, seq - 1):
            runs[-1].append((place, seq))
        else:
            runs.append([(place, seq)])
    for run in runs:
        (first, now_first), (last, now_last) = run[0], run[-1]
        found.append((first, f"{_rows(first, last)} of {of} {'was' if len(run) == 1 else 'were'} renumbered (now {_rows(now_first, now_last)})"))

    # Whatever the diagnosis, the chain is intact only if it links up exactly: numbers 1..n, each
    # row's hash its own, each row pointing at the one before, the head at the last.
    if not found:
        previous = GENESIS
        for number, row in enumerate(rows, start=1):
            if row.seq != number or row.prev_hash != previous or position.get(id(row)) != number:
                found.append((number, f"{of} does not link up at row {number}"))
                break
            previous = row.hash
        else:
            if (head_seq, head_hash) != (len(rows), previous):
                found.append((len(rows), f"the head record of {of} does not match its last row (it was altered)"))
    return [Problem(name, seq or None, what) for seq, what in sorted(found, key=lambda f: f[0])]

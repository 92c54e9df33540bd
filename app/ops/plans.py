"""Query plans: catch the SQL a piece of work runs and ask PostgreSQL how it would run each statement.

Used by tests/test_query_plans.py (every list filter, the deadline sweep and the mail dispatcher must
reach the big tables through an index) and meant for the benchmarks to print the same plans.

    with capture(engine) as statements:
        do_the_work()
    for statement in statements:
        plan = explain(engine, statement)
        print(plan.text); assert not plan.seq_scans

`explain` sets `enable_seqscan = off` (for its own transaction only) unless told not to: a sequential
scan is then chosen only when no index can serve the query, so the answer does not depend on how many
rows a test database holds.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Tables that grow with the number of reviews and the years of use: reading one whole is a defect.
BIG_TABLES = ("reviews", "deadlines", "imrs", "chronology_entries", "actions", "history", "outbox")
_SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass
class Statement:
    sql: str
    parameters: Any


@dataclass
class Plan:
    statement: Statement
    text: str
    seq_scans: list[str] = field(default_factory=list)  # the big tables this plan reads whole


@contextmanager
def capture(engine: Engine) -> Iterator[list[Statement]]:
    """Every read (SELECT) the engine runs inside the block, with its parameters as the driver got them."""
    statements: list[Statement] = []

    def before(conn, cursor, sql, parameters, context, executemany):
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head in ("SELECT", "WITH") and not executemany:
            statements.append(Statement(sql, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def explain(engine: Engine, statement: Statement, *, force_index: bool = True, tables: tuple[str, ...] = BIG_TABLES) -> Plan:
    """PostgreSQL's plan for one captured statement (EXPLAIN, not run), and the big tables it scans whole."""
    if engine.dialect.name != "postgresql":
        raise ValueError("Query plans are read from PostgreSQL; set DHR_DATABASE_URL to a PostgreSQL database.")
    with engine.connect() as conn:
        if force_index:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = conn.exec_driver_sql(f"EXPLAIN {statement.sql}", statement.parameters).all()
        conn.rollback()
    text = "\n".join(row[0] for row in rows)
    return Plan(statement, text, [t for t in _SEQ_SCAN.findall(text) if t in tables])


def explain_all(engine: Engine, statements: list[Statement], **kwargs) -> list[Plan]:
    """Each distinct statement's plan once (a list runs the same SELECT for many keys only with other parameters)."""
    seen: set[str] = set()
    plans = []
    for statement in statements:
        if statement.sql in seen:
            continue
        seen.add(statement.sql)
        plans.append(explain(engine, statement, **kwargs))
    return plans


def report(title: str, plans: list[Plan]) -> str:
    """The plans as text for a benchmark's output or a test run with -s."""
    lines = [f"== {title}"]
    for plan in plans:
        lines += ["-- " + " ".join(plan.statement.sql.split())[:400], plan.text, ""]
    return "\n".join(lines)

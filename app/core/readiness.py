"""/readyz: ready to serve when the database answers and its schema is the one this code was written for.

The migrations' head is read once, at start-up (it is part of the code); the database's revision is
read on every call, one row of alembic_version, so a load balancer can ask as often as it likes.
"""
from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.responses import JSONResponse

from app.core.db import get_engine
from app.core.migrate import alembic_config


def migrations_head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:  # two branches: the code itself is inconsistent
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): merge them")
    return heads[0]


def unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503, headers={"Retry-After": "5"})


def check(head: str) -> JSONResponse:
    try:
        with get_engine().connect() as conn:
            try:
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            except Exception:  # reachable, but never migrated (no alembic_version table)
                conn.rollback()
                conn.execute(text("SELECT 1"))
                current = []
            conn.rollback()
    except Exception as exc:  # report, don't crash: this is what a load balancer asks
        return unavailable(f"The database cannot be reached ({type(exc).__name__}).")
    if current != [head]:
        found = ", ".join(current) or "none (an empty database)"
        return unavailable(f"The database schema is at revision {found}; this code needs {head}: run `dhr migrate`.")
    return JSONResponse({"status": "ready", "schema": head})

"""The `dhr` command: serve, migrate, create-user, sweep, demo."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

app = typer.Typer(help="Domestic Homicide Review case management.", no_args_is_help=True, add_completion=False)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, help="Worker processes"),
) -> None:
    """Serve the web interface and API, with the deadline sweep running."""
    import uvicorn

    typer.echo(f"Serving on http://{host}:{port} (API docs at /api/docs); deadline sweep running.")
    uvicorn.run("app.asgi:application", host=host, port=port, workers=workers, proxy_headers=True)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    from app.core.config import get_settings
    from app.core.migrate import upgrade

    url = get_settings().database_url
    typer.echo(f"Migrating {_safe(url)} ...")
    upgrade()
    typer.echo("Database schema is up to date.")


@app.command("create-user")
def create_user(
    email: str = typer.Option(...),
    name: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    role: str = typer.Option(..., help="admin, csp_coordinator, csp_chair, imr_author, agency_manager or home_office"),
    csp: Optional[str] = typer.Option(None, help="The partnership's code, for csp_* roles"),
    agency: Optional[str] = typer.Option(None, help="The agency's name, for imr_author and agency_manager"),
) -> None:
    """Create a user with one role."""
    from pydantic import ValidationError
    from sqlalchemy import select

    from app.auth import service
    from app.auth.schemas import RoleIn
    from app.core.db import session_scope
    from app.core.errors import DomainError
    from app.partnerships.models import Agency, Csp

    try:
        with session_scope() as session:
            csp_id = agency_id = None
            if csp:
                row = session.scalars(select(Csp).where(Csp.code == csp)).one_or_none()
                if row is None:
                    raise DomainError(f"There is no partnership with the code {csp}.")
                csp_id = row.id
            if agency:
                row = session.scalars(select(Agency).where(Agency.name == agency)).one_or_none()
                if row is None:
                    raise DomainError(f"There is no agency called {agency!r}.")
                agency_id = row.id
            user = service.create_user(
                session, email=email, name=name, password=password,
                roles=[RoleIn(role=role, csp_id=csp_id, agency_id=agency_id)], actor=None,
            )
            typer.echo(f"Created user {user.email} with role {role}.")
    except (DomainError, ValidationError) as exc:
        typer.echo(f"Not created: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(code=1)


@app.command()
def sweep(
    on: Optional[str] = typer.Option(None, help="Run as of this date (YYYY-MM-DD); default today"),
    every: Optional[int] = typer.Option(None, help="Repeat every N seconds (a sweep worker)"),
) -> None:
    """Run the deadline sweep: record overdue deadlines (and, with alerts, send their emails)."""
    import time

    from app.core import clock
    from app.core.db import session_scope
    from app.deadlines.sweep import sweep as run_sweep

    day = _date(on) if on else None
    while True:
        if day:
            clock.set_today(day)
        with session_scope() as session:
            result = run_sweep(session, clock.today())
        typer.echo(f"Sweep as of {result.on.isoformat()}: {result.became_overdue} deadline(s) became overdue, {result.back_to_pending} back in time.")
        if not every:
            return
        time.sleep(every)


@app.command()
def demo(if_new: bool = typer.Option(False, "--if-new", help="Only when the database has no users yet")) -> None:
    """Load a demonstration county: partnerships, agencies, users and a dozen reviews (invented people)."""
    from app.demo import load_demo

    load_demo(only_if_new=if_new, echo=typer.echo)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{value!r} is not a date: write it as YYYY-MM-DD.", err=True)
        raise typer.Exit(code=2)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()

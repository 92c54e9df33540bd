"""The `dhr` command: serve, migrate, create-user, sweep, check-heartbeat, demo, template, verify-history, backup, restore, check-restore, purge."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path
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
    import os
    import shutil

    import uvicorn

    from app.core import metrics_dir
    from app.core.config import get_settings
    from app.core.logs import log_config
    from app.core.serving import serve_workers

    # Each worker's request metrics go to files here, summed at each scrape (prometheus-client's
    # multiprocess mode). Set before anything imports prometheus_client: it reads the variable then.
    own_dir = None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else metrics_dir.fresh()
    if own_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(own_dir)
    # At most two glibc malloc arenas per worker, not one per thread (requests run on up to 40 threads):
    # a worker's peak memory under the benchmark's load fell from about 315 to 250 MB. glibc reads it when
    # a process starts, so it reaches the worker processes started below (the Dockerfile sets it too).
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    sweeping = "deadline sweep running" if get_settings().sweep_in_serve else "deadline sweep left to `dhr sweep` (DHR_SWEEP_IN_SERVE=false)"
    typer.echo(f"Serving on http://{host}:{port}: sign in at / (API docs at /api/docs); {sweeping}.", err=True)  # stdout holds only log lines
    try:
        # uvicorn's access log is off: app/core/observe.py writes one line per request by route template instead.
        options = dict(host=host, port=port, workers=workers, proxy_headers=True, log_config=log_config(get_settings().log_style), access_log=False)
        if workers > 1:
            serve_workers(uvicorn.Config("app.asgi:application", **options))  # each worker on a socket of its own
        else:
            uvicorn.run("app.asgi:application", **options)
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)


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
    from app.partnerships.models import Agency

    try:
        with session_scope() as session:
            csp_id = agency_id = None
            if csp:
                csp_id = _csp(session, csp).id
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
    heartbeat: Optional[Path] = typer.Option(None, help="Touch this file after each round (for `dhr check-heartbeat`)"),
    processes: int = typer.Option(0, help="Processes sweeping batches of reviews at once on PostgreSQL (default: one per CPU)"),
) -> None:
    """Sweep the deadlines (record overdue ones, queue their alert emails) and send waiting mail."""
    import os
    import time

    from app.core import clock
    from app.notifications.worker import run_once
    from app.ops import heartbeat as life

    day = _date(on) if on else None
    if heartbeat:
        life.clear(heartbeat)
    while True:
        if day:
            clock.set_today(day)
        # A failed round ends the worker; its supervisor restarts it.
        run_once(clock.today(), echo=typer.echo, processes=processes or os.cpu_count() or 1)
        if heartbeat:
            life.beat(heartbeat)
        if not every:
            return
        time.sleep(every)


@app.command("readiness-refresh")
def readiness_refresh(
    processes: int = typer.Option(0, help="Processes working in parallel (default: one per CPU)"),
) -> None:
    """Work out the kept readiness result of every review near submission or publication that lacks a current one (after a deploy)."""
    import os

    from app.documents.readiness_refresh import refresh

    counts = refresh(processes or os.cpu_count() or 1, progress=lambda line: typer.echo(f"readiness: {line}"))
    typer.echo(f"readiness: done in {counts['seconds']} s: {counts['worked_out']} worked out, {counts['current']} already current, "
               f"of {counts['reviews']} reviews")


@app.command("check-heartbeat")
def check_heartbeat(
    path: Path = typer.Argument(..., help="The file `dhr sweep --heartbeat` touches"),
    within: Optional[int] = typer.Option(None, help="Seconds allowed since the last round (default: twice DHR_SWEEP_INTERVAL_SECONDS, plus a minute)"),
) -> None:
    """Exit 0 if a sweep worker finished a round recently, 1 saying why not (a container health check)."""
    from app.core.config import get_settings
    from app.ops import heartbeat as life

    problem = life.problem(path, within if within is not None else life.allowance(get_settings().sweep_interval_seconds))
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(code=1)
    typer.echo("The sweep worker is alive.")


@app.command()
def demo(if_new: bool = typer.Option(False, "--if-new", help="Only when the database has no users yet")) -> None:
    """Load a demonstration county: partnerships, agencies, users and a dozen reviews (invented people)."""
    from app.demo import load_demo

    load_demo(only_if_new=if_new, echo=typer.echo)


@app.command("verify-history")
def verify_history() -> None:
    """Check the history's hash chains: names every row edited, deleted, inserted or out of order (exit code 1)."""
    from app.audit.chain import ChainReport, verify
    from app.core.db import get_sessionmaker

    totals = {"chains": 0, "rows": 0}

    def progress(report: ChainReport) -> None:
        totals["chains"] += 1
        totals["rows"] += report.rows
        state = "intact" if not report.problems else f"{len(report.problems)} problem{'s' if len(report.problems) > 1 else ''}"
        # The head, to keep elsewhere: a later run whose row N has another hash shows rows deleted and the head wound back.
        head = f", head: row {report.head[0]} {report.head[1][:16]}" if report.head else ""
        typer.echo(f"{report.name}: {report.rows} rows, {state}{head}")

    # Read only: rolled back at the end (a fresh session, so verify reads one snapshot).
    with get_sessionmaker()() as session:
        problems = verify(session, progress=progress)
        session.rollback()
    summary = f"{totals['chains']} chains, {totals['rows']} rows"
    if not problems:
        typer.echo(f"The history is intact: {summary}.")
        return
    typer.echo(f"The history has been tampered with: {len(problems)} problem{'s' if len(problems) > 1 else ''} in {summary}:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    if totals["rows"] and len(problems) >= totals["rows"]:
        typer.echo("Every row fails its check: is DHR_SECRET_KEY the key the history was written with?", err=True)
    raise typer.Exit(code=1)


template_app = typer.Typer(help="The Word templates documents are made from: export, check, replace, reset.", no_args_is_help=True)
app.add_typer(template_app, name="template")
KINDS_HELP = "imr, overview_report, executive_summary, action_plan, decision_letter, imr_commission_letter or home_office_cover_letter"


@template_app.command("export")
def template_export(
    kind: str = typer.Argument(..., help=KINDS_HELP),
    out: Path = typer.Option(..., "--out", help="Where to write the .docx"),
    csp: Optional[str] = typer.Option(None, help="The partnership's code: its template in force (default: the statutory one)"),
) -> None:
    """Write a template to a file, to re-brand it in Word."""
    from app.core.db import session_scope
    from app.documents import templates

    with _template_errors(), session_scope() as session:
        templates.require_kind(kind)
        template = templates.in_force(session, _csp(session, csp).id, kind) if csp else templates.statutory(kind)
        out.write_bytes(template.content)
    typer.echo(f"Wrote the {template.source} {kind} template ({len(template.content):,} bytes, sha256 {template.sha256[:12]}) to {out}.")


@template_app.command("check")
def template_check(kind: str = typer.Argument(..., help=KINDS_HELP), file: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Try a template against an invented review without installing it."""
    from app.documents import templates

    with _template_errors():
        templates.require_kind(kind)
        templates.check(kind, file.read_bytes())
    typer.echo(f"{file} renders as a {kind} in every variant: it can be installed with `dhr template replace`.")


@template_app.command("replace")
def template_replace(
    kind: str = typer.Argument(..., help=KINDS_HELP),
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    csp: str = typer.Option(..., help="The partnership's code"),
) -> None:
    """Use a partnership's own copy of a template from now on (refused if it cannot render)."""
    from app.core.db import session_scope
    from app.documents import templates

    with _template_errors(), session_scope() as session:
        row = templates.replace(session, csp_id=_csp(session, csp).id, kind=kind, content=file.read_bytes(), user=None)
        session.flush()
        version = row.version
    typer.echo(f"{csp} now makes its {kind} documents from {file} (its template version {version}).")


@template_app.command("reset")
def template_reset(kind: str = typer.Argument(..., help=KINDS_HELP), csp: str = typer.Option(..., help="The partnership's code")) -> None:
    """Go back to the statutory template; the partnership's earlier copies stay on record."""
    from app.core.db import session_scope
    from app.documents import templates

    with _template_errors(), session_scope() as session:
        templates.reset(session, csp_id=_csp(session, csp).id, kind=kind, user=None)
    typer.echo(f"{csp} makes its {kind} documents from the statutory template again.")


# -- backup, restore and the restore check (app/ops) ----------------------------------------------
@app.command()
def backup(to: Optional[Path] = typer.Option(None, "--to", help="A file, or a folder for dhr-backup-YYYYMMDD-HHMMSS.* (default ./var/backups)")) -> None:
    """Back up the whole database, documents included, with a manifest (rows per table, SHA-256) beside it."""
    from app.core.config import get_settings
    from app.ops import backup as ops

    with _ops_errors():
        ops.backup(get_settings().database_url, to, echo=typer.echo)


@app.command()
def restore(
    path: Path = typer.Argument(..., help="The backup file; its .manifest.json must be beside it"),
    yes: bool = typer.Option(False, "--yes", help="Overwrite a database that holds data"),
) -> None:
    """Replace the database with a backup (checked against its manifest first), then run the restore check."""
    from app.core.config import get_settings
    from app.ops import backup as ops

    with _ops_errors():
        result = ops.restore(get_settings().database_url, path, yes=yes, echo=typer.echo)
    if result.migrate_needed:  # the check needs the code's schema: it runs after `dhr migrate`
        for problem in result.problems:
            typer.echo(f"PROBLEM: {problem}")
        typer.echo("Restore check not run yet: run `dhr migrate`, then `dhr check-restore`.")
        raise typer.Exit(code=1)
    _report(result.problems)


@app.command("check-restore")
def check_restore() -> None:
    """Check every stored file against its SHA-256 and verify the history chain; exit 1 naming each problem."""
    from app.core.config import get_settings
    from app.ops import backup as ops

    with _ops_errors():
        problems = ops.check_database(get_settings().database_url, echo=typer.echo)
    _report(problems)


@app.command()
def purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what is due and would be deleted; delete nothing"),
    on: Optional[str] = typer.Option(None, help="As of this date (YYYY-MM-DD); default today. A later date only with --dry-run"),
) -> None:
    """Delete the reviews whose retention period has run out (never one on legal hold), recording each in the history.

    Exit codes: 0 done (or nothing due); 1 a review could not be deleted (the others were); 2 a bad --on."""
    from app.core import clock
    from app.core.db import get_engine
    from app.ops import purge as ops

    day = _date(on) if on else clock.today()
    if day > clock.today() and not dry_run:
        typer.echo(f"--on {day.isoformat()} is after today ({clock.today().isoformat()}): deleting what is only due later is refused. "
                   "Add --dry-run to see what will be due then.", err=True)
        raise typer.Exit(code=2)
    outcome = ops.run(get_engine(), on=day, dry_run=dry_run, echo=typer.echo)
    if outcome.failed:
        raise typer.Exit(code=1)


def _report(problems: list[str]) -> None:
    for problem in problems:
        typer.echo(f"PROBLEM: {problem}")
    if problems:
        typer.echo(f"Restore check FAILED: {len(problems)} problem(s).")
        raise typer.Exit(code=1)
    typer.echo("Restore check passed.")


@contextmanager
def _ops_errors():
    from app.ops.backup import BackupError

    try:
        yield
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1)


@contextmanager
def _template_errors():
    from app.core.errors import DomainError

    try:
        yield
    except DomainError as exc:
        typer.echo(f"Refused: {exc.detail.removeprefix('file: ')}", err=True)
        raise typer.Exit(code=1)


def _csp(session, code: str):
    from sqlalchemy import select

    from app.core.errors import DomainError
    from app.partnerships.models import Csp

    row = session.scalars(select(Csp).where(Csp.code == code)).one_or_none()
    if row is None:
        raise DomainError(f"There is no partnership with the code {code}. `GET /api/v1/csps` lists them.")
    return row


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

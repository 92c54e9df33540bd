"""`dhr backup` and `dhr restore`: the whole database (documents live in it) to one file and back.

SQLite: SQLite's online backup API, a consistent copy while the app keeps running. PostgreSQL:
pg_dump's custom format (-Fc), taken in a snapshot the row counts are read in too. Each backup has a
manifest beside it (`<file>.manifest.json`): when, what database, the schema's Alembic revision,
rows per table and the file's SHA-256, which a restore checks before it touches anything.
"""
from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from app.core.config import PROJECT_ROOT, get_settings
from app.core.db import build_engine
from app.core.migrate import alembic_config
from app.models import Base
from app.ops import check

Echo = Callable[[str], None]
FORMAT = "dhr-backup/1"
DEFAULT_DIR = PROJECT_ROOT / "var" / "backups"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Refused or failed, with what to do next; the database is as it was."""


# -- small helpers ---------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".manifest.json")


def safe(url: URL | str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups are for SQLite and PostgreSQL databases, not {backend}.")
    return backend


def revisions() -> tuple[str, set[str]]:
    """The code's newest schema revision, and every revision it knows."""
    script = ScriptDirectory.from_config(alembic_config())
    return script.get_current_head(), {s.revision for s in script.walk_revisions()}


def counts(conn: Connection) -> dict[str, int]:
    names = sorted(inspect(conn).get_table_names())
    return {name: conn.scalar(select(func.count()).select_from(table(name))) for name in names}


def revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def data_rows(tables: dict[str, int]) -> int:
    return sum(n for name, n in tables.items() if name != "alembic_version")


def describe(tables: dict[str, int]) -> str:
    """The rows a person recognises first, then the total."""
    shown = [f"{tables[name]:,} {one if tables[name] == 1 else many}" for name, one, many in (
        ("reviews", "review", "reviews"), ("documents", "document", "documents"),
        ("history", "history entry", "history entries"), ("users", "user", "users"),
    ) if name in tables]
    return ", ".join(shown + [f"{data_rows(tables):,} rows in {len(tables)} tables in all"])


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored: set DHR_DATABASE_URL to a file.")
    return Path(database)


def sqlite_readonly(path: Path) -> sqlite3.Connection:
    # Read-only, so checking a backup never changes the bytes its SHA-256 was taken of.
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def engine_for(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def sqlite_readonly_engine(path: Path) -> Engine:
    return create_engine("sqlite://", creator=lambda: sqlite_readonly(path), poolclass=NullPool)


# -- PostgreSQL client programs --------------------------------------------------------------------

@dataclass
class Tool:
    path: str
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def _version(program: str) -> str | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    match = re.search(r"(\d+(?:\.\d+)?)", out)
    return match.group(1) if match else None


def pg_tool(name: str, at_least: int, server: str) -> Tool:
    """The PostgreSQL client program closest to the server's major version, never older than `at_least`.

    pg_dump refuses a server newer than itself, and pg_restore an archive from a newer pg_dump, so an
    older client is no use; a newer one works. Debian keeps each version in /usr/lib/postgresql/N/bin.
    """
    configured = get_settings().pg_bin_dir
    dirs = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    candidates = [str(Path(d) / name) for d in dirs if (Path(d) / name).exists()]
    if not configured and shutil.which(name):
        candidates.append(shutil.which(name))
    found = [Tool(path, v) for path in candidates if (v := _version(path))]
    usable = sorted((t for t in found if t.major >= at_least), key=lambda t: t.major)
    if not usable:
        seen = "; ".join(f"{t.path} is {t.version}" for t in found) or "none is installed"
        raise BackupError(
            f"{name} {at_least} or later is needed for this PostgreSQL {server} database ({seen}). Install the client "
            f"programs of that version (Debian: apt-get install postgresql-client-{at_least}) or point DHR_PG_BIN_DIR at them."
        )
    return usable[0]


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump and friends, and an environment carrying the password (never printed)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def server_version(conn: Connection) -> str:
    return conn.scalar(text("SHOW server_version")).split()[0]


def _note_versions(echo: Echo, tool: Tool, server: str) -> None:
    echo(f"PostgreSQL server {server}; using {Path(tool.path).name} {tool.version} ({tool.path}).")
    if tool.major != int(server.split(".")[0]):
        echo(f"Note: {Path(tool.path).name} {tool.major} is newer than the server ({server.split('.')[0]}); that works, an older one would not.")


# -- backup ----------------------------------------------------------------------------------------

def backup(url: str, to: Path | None, echo: Echo) -> Path:
    kind = kind_of(url)
    stamp = dt.datetime.now(dt.timezone.utc)
    name = f"dhr-backup-{stamp.astimezone():%Y%m%d-%H%M%S}.{'sqlite3' if kind == 'sqlite' else 'pgdump'}"
    target = (to / name if to.is_dir() else to) if to else DEFAULT_DIR / name
    if target.exists():
        raise BackupError(f"{target} already exists: give another --to, or move it away first.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")  # renamed only once whole and checked
    echo(f"Backing up {safe(url)} to {target} ...")
    started = time.monotonic()
    try:
        facts = (_backup_sqlite if kind == "sqlite" else _backup_postgres)(url, partial, echo)
        os.chmod(partial, 0o600)  # the whole case file, OFFICIAL-SENSITIVE: its owner alone may read it
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    echo("Taking the backup's SHA-256 ...")
    size = target.stat().st_size
    manifest = {
        "format": FORMAT,
        "created_at": stamp.replace(microsecond=0).isoformat(),
        "database": kind,
        "source": safe(url),
        **facts,
        "rows": data_rows(facts["tables"]),
        "file": target.name,
        "bytes": size,
        "sha256": sha256_of(target),
    }
    manifest_path(target).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    echo(f"Backup: {target} ({size_text(size)}, sha256 {manifest['sha256']}), in {time.monotonic() - started:.1f} s.")
    echo(f"It holds {describe(facts['tables'])}, at schema revision {facts['alembic_revision']}.")
    echo(f"Manifest: {manifest_path(target)}. Keep both files together, and a copy away from this machine.")
    return target


def _backup_sqlite(url: str, out: Path, echo: Echo) -> dict:
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"There is no database at {source}: nothing to back up.")
    echo("Copying with SQLite's online backup API (a consistent copy; the app may keep running) ...")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)
        # One self-contained file (no -wal beside it), which a restore can open read-only.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    echo("Checking the copy (PRAGMA integrity_check) ...")
    engine = sqlite_readonly_engine(out)
    try:
        with engine.connect() as conn:
            result = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise BackupError(f"The copy failed SQLite's integrity check ({'; '.join(result[:5])}); no backup was written. Is the database itself damaged? Run PRAGMA integrity_check on it.")
            echo("integrity_check: ok.")
            return {"sqlite_version": sqlite3.sqlite_version, "tool": "sqlite3 online backup API",
                    "alembic_revision": revision(conn), "tables": counts(conn)}
    finally:
        engine.dispose()


def _backup_postgres(url: str, out: Path, echo: Echo) -> dict:
    # pg_dump reads the very snapshot the row counts and revision are read in (one REPEATABLE READ
    # transaction), so the manifest describes exactly what was dumped even while the app writes.
    engine = engine_for(url).execution_options(isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            with conn.begin():
                server = server_version(conn)
                tool = pg_tool("pg_dump", int(server.split(".")[0]), server)
                _note_versions(echo, tool, server)
                snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
                tables, rev = counts(conn), revision(conn)
                plain, env = libpq(url)
                echo(f"Running pg_dump -Fc (custom format) of {safe(url)} ...")
                done = subprocess.run([tool.path, "-Fc", f"--snapshot={snapshot}", "-f", str(out), "-d", plain],
                                      env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise BackupError(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()}")
    finally:
        engine.dispose()
    return {"server_version": server, "tool": f"pg_dump {tool.version}", "alembic_revision": rev, "tables": tables}


# -- restore ---------------------------------------------------------------------------------------

def read_manifest(path: Path) -> dict:
    beside = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    if not beside.is_file():
        raise BackupError(f"There is no manifest beside {path} (expected {beside.name}): a backup is only restored once "
                          "its SHA-256 matches the one its manifest recorded. Nothing was restored.")
    try:
        manifest = json.loads(beside.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"{beside} is not a readable manifest ({exc}). Nothing was restored.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{beside} is not a dhr backup manifest ({FORMAT}). Nothing was restored.")
    return manifest


def target_tables(url: str) -> dict[str, int]:
    """What the database to be overwritten holds now (nothing, when it does not exist yet)."""
    if kind_of(url) == "sqlite" and not sqlite_path(url).exists():
        return {}
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return counts(conn)
    finally:
        engine.dispose()


@dataclass
class Restored:
    problems: list[str]
    migrate_needed: bool = False


def restore(url: str, path: Path, *, yes: bool, echo: Echo) -> Restored:
    kind = kind_of(url)
    manifest = read_manifest(path)
    echo(f"Checking {path.name} against its manifest (SHA-256) ...")
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise BackupError(f"{path} does not match its manifest: its SHA-256 is {actual}, the manifest says {manifest['sha256']}. "
                          "The file is damaged or is not the backup the manifest describes. Nothing was restored: the database is as it was.")
    echo(f"SHA-256 matches: {manifest['sha256']}.")
    if manifest["database"] != kind:
        raise BackupError(f"This is a {manifest['database']} backup and the configured database is {kind}: restore it into a "
                          f"{manifest['database']} database (DHR_DATABASE_URL). Nothing was restored.")

    (head, known), backup_rev = revisions(), manifest["alembic_revision"]
    if backup_rev not in known:
        raise BackupError(f"The backup's schema is at revision {backup_rev}, which this version of dhr does not know (its newest is "
                          f"{head}): it was made by a newer dhr (restore it with that version) or is not a dhr database. Nothing was restored.")

    now = target_tables(url)
    if data_rows(now) and not yes:
        raise BackupError(
            f"{safe(url)} holds data: {describe(now)}. Restoring replaces all of it with the backup made "
            f"{manifest['created_at']} ({describe(manifest['tables'])}). Nothing was restored. "
            f"To go ahead: dhr restore {path} --yes"
        )

    echo(f"Restoring {path.name} (made {manifest['created_at']}) into {safe(url)} ...")
    started = time.monotonic()
    (_restore_sqlite if kind == "sqlite" else _restore_postgres)(url, path, manifest, now, echo)
    echo(f"Restored in {time.monotonic() - started:.1f} s.")

    problems: list[str] = []
    restored = target_tables(url)
    differ = sorted(name for name, n in manifest["tables"].items() if restored.get(name) != n)
    if differ:
        problems.append(f"rows per table differ from the manifest in: {', '.join(differ)}")
    else:
        echo(f"Rows per table match the manifest ({data_rows(manifest['tables']):,} rows).")
    if backup_rev != head:
        echo(f"The backup's schema is at revision {backup_rev}; this version of dhr needs {head}.")
        return Restored(problems, migrate_needed=True)
    return Restored(problems + check_database(url, echo))


def _restore_sqlite(url: str, path: Path, manifest: dict, _now: dict, echo: Echo) -> None:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    echo("Checking the backup (PRAGMA integrity_check) before copying it in ...")
    src = sqlite_readonly(path)
    try:
        result = [row[0] for row in src.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError(f"The backup fails SQLite's integrity check ({'; '.join(result[:5])}). Nothing was restored.")
        # SQLite's backup API writes the copy into the live database as one write transaction: all or
        # nothing, and safe with WAL. Renaming a new file over the database instead would leave any
        # -wal file beside it to be replayed onto the new file (corrupting it), and every open
        # connection on the old file.
        echo("Copying into the database with SQLite's backup API (one transaction: all or nothing) ...")
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _restore_postgres(url: str, path: Path, manifest: dict, now: dict, echo: Echo) -> None:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            server = server_version(conn)
    finally:
        engine.dispose()
    dumped_by = int(re.search(r"(\d+)", manifest.get("tool", "0")).group(1))
    tool = pg_tool("pg_restore", max(int(server.split(".")[0]), dumped_by), server)
    psql = Path(tool.path).with_name("psql")
    _note_versions(echo, tool, server)
    # pg_restore --clean drops and recreates what the backup holds; an app table it does not hold (made
    # by a later migration) is dropped here, so that `dhr migrate` can bring an older backup up to date.
    extra = sorted((set(now) - set(manifest["tables"])) & set(Base.metadata.tables))
    prelude = "BEGIN;\n" + "".join(f'DROP TABLE IF EXISTS public."{name}" CASCADE;\n' for name in extra)
    if extra:
        echo(f"Tables the backup does not have, to be dropped: {', '.join(extra)}.")
    plain, env = libpq(url)
    echo("Running pg_restore --clean --if-exists --no-owner, through psql in a single transaction ...")
    # pg_restore writes the SQL and psql runs it inside our BEGIN; COMMIT is sent only when pg_restore
    # read the whole archive, so any failure (either side) leaves the old data as it was.
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        reader = subprocess.Popen([tool.path, "--clean", "--if-exists", "--no-owner", "-f", "-", str(path)],
                                  stdout=subprocess.PIPE, stderr=restore_err)
        writer = subprocess.Popen([str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", plain],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env)
        try:
            writer.stdin.write(prelude.encode())
            shutil.copyfileobj(reader.stdout, writer.stdin, CHUNK)
            if reader.wait() == 0:
                writer.stdin.write(b"COMMIT;\n")
            writer.stdin.close()
        except BrokenPipeError:  # psql stopped at an error; its message says which
            reader.kill()
        reader.stdout.close()
        reader.wait()
        writer.wait()
        errors = []
        for name, proc, err in (("pg_restore", reader, restore_err), ("psql", writer, psql_err)):
            err.seek(0)
            if proc.returncode != 0:
                errors.append(f"{name} exit {proc.returncode}: {err.read().decode(errors='replace').strip()}")
    if errors:
        raise BackupError("The restore failed and was rolled back: the database is as it was. " + " | ".join(errors))


# -- the check ------------------------------------------------------------------------------------

def check_database(url: str, echo: Echo) -> list[str]:
    echo(f"Checking {safe(url)} ...")
    kind_of(url)
    engine = build_engine(url)  # as the app opens it (on SQLite: WAL, transactions BEGIN IMMEDIATE)
    try:
        return check.run(engine, echo)
    finally:
        engine.dispose()

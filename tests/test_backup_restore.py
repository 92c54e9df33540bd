"""`dhr backup`, `dhr restore` and `dhr check-restore`, run as an administrator runs them (the
installed `dhr` command, DHR_DATABASE_URL in its environment), on SQLite and on PostgreSQL."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

import app.models  # noqa: F401  (every mapper)
from app.audit.models import HistoryEntry
from app.core.config import PROJECT_ROOT
from app.core.db import get_engine, session_scope
from app.core.migrate import alembic_config
from app.documents import pdf, templates
from app.documents.models import Document, DocumentTemplate
from app.ops.backup import manifest_path, revisions
from app.reviews.models import Review
from app.submissions.models import Submission
from tests.journey import Journey
from tests.support import ok

LETTER = b"%PDF-1.7\n% QA panel letter\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# Invented people the journey records: no check output may name them.
PEOPLE = ("Zoë", "O'Brien-Smith", "Bartholomew", "Quince", "Acacia")


def dhr(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    """The installed `dhr` command in a process of its own; stdout and stderr together in .stdout."""
    script = Path(sys.executable).with_name("dhr")
    env = {**os.environ, "DHR_ENV": "test"}
    env.pop("DHR_CLOCK_TODAY", None)
    if url:
        env["DHR_DATABASE_URL"] = url
    done = subprocess.run([str(script), *args], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    get_engine().dispose()  # the command may have dropped and recreated every table under our pool
    return done


def references() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(Review.reference)))


def stored_files() -> list[tuple[str, str | None, bytes | None]]:
    """(what, stored SHA-256, bytes) of every stored file, as the test sees them."""
    with session_scope() as session:
        rows = [(f"document {i}", s, c) for i, s, c in session.execute(select(Document.id, Document.sha256, Document.content))]
        rows += [(f"template {i}", s, c) for i, s, c in session.execute(
            select(DocumentTemplate.id, DocumentTemplate.sha256, DocumentTemplate.content).where(DocumentTemplate.content.is_not(None)))]
        for i, ls, letter, ps, package in session.execute(
                select(Submission.id, Submission.letter_sha256, Submission.letter, Submission.package_sha256, Submission.package)):
            rows += [(f"letter {i}", ls, letter), (f"package {i}", ps, package)]
    return rows


def assert_files_match_their_sha256() -> None:
    files = stored_files()
    assert files
    wrong = [what for what, sha, content in files if hashlib.sha256(content).hexdigest() != sha]
    assert not wrong, wrong


def tamper(document_id: str) -> None:
    with session_scope() as session:
        session.execute(update(Document).where(Document.id == document_id).values(content=b"PK\x03\x04 not what was stored"))


@pytest.fixture
def submitted(api, world, monkeypatch) -> Journey:
    """A review submitted to the Home Office: its documents, the package zip, the QA letter, and a
    partnership's own template, so every kind of stored file is there to back up and check."""
    monkeypatch.setattr(pdf, "soffice", lambda: None)  # .docx only: LibreOffice takes seconds a file
    j = Journey(api, world).to("submitted")
    assert j.as_("chair").get(f"/reviews/{j.id}/home-office-package").status_code == 200
    ok(j.as_("home_office").put(f"/reviews/{j.id}/submissions/1/letter", files={"file": ("letter.pdf", LETTER, "application/pdf")}))
    with session_scope() as session:
        templates.replace(session, csp_id=world.csps["CAMCITY"], kind="decision_letter",
                          content=templates.statutory("decision_letter").content, user=None)
    return j


def backup_of(tmp_path: Path, url: str | None = None) -> tuple[Path, str]:
    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)
    done = dhr("backup", "--to", str(folder), url=url)
    assert done.returncode == 0, done.stdout
    [path] = [p for p in folder.iterdir() if p.name.startswith("dhr-backup-") and not p.name.endswith(".json")]
    return path, done.stdout


def test_backup_then_restore_brings_back_what_was_backed_up(database_url, submitted, world, tmp_path):
    kind = make_url(database_url).get_backend_name()
    reference = submitted.review["reference"]
    documents = [row for row in stored_files() if row[0].startswith("document")]

    path, out = backup_of(tmp_path)
    assert path.suffix == (".sqlite3" if kind == "sqlite" else ".pgdump")
    assert ("integrity_check: ok" in out) if kind == "sqlite" else ("using pg_dump" in out and "pg_dump -Fc" in out)
    assert f"It holds 1 review, {len(documents)} documents" in out, out
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["database"] == kind
    assert manifest["alembic_revision"] == revisions()[0]
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() and manifest["sha256"] in out
    assert manifest["tables"]["reviews"] == 1 and manifest["tables"]["documents"] == len(documents)
    assert manifest["tables"]["submissions"] == 1 and manifest["tables"]["document_templates"] == 1
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    # After the backup: a new review, and a document's bytes damaged.
    Journey(submitted.api, world, csp="FENLAND")
    damaged = documents[0][0].removeprefix("document ")
    tamper(damaged)
    after = references()
    assert len(after) == 2

    # Without --yes nothing happens, and the command says what it would overwrite and how to confirm.
    refused = dhr("restore", str(path))
    assert refused.returncode == 1
    assert "holds data: 2 reviews" in refused.stdout and "(1 review," in refused.stdout
    assert f"dhr restore {path} --yes" in refused.stdout and "Nothing was restored" in refused.stdout
    assert references() == after
    with session_scope() as session:
        assert session.get(Document, damaged).content.startswith(b"PK\x03\x04 not what")

    done = dhr("restore", str(path), "--yes")
    assert done.returncode == 0, done.stdout
    assert "SHA-256 matches" in done.stdout and "Rows per table match the manifest" in done.stdout
    assert (f"Checked the SHA-256 of {len(documents)} documents, 1 partnership template, 1 QA letter, "
            "1 Home Office package: no mismatches.") in done.stdout, done.stdout
    assert "Restore check passed." in done.stdout
    assert "History chain: verifies." in done.stdout
    assert ("pg_restore --clean --if-exists --no-owner" in done.stdout) if kind == "postgresql" else ("SQLite integrity_check: ok" in done.stdout)
    assert references() == [reference], "the review added after the backup is gone"
    assert_files_match_their_sha256()
    # The service carries on from the restored data.
    assert ok(submitted.as_("chair").get(f"/reviews/{submitted.id}"))["state"] == "submitted"


def test_a_damaged_backup_is_refused_before_anything_is_touched(database_url, api, world, tmp_path):
    Journey(api, world)
    path, _ = backup_of(tmp_path)
    Journey(api, world, csp="FENLAND")
    before = references()

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(data))
    done = dhr("restore", str(path), "--yes")
    assert done.returncode == 1
    assert "does not match its manifest" in done.stdout and "Nothing was restored: the database is as it was." in done.stdout
    assert "Restoring" not in done.stdout
    assert references() == before

    # Without its manifest there is nothing to check the file against: refused too.
    manifest_path(path).unlink()
    done = dhr("restore", str(path), "--yes")
    assert done.returncode == 1 and "There is no manifest beside" in done.stdout
    assert references() == before


def test_a_backup_from_a_newer_schema_is_refused(database_url, api, world, tmp_path):
    Journey(api, world)
    path, _ = backup_of(tmp_path)
    Journey(api, world, csp="FENLAND")
    before = references()
    manifest = json.loads(manifest_path(path).read_text())
    manifest["alembic_revision"] = "9999_from_the_future"
    manifest_path(path).write_text(json.dumps(manifest))
    done = dhr("restore", str(path), "--yes")
    assert done.returncode == 1
    assert "revision 9999_from_the_future, which this version of dhr does not know" in done.stdout
    assert references() == before


def test_the_check_names_a_document_tampered_with_after_a_restore(database_url, submitted, tmp_path):
    path, _ = backup_of(tmp_path)
    assert dhr("restore", str(path), "--yes").returncode == 0
    clean = dhr("check-restore")
    assert clean.returncode == 0 and "Restore check passed." in clean.stdout, clean.stdout
    assert "no mismatches" in clean.stdout

    with session_scope() as session:
        document = session.scalars(select(Document).where(Document.kind == "overview_report").order_by(Document.id)).first()
        target = (document.id, document.kind, document.version)
        submission = session.scalars(select(Submission)).one()
        submission.letter = b"%PDF-1.7 another letter"
        # And one row of the review's history rewritten behind the service's back.
        session.execute(update(HistoryEntry).where(HistoryEntry.review_id == submitted.id, HistoryEntry.seq == 2)
                        .values(note="written in later"))
    tamper(target[0])

    done = dhr("check-restore")
    assert done.returncode == 1, done.stdout
    problems = [line for line in done.stdout.splitlines() if line.startswith("PROBLEM: ")]
    reference = submitted.review["reference"]
    assert len(problems) == 3, done.stdout
    assert f"document {target[0]} ({target[1]} v{target[2]}, review {reference}): its bytes do not match its SHA-256" in problems[0]
    assert f"QA letter of submission {submission.id} (version 1, review {reference})" in problems[1]
    assert problems[2].startswith("PROBLEM: history: ") and reference in problems[2] and "row 2" in problems[2]
    assert "Restore check FAILED: 3 problem(s)." in done.stdout
    assert not [name for name in PEOPLE if name in done.stdout]


@contextmanager
def scratch_database(database_url: str, tmp_path: Path, revision: str | None = None):
    """A second database of the same kind, new and empty, or migrated up to `revision`."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / f'scratch-{uuid.uuid4().hex[:8]}.sqlite3'}"
        if revision:
            command.upgrade(alembic_config(url), revision)
        yield url
        return
    name = f"dhr_scratch_{uuid.uuid4().hex[:12]}"
    server = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        if revision:
            command.upgrade(alembic_config(url), revision)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_a_new_database_needs_no_yes(database_url, api, world, tmp_path):
    """Restoring onto a new machine: nothing to overwrite, so no --yes, and the check runs there."""
    j = Journey(api, world)
    path, _ = backup_of(tmp_path)
    with scratch_database(database_url, tmp_path) as new_url:
        done = dhr("restore", str(path), url=new_url)
        assert done.returncode == 0, done.stdout
        assert "Restore check passed." in done.stdout and "History chain: verifies." in done.stdout
        engine = create_engine(new_url)
        with engine.connect() as conn:
            assert list(conn.scalars(select(Review.reference))) == [j.review["reference"]]
        engine.dispose()


def test_an_older_backup_is_restored_then_migrated(database_url, api, world, tmp_path):
    """A backup made before the last migration: restored as it is, then `dhr migrate` brings it up to
    date (on PostgreSQL the tables the later migration made are dropped first, so it can)."""
    head, _ = revisions()
    Journey(api, world)
    older = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    try:
        with scratch_database(database_url, tmp_path, revision=older) as old_url:
            path, out = backup_of(tmp_path, url=old_url)
            assert f"at schema revision {older}" in out
        done = dhr("restore", str(path), "--yes")
        assert done.returncode == 1, done.stdout
        assert f"The backup's schema is at revision {older}; this version of dhr needs {head}." in done.stdout
        assert "run `dhr migrate`, then `dhr check-restore`" in done.stdout
        migrated = dhr("migrate")
        assert migrated.returncode == 0, migrated.stdout
        checked = dhr("check-restore")
        assert checked.returncode == 0 and "Restore check passed." in checked.stdout, checked.stdout
        assert references() == []
    finally:
        command.upgrade(alembic_config(database_url), "head")  # whatever happened, leave the shared database at head


# PostgreSQL only, so the SQLite pass neither runs nor skips them: pg_dump and pg_restore have no
# part in a SQLite backup, which copies in with the backup API in one transaction (its tests are above).
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRES_ONLY
def test_a_failed_postgres_restore_leaves_the_old_data(database_url, api, world, tmp_path):
    Journey(api, world)
    path, _ = backup_of(tmp_path)
    Journey(api, world, csp="FENLAND")
    before = references()
    # A backup cut short whose manifest was made to match: only the restore itself can notice.
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    manifest = json.loads(manifest_path(path).read_text())
    manifest["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path(path).write_text(json.dumps(manifest))
    done = dhr("restore", str(path), "--yes")
    assert done.returncode == 1
    assert "The restore failed and was rolled back: the database is as it was." in done.stdout
    assert references() == before
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 2


@POSTGRES_ONLY
def test_the_postgres_password_is_never_printed(database_url, api, world, tmp_path):
    Journey(api, world)
    # The test server trusts local connections, so any password gets in: it must appear nowhere.
    with_password = make_url(database_url).set(password="s3cret-Pa55").render_as_string(hide_password=False)
    path, out = backup_of(tmp_path, url=with_password)
    assert "s3cret" not in out and "***" in out
    assert "s3cret" not in manifest_path(path).read_text()
    done = dhr("restore", str(path), "--yes", url=with_password)
    assert done.returncode == 0, done.stdout
    assert "s3cret" not in done.stdout


@POSTGRES_ONLY
def test_a_pg_dump_older_than_the_server_is_refused_naming_both_versions(database_url, tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (fake / "pg_dump").chmod(0o755)
    with create_engine(database_url).connect() as conn:
        server = conn.scalar(text("SHOW server_version")).split()[0]
    monkeypatch.setenv("DHR_PG_BIN_DIR", str(fake))
    done = dhr("backup", "--to", str(tmp_path))
    assert done.returncode == 1
    major = server.split(".")[0]
    assert f"pg_dump {major} or later is needed for this PostgreSQL {server} database ({fake / 'pg_dump'} is 9.6)" in done.stdout
    assert f"postgresql-client-{major}" in done.stdout and "DHR_PG_BIN_DIR" in done.stdout
    assert not list(tmp_path.glob("dhr-backup-*"))

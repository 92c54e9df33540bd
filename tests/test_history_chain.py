"""The history as hash chains (app/audit/chain.py): `dhr verify-history` finds any row edited, deleted,
inserted or reordered, and says which; every read of an IMR and every package download is recorded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.audit.chain import GENESIS, verify
from app.cli import app as cli
from app.core.config import PROJECT_ROOT, get_settings
from app.core.db import get_engine, get_sessionmaker
from app.core.migrate import alembic_config
from tests.journey import Journey
from tests.support import ok

runner = CliRunner()


def problems() -> list[str]:
    with get_sessionmaker()() as session:
        return [p.what for p in verify(session)]


def sql(url: str, statement: str, **params) -> list:
    """Tampering as someone with the database alone would: plain SQL, committed."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def last(url: str, review_id: str | None) -> int:
    where = "review_id = :r" if review_id else "review_id IS NULL"
    return sql(url, f"SELECT max(seq) FROM history WHERE {where}", r=review_id)[0][0]


@pytest.fixture
def story(api, world, database_url):
    """A review with an IMR written and read, and some user administration: both kinds of chain."""
    j = Journey(api, world).to("evidence")
    j.commission(agencies=("police",))
    j.complete_imr("police")
    admin = api.as_("admin")
    user = ok(admin.post("/users", json={"email": "new@dhr.example", "name": "Nia New", "password": "a long enough passphrase",
                                         "roles": [{"role": "home_office"}]}), 201)
    ok(admin.patch(f"/users/{user['id']}", json={"name": "Nia Newer"}))
    ok(admin.patch(f"/users/{user['id']}", json={"is_active": False}))
    j.ref = j.review["reference"]
    j.rows = last(database_url, j.id)
    assert j.rows > 10 and last(database_url, None) == 3
    return j


# -- intact ---------------------------------------------------------------------------------------

def test_an_untouched_history_is_intact_and_linked(story, database_url):
    assert problems() == []
    rows = sql(database_url, "SELECT seq, prev_hash, hash FROM history WHERE review_id = :r ORDER BY seq", r=story.id)
    assert [r.seq for r in rows] == list(range(1, story.rows + 1))
    assert rows[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    assert sql(database_url, "SELECT seq, hash FROM history_heads WHERE chain = :r", r=story.id) == [(story.rows, rows[-1].hash)]
    admin = sql(database_url, "SELECT seq FROM history WHERE review_id IS NULL ORDER BY seq")
    assert [r.seq for r in admin] == [1, 2, 3]

    result = runner.invoke(cli, ["verify-history"])
    assert result.exit_code == 0, result.output
    assert f"{story.ref}: {story.rows} rows, intact, head: row {story.rows} {rows[-1].hash[:16]}" in result.output
    assert "administration: 3 rows, intact, head: row 3 " in result.output
    assert f"The history is intact: 2 chains, {story.rows + 3} rows." in result.output


def dhr(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """The installed `dhr` command, in its own process, on the test's database."""
    env = {**os.environ, "DHR_DATABASE_URL": database_url}
    return subprocess.run([str(Path(sys.executable).parent / "dhr"), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_run_as_a_program(story, database_url):
    run = dhr(database_url, "verify-history")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The history is intact" in run.stdout
    sql(database_url, "UPDATE history SET note = 'Nothing happened' WHERE review_id = :r AND seq = 5", r=story.id)
    run = dhr(database_url, "verify-history")
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{story.ref}: {story.rows} rows, 1 problem" in run.stdout
    assert f"  - row 5 of {story.ref} was edited" in run.stderr


# -- tampering, each named exactly ----------------------------------------------------------------------

COLUMNS = 'review_id, entity_type, entity_id, event, from_state, to_state, "on", at, actor_id, actor_name, data, changes'


def shift_up(url: str, review_id: str, from_seq: int) -> None:
    """Make room at from_seq, as a careful forger would (two steps: the numbers stay unique throughout)."""
    sql(url, "UPDATE history SET seq = seq + 100000 WHERE review_id = :r AND seq >= :s", r=review_id, s=from_seq)
    sql(url, "UPDATE history SET seq = seq - 99999 WHERE review_id = :r AND seq >= 100000", r=review_id)


def test_an_edited_row(story, database_url):
    sql(database_url, "UPDATE history SET note = 'Nothing happened' WHERE review_id = :r AND seq = 5", r=story.id)
    assert problems() == [f"row 5 of {story.ref} was edited"]


def test_an_edited_row_with_a_new_hash(story, database_url):
    sql(database_url, "UPDATE history SET actor_name = 'Someone Else', hash = :h WHERE review_id = :r AND seq = 6", r=story.id, h="f" * 64)
    assert problems() == [f"row 6 of {story.ref} was edited"]


def test_an_edited_timestamp_and_last_row(story, database_url):
    sql(database_url, "UPDATE history SET at = (SELECT at FROM history WHERE review_id = :r AND seq = 1) WHERE review_id = :r AND seq = :n",
        r=story.id, n=story.rows)
    assert problems() == [f"row {story.rows} of {story.ref} was edited"]


def test_a_deleted_row(story, database_url):
    sql(database_url, "DELETE FROM history WHERE review_id = :r AND seq = 7", r=story.id)
    assert problems() == [f"row 7 of {story.ref} is missing (deleted)"]


def test_deleted_rows_with_the_gap_closed(story, database_url):
    sql(database_url, "DELETE FROM history WHERE review_id = :r AND seq IN (7, 8)", r=story.id)
    sql(database_url, "UPDATE history SET seq = seq - 2 WHERE review_id = :r AND seq > 8", r=story.id)
    assert problems() == [
        f"rows 7 to 8 of {story.ref} are missing (deleted)",
        f"rows 9 to {story.rows} of {story.ref} were renumbered (now rows 7 to {story.rows - 2})",
    ]


def test_the_last_row_deleted(story, database_url):
    sql(database_url, "DELETE FROM history WHERE review_id = :r AND seq = :n", r=story.id, n=story.rows)
    assert problems() == [f"row {story.rows} of {story.ref} is missing (deleted)"]


def test_a_row_added_at_the_end(story, database_url):
    sql(database_url, f"INSERT INTO history (id, seq, prev_hash, hash, note, {COLUMNS}) SELECT 'forged', seq + 1, hash, :h, 'Approved', {COLUMNS} "
                      "FROM history WHERE review_id = :r AND seq = :n", r=story.id, n=story.rows, h="a" * 64)
    assert problems() == [f"row {story.rows + 1} of {story.ref} was inserted"]


def test_a_row_slipped_in_between(story, database_url):
    shift_up(database_url, story.id, 4)
    sql(database_url, f"INSERT INTO history (id, seq, prev_hash, hash, note, {COLUMNS}) SELECT 'forged', 4, hash, :h, 'Approved', {COLUMNS} "
                      "FROM history WHERE review_id = :r AND seq = 3", r=story.id, h="a" * 64)
    assert problems() == [
        f"row 4 of {story.ref} was inserted",
        f"rows 4 to {story.rows} of {story.ref} were renumbered (now rows 5 to {story.rows + 1})",
    ]


def test_a_copy_of_a_genuine_row(story, database_url):
    sql(database_url, f"INSERT INTO history (id, seq, prev_hash, hash, note, {COLUMNS}) SELECT 'copied', :n + 1, prev_hash, hash, note, {COLUMNS} "
                      "FROM history WHERE review_id = :r AND seq = 2", r=story.id, n=story.rows)
    assert problems() == [f"row {story.rows + 1} of {story.ref} was inserted (a copy of row 2)"]


def test_two_rows_swapped(story, database_url):
    sql(database_url, "UPDATE history SET seq = -1 WHERE review_id = :r AND seq = 4", r=story.id)
    sql(database_url, "UPDATE history SET seq = 4 WHERE review_id = :r AND seq = 5", r=story.id)
    sql(database_url, "UPDATE history SET seq = 5 WHERE review_id = :r AND seq = -1", r=story.id)
    assert problems() == [f"rows 4 and 5 of {story.ref} are out of order"]


def test_the_administration_chain(story, database_url):
    sql(database_url, "UPDATE history SET changes = data WHERE review_id IS NULL AND seq = 2")
    assert problems() == ["row 2 of the administration history was edited"]
    sql(database_url, "DELETE FROM history WHERE review_id IS NULL AND seq = 1")
    assert problems() == ["row 1 of the administration history is missing (deleted)", "row 2 of the administration history was edited"]


def test_a_head_deleted_or_altered(story, database_url):
    sql(database_url, "UPDATE history_heads SET hash = :h WHERE chain = :r", r=story.id, h="b" * 64)
    assert problems() == [f"the head record of {story.ref} does not match its last row (it was altered)"]
    sql(database_url, "UPDATE history_heads SET seq = 1000000000 WHERE chain = :r", r=story.id)
    assert problems() == [f"rows {story.rows + 1} to 1000000000 of {story.ref} are missing (deleted)"]
    sql(database_url, "UPDATE history_heads SET seq = :n WHERE chain = :r", r=story.id, n=story.rows)
    sql(database_url, "DELETE FROM history_heads WHERE chain = 'administration'")
    assert problems() == ["the head record of the administration history is missing (deleted)",
                          f"the head record of {story.ref} does not match its last row (it was altered)"]


def test_a_review_whose_whole_history_was_deleted(story, database_url):
    sql(database_url, "DELETE FROM history WHERE review_id = :r", r=story.id)
    assert problems() == [f"rows 1 to {story.rows} of {story.ref} are missing (deleted)"]
    sql(database_url, "DELETE FROM history_heads WHERE chain = :r", r=story.id)
    assert problems() == [f"{story.ref} has no history at all (deleted)"]


def test_checked_with_another_key_every_row_fails(story, database_url, monkeypatch):
    monkeypatch.setenv("DHR_SECRET_KEY", "not the key the history was written with, at all")
    get_settings.cache_clear()
    result = runner.invoke(cli, ["verify-history"])
    assert result.exit_code == 1
    assert "is DHR_SECRET_KEY the key the history was written with?" in result.output


# -- reads are recorded ---------------------------------------------------------------------------

def test_every_read_of_an_imr_and_every_package_download_is_recorded(api, world, database_url):
    j = Journey(api, world).to("drafting")
    imr = j.imrs["police"]

    def latest() -> tuple:
        return sql(database_url, "SELECT event, entity_type, entity_id, actor_name, data FROM history WHERE review_id = :r "
                                 "ORDER BY seq DESC LIMIT 1", r=j.id)[0]

    ok(j.as_("police_author").get(f"/imrs/{imr}"))
    assert latest()[:4] == ("read_imr", "imr", imr, "Percy Policeauthor")
    ok(j.as_("panel_chair").get(f"/imrs/{imr}/chronology"))
    assert latest()[:4] == ("read_imr_chronology", "imr", imr, "Penny Panelchair")
    ok(j.as_("chair").get(f"/reviews/{j.id}/chronology"))
    assert latest()[:4] == ("read_chronology", "review", j.id, "Chris Cspchair")
    ok(j.as_("chair").get(f"/reviews/{j.id}/imrs"))
    event, _type, _id, _who, data = latest()
    assert event == "read_imrs" and sorted((data if isinstance(data, dict) else json.loads(data))["imr_ids"]) == sorted(j.imrs.values())
    # A refused read leaves nothing behind.
    before = last(database_url, j.id)
    assert j.as_("health_author").get(f"/imrs/{imr}").status_code == 404
    assert last(database_url, j.id) == before
    # An IMR as a document, and the Home Office package.
    document = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/documents", json={"kind": "imr", "imr_id": imr}), 201)
    assert j.as_("panel_chair").get(f"/documents/{document['id']}/content").status_code == 200
    assert latest()[:3] == ("download_document", "document", document["id"])
    j.to("submitted")
    assert j.as_("home_office").get(f"/reviews/{j.id}/home-office-package").status_code == 200
    assert latest()[:2] == ("download_home_office_package", "submission")
    assert problems() == []


def test_reads_and_administration_at_once_keep_every_chain_whole(app, api, world, database_url):
    """Reads now write: many at once on one review, and user administration at the same time, each
    get the next number of their chain, none refused."""
    import threading

    from fastapi.testclient import TestClient

    j = Journey(api, world).to("evidence")
    j.commission(agencies=("police",))
    imr = j.imrs["police"]
    calls = [("police_author", "GET", f"/imrs/{imr}", None)] * 6 + [("panel_chair", "GET", f"/imrs/{imr}/chronology", None)] * 3
    calls += [("admin", "POST", "/users", {"email": f"u{i}@dhr.example", "name": f"User {i}", "password": "a long enough passphrase",
                                          "roles": [{"role": "home_office"}]}) for i in range(3)]
    barrier, statuses, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(index: int, who: str, method: str, path: str, body) -> None:
        try:
            with TestClient(app, base_url="http://127.0.0.1") as client:
                barrier.wait(timeout=30)
                statuses[index] = client.request(method, f"/api/v1{path}", json=body,
                                                 headers={"Authorization": f"Bearer {world.user(who).token}"}).status_code
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert statuses == [200] * 9 + [201] * 3
    reads = sql(database_url, "SELECT count(*) FROM history WHERE review_id = :r AND event IN ('read_imr', 'read_imr_chronology')", r=j.id)
    assert reads == [(9,)]
    assert last(database_url, None) == 3
    assert problems() == []


# -- the migration hashes the rows it finds -----------------------------------------------------------

def test_the_migration_chains_an_existing_history(story, database_url):
    get_engine().dispose()
    command.downgrade(alembic_config(database_url), "0005")
    try:
        assert sql(database_url, "SELECT DISTINCT seq FROM history WHERE review_id IS NULL") == [(0,)]
    finally:
        command.upgrade(alembic_config(database_url), "head")
    assert problems() == []
    assert last(database_url, None) == 3
    # ...and the app carries on from there.
    ok(story.as_("police_author").get(f"/imrs/{story.imrs['police']}"))
    ok(story.as_("admin").patch(f"/users/{story.world.user('housing_author').id}", json={"name": "Harriet Housing-Author"}))
    assert problems() == []
    assert last(database_url, None) == 4


# -- any tampering at all is found (without a database: the check itself) --------------------------------

def test_random_tampering_never_passes():
    import datetime as dt
    import random
    from types import SimpleNamespace

    from app.audit.chain import check_chain, content_of, key, row_hash

    secret = key("a test secret")
    rng = random.Random(7)

    def chain(n: int) -> list:
        rows, previous = [], GENESIS
        for seq in range(1, n + 1):
            row = SimpleNamespace(review_id="r1", seq=seq, entity_type="review", entity_id="r1", event=f"event{seq}", from_state=None,
                                  to_state="x", on=dt.date(2026, 1, seq % 28 + 1), at=dt.datetime(2026, 1, 1, 12, 0, seq, 123456, tzinfo=dt.timezone.utc),
                                  actor_id=None, actor_name="A", data={"n": seq}, changes={}, note=None, prev_hash=previous)
            row.hash = row_hash(secret, content_of(row))
            rows.append(row)
            previous = row.hash
        return rows

    def copy(row, **changes):
        return SimpleNamespace(**{**vars(row), **changes})

    def tamper(rows: list) -> list:
        rows = [copy(r) for r in rows]
        i = rng.randrange(len(rows))
        kind = rng.choice(["edit", "delete", "insert", "swap", "shift", "copy", "rehash"])
        if kind == "edit":
            rows[i].note = "changed"
        elif kind == "rehash":
            rows[i].actor_name, rows[i].hash = "B", "c" * 64
        elif kind == "delete":
            del rows[i]
        elif kind == "insert":
            rows.append(copy(rows[i], seq=max(r.seq for r in rows) + 1, event="forged", hash="d" * 64))
        elif kind == "copy":
            rows.append(copy(rows[i], seq=max(r.seq for r in rows) + 1))
        elif kind == "swap" and len(rows) > 1:
            j = (i + 1) % len(rows)
            rows[i].seq, rows[j].seq = rows[j].seq, rows[i].seq
        elif kind == "shift":
            for r in rows[i:]:
                r.seq -= 1
        return [r for r in sorted(rows, key=lambda r: r.seq)]

    original = chain(30)
    assert check_chain("R", original, (30, original[-1].hash), secret) == []
    for _trial in range(400):
        rows = original
        for _ in range(rng.randint(1, 3)):
            rows = tamper(rows) if rows else rows
        if len({r.seq for r in rows}) < len(rows):
            continue  # two rows with one number: the unique constraint forbids it
        same = [(r.seq, r.note, r.actor_name, r.hash) for r in rows] == [(r.seq, r.note, r.actor_name, r.hash) for r in original]
        found = check_chain("R", rows, (30, original[-1].hash), secret)
        assert bool(found) != same, (found, [(r.seq, r.event, r.note) for r in rows])

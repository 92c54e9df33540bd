"""Issue 7, item 7: retention per partnership counted from a review's end, legal holds, and `dhr purge`.

A review is due for deletion once its partnership's retention period has passed since it concluded
(or since the partnership decided not to review the death); a review on legal hold never goes.
`dhr purge --dry-run` lists what is due and deletes nothing; `dhr purge` deletes exactly what it
listed (every row and stored file of those reviews, their history chain and its head), leaves every
other row as it was, and records each deletion in the administration history, which still verifies.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from app.audit.chain import verify
from app.audit.models import HistoryEntry
from app.cli import app as cli
from app.core import clock
from app.core.db import get_engine, get_sessionmaker
from app.documents.models import Document
from app.documents.service import DOCX
from app.models import Base
from app.ops import check
from app.partnerships.models import DEFAULT_RETENTION_YEARS
from app.submissions.models import Submission
from tests.journey import Journey
from tests.support import ok
from tests.test_authorization import _plain_docx

runner = CliRunner()
LISTED = re.compile(r"^\s+(DHR-\S+)\s.*->\s+(would be deleted|deleted \d+ rows.*|kept: .*)$", re.M)


LATER = dt.date(2040, 1, 1)  # when the command runs: long after every review here ended


def purge(*args: str, today: dt.date = LATER):
    """`dhr purge` run on `today`; the clock goes back after, as the API's sign-ins expire by then."""
    before = clock.today()
    clock.set_today(today)
    try:
        result = runner.invoke(cli, ["purge", *args])
    finally:
        clock.set_today(before)
    return result, {ref: what for ref, what in LISTED.findall(result.output)}


def not_reviewed(api, world, csp: str, decided_on: dt.date) -> Journey:
    j = Journey(api, world, csp=csp, notified_on=decided_on - dt.timedelta(days=5))
    j.advance(5)
    j.fire(j.chair, "decide_not_to_review", rationale="The death does not meet the definition in guidance 3.8.")
    assert j.review["decided_on"] == decided_on.isoformat()
    return j


def set_retention(api, csp_id: str, years: int) -> dict:
    admin = api.as_("admin")
    current = admin.get(f"/csps/{csp_id}")
    return ok(admin.patch(f"/csps/{csp_id}", json={"retention_years": years}, headers={"If-Match": current.headers["ETag"]}))


# -- what each table holds, for the reviews kept and the reviews purged ------------------------------
def _owner(table) -> str | None:
    """The SQL expression naming the review a table's row belongs to (None: it belongs to none)."""
    if "review_id" in table.c:
        return f"{table.name}.review_id"
    return {"reviews": "reviews.id", "history_heads": "history_heads.chain",
            "deadline_extensions": "(SELECT review_id FROM deadlines WHERE deadlines.id = deadline_extensions.deadline_id)"}.get(table.name)


def counts(purged: set[str], *, of_purged: bool = False) -> dict[str, int]:
    """Rows per table outside the purged reviews (or, with of_purged, inside them)."""
    ids = ", ".join(f"'{i}'" for i in purged) or "''"
    result = {}
    with get_engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            owner = _owner(table)
            if owner is None:
                where = "1=0" if of_purged else "1=1"
            elif of_purged:
                where = f"{owner} IN ({ids})"
            else:
                where = f"({owner} IS NULL OR {owner} NOT IN ({ids}))"
            result[table.name] = conn.execute(text(f"SELECT count(*) FROM {table.name} WHERE {where}")).scalar()
    return result


def administration_rows() -> list[HistoryEntry]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(HistoryEntry).where(HistoryEntry.review_id.is_(None)).order_by(HistoryEntry.seq)))


@pytest.fixture
def county(api, world):
    """Reviews that ended at different times in two partnerships; FENLAND keeps reviews 2 years."""
    set_retention(api, world.csps["FENLAND"], 2)
    reviews = {
        "cam_early": not_reviewed(api, world, "CAMCITY", dt.date(2026, 1, 10)),  # due 2032-01-10
        "cam_held": not_reviewed(api, world, "CAMCITY", dt.date(2026, 1, 10)),  # due then too, but held
        "cam_late": not_reviewed(api, world, "CAMCITY", dt.date(2027, 6, 1)),  # due 2033-06-01
        "fen": not_reviewed(api, world, "FENLAND", dt.date(2026, 2, 1)),  # FENLAND's 2 years: due 2028-02-01
        "open": Journey(api, world, notified_on=dt.date(2026, 1, 20)).to("evidence"),  # never due while it runs
        "concluded": Journey(api, world, notified_on=dt.date(2026, 1, 5)).to("concluded"),
    }
    ok(api.as_("chair").post(f"/reviews/{reviews['cam_held'].id}/legal-holds", json={"reason": "A civil claim against the council is expected."}), 201)
    reviews["concluded"].ended = dt.date.fromisoformat(reviews["concluded"].review["concluded_on"])
    return reviews


def refs(county, *keys: str) -> set[str]:
    return {county[k].review["reference"] for k in keys}


def test_the_default_period_and_how_it_is_counted(api, world):
    assert ok(api.as_("coordinator").get(f"/csps/{world.csps['CAMCITY']}"))["retention_years"] == DEFAULT_RETENTION_YEARS == 6
    j = not_reviewed(api, world, "CAMCITY", dt.date(2024, 2, 29))
    holds = ok(api.as_("chair").get(f"/reviews/{j.id}/legal-holds"))
    assert holds["retention"] == {"retention_years": 6, "ended_on": "2024-02-29", "due_on": "2030-02-28", "held": False}
    # Reconsidered, the review runs again: no longer counted.
    j.fire("chair", "reconsider", reason="New information from the police.")
    assert ok(api.as_("chair").get(f"/reviews/{j.id}/legal-holds"))["retention"]["due_on"] is None


def test_due_not_yet_due_on_hold_and_each_partnerships_own_period(county):
    result, listed = purge("--dry-run", "--on", "2028-01-31")
    assert result.exit_code == 0, result.output
    assert "No review is due for deletion on 2028-01-31." in result.output and listed == {}
    # FENLAND's two years are up; CAMCITY's six are not.
    _, listed = purge("--dry-run", "--on", "2028-02-01")
    assert listed == dict.fromkeys(refs(county, "fen"), "would be deleted")
    _, listed = purge("--dry-run", "--on", "2032-01-10")
    assert set(listed) == refs(county, "fen", "cam_early", "cam_held")
    assert listed[county["cam_held"].review["reference"]] == "kept: on legal hold"
    # The concluded review counts from its conclusion; the running one never comes due.
    ended = county["concluded"].ended
    _, listed = purge("--dry-run", "--on", (ended.replace(year=ended.year + 6) - dt.timedelta(days=1)).isoformat())
    assert county["concluded"].review["reference"] not in listed
    result, listed = purge("--dry-run", "--on", "2039-12-31")
    assert set(listed) == refs(county, "fen", "cam_early", "cam_held", "cam_late", "concluded")
    line = next(line for line in result.output.splitlines() if county["fen"].review["reference"] in line)
    assert "FENLAND  decided not to review on 2026-02-01  retention 2 years  due since 2028-02-01  no legal hold" in line
    line = next(line for line in result.output.splitlines() if county["cam_held"].review["reference"] in line)
    assert "CAMCITY" in line and "retention 6 years  due since 2032-01-10  1 legal hold" in line


def test_a_dry_run_deletes_nothing(county, database_url):
    before = counts(set())
    result, listed = purge("--dry-run")
    assert result.exit_code == 0, result.output
    assert {ref for ref, what in listed.items() if what == "would be deleted"} == refs(county, "fen", "cam_early", "cam_late", "concluded")
    assert "Nothing was deleted." in result.output
    assert counts(set()) == before


def test_purge_deletes_exactly_what_was_listed_and_records_it(api, county, database_url):
    gone = {k: county[k] for k in ("fen", "cam_early", "cam_late", "concluded")}
    ids = {j.id for j in gone.values()}
    concluded = county["concluded"].id
    # The concluded review has stored files: its documents, and the QA panel's letter.
    ok(api.as_("chair").put(f"/reviews/{concluded}/submissions/1/letter", files={"file": ("qa-letter.docx", _plain_docx(), DOCX)}))
    with get_sessionmaker()() as session:
        assert session.scalar(select(func.count()).select_from(Document).where(Document.review_id == concluded)) > 0
        assert session.scalar(select(func.count()).select_from(Submission).where(Submission.review_id == concluded, Submission.letter.is_not(None))) == 1
        heads = dict(session.execute(text("SELECT chain, hash FROM history_heads")).tuples().all())
    _, dry = purge("--dry-run")
    kept_before, theirs = counts(ids), counts(ids, of_purged=True)
    assert theirs["reviews"] == 4 and theirs["history"] > 0 and theirs["history_heads"] == 4 and theirs["imrs"] > 0
    admin_before = administration_rows()

    result, listed = purge()
    assert result.exit_code == 0, result.output
    assert listed, result.output
    assert {ref for ref, what in listed.items() if what.startswith("deleted")} == {ref for ref, what in dry.items() if what == "would be deleted"}
    assert listed[county["cam_held"].review["reference"]] == "kept: on legal hold"
    assert "Deleted 4 reviews, kept 1." in result.output

    # Nothing of them is left, files included; everything else is exactly as it was, but for one history row each.
    assert set(counts(ids, of_purged=True).values()) == {0}
    after = counts(ids)
    assert after == {**kept_before, "history": kept_before["history"] + 4}
    for j in gone.values():
        assert api.as_(j.chair).get(f"/reviews/{j.id}").status_code == 404
    for key in ("cam_held", "open"):
        assert ok(api.as_("chair").get(f"/reviews/{county[key].id}"))["id"] == county[key].id

    # The administration history says what went: reference, rows, the deleted chain's head; no content.
    records = administration_rows()[len(admin_before):]
    assert [r.event for r in records] == ["purge_review"] * 4
    assert all(r.review_id is None and r.actor_name == "system" for r in records)
    by_ref = {r.data["reference"]: r for r in records}
    assert set(by_ref) == refs(county, "fen", "cam_early", "cam_late", "concluded")
    mine = by_ref[county["concluded"].review["reference"]]
    assert mine.entity_id == concluded and mine.data["history_head"]["hash"] == heads[concluded]
    # The rows each record counts are exactly the rows the purged reviews had (the documents all the concluded one's).
    assert sum(sum(r.data["rows"].values()) for r in records) == sum(theirs.values())
    assert mine.data["rows"]["reviews"] == 1 and mine.data["rows"]["documents"] == theirs["documents"] > 0
    assert mine.data["retention_years"] == 6 and mine.data["ended_on"] == county["concluded"].ended.isoformat()
    assert "Zoë" not in str([r.data for r in records]) and "Adult A" not in str([r.data for r in records])
    # The history still verifies, and so does the restore check.
    with get_sessionmaker()() as session:
        assert verify(session) == []
    assert runner.invoke(cli, ["verify-history"]).exit_code == 0
    assert check.run(get_engine(), echo=lambda _line: None) == []
    # A second run finds nothing more to do.
    result, listed = purge()
    assert result.exit_code == 0 and set(listed) == refs(county, "cam_held")


def test_a_lifted_hold_lets_the_review_go(api, county):
    held = county["cam_held"]
    hold = ok(api.as_("chair").get(f"/reviews/{held.id}/legal-holds"))["items"][0]
    ok(api.as_("coordinator").post(f"/legal-holds/{hold['id']}/lift", json={"reason": "The claim was withdrawn."}))
    result, listed = purge("--on", "2035-01-01")
    assert result.exit_code == 0 and listed[held.review["reference"]].startswith("deleted")


def test_a_bad_on_is_refused_and_changes_nothing(county):
    before = counts(set())
    result, _ = purge("--on", "2040-13-01")
    assert result.exit_code == 2 and "'2040-13-01' is not a date: write it as YYYY-MM-DD." in result.output
    result, _ = purge("--on", "2041-01-01")
    assert result.exit_code == 2 and "is after today (2040-01-01)" in result.output and "--dry-run" in result.output
    assert counts(set()) == before
    result, listed = purge("--dry-run", "--on", "2041-01-01")  # looking ahead is fine
    assert result.exit_code == 0 and listed


# -- the retention period, set by the administrator ------------------------------------------------
def test_only_the_administrator_sets_the_retention_period(api, world):
    csp = world.csps["CAMCITY"]
    admin = api.as_("admin")
    etag = admin.get(f"/csps/{csp}").headers["ETag"]
    assert admin.patch(f"/csps/{csp}", json={"retention_years": 10}).status_code == 428
    bad = admin.patch(f"/csps/{csp}", json={"retention_years": 0}, headers={"If-Match": etag})
    assert bad.status_code == 422 and "retention_years" in bad.text
    for role in ("coordinator", "chair", "home_office"):
        assert api.as_(role).patch(f"/csps/{csp}", json={"retention_years": 1}, headers={"If-Match": etag}).status_code == 403, role
    assert api.as_(None).patch(f"/csps/{csp}", json={"retention_years": 1}, headers={"If-Match": etag}).status_code == 401
    saved = ok(admin.patch(f"/csps/{csp}", json={"retention_years": 10}, headers={"If-Match": etag}))
    assert saved["retention_years"] == 10 and saved["code"] == "CAMCITY"
    assert admin.patch(f"/csps/{csp}", json={"retention_years": 12}, headers={"If-Match": etag}).status_code == 412
    record = administration_rows()[-1]
    assert (record.event, record.entity_id, record.changes) == ("update_csp", csp, {"retention_years": [6, 10]})
    assert ok(api.as_("chair").get(f"/csps/{csp}"))["retention_years"] == 10


# -- legal holds: who may place, read and lift them ------------------------------------------------
POLICY = {  # role: (GET list, POST place, POST lift)
    None: (401, 401, 401), "admin": (404, 404, 404), "home_office": (404, 404, 404),
    "coordinator": (200, 201, 200), "chair": (200, 201, 200), "other_coordinator": (404, 404, 404), "other_chair": (404, 404, 404),
    "panel_chair": (200, 403, 403), "panel_member": (200, 403, 403), "police_author": (404, 404, 404),
    "police_manager": (404, 404, 404), "health_author": (404, 404, 404), "housing_author": (404, 404, 404), "probation_manager": (404, 404, 404),
}


def test_legal_holds_are_placed_and_lifted_by_the_csp_officers_only(api, world):
    j = Journey(api, world).to("evidence")
    j.commission()  # police and health staff now see the review itself, but not its holds
    path = f"/reviews/{j.id}/legal-holds"
    problems = []
    for role, (read, place, _lift) in POLICY.items():
        got = (api.as_(role).get(path).status_code, api.as_(role).post(path, json={"reason": f"Kept for an appeal ({role})."}).status_code)
        if got != (read, place):
            problems.append(f"{role}: expected {(read, place)}, got {got}")
    assert not problems, problems
    holds = ok(api.as_("panel_member").get(path))
    assert holds["total"] == 2 and {h["placed_by_name"] for h in holds["items"]} == {"Cora Coordinator", "Chris Cspchair"}
    assert all(h["active"] for h in holds["items"]) and holds["retention"]["held"] is True
    hold = holds["items"][0]["id"]
    for role, (_read, _place, lift) in POLICY.items():
        if lift != 200:
            response = api.as_(role).post(f"/legal-holds/{hold}/lift", json={"reason": "Not mine to lift."})
            assert response.status_code == lift, (role, response.status_code)
    assert ok(api.as_("chair").post(f"/legal-holds/{hold}/lift", json={"reason": "The appeal was dismissed."}))["active"] is False
    again = api.as_("coordinator").post(f"/legal-holds/{hold}/lift", json={"reason": "Again."})
    assert again.status_code == 409 and "already lifted" in again.json()["detail"]
    assert api.as_("chair").post(path, json={"reason": ""}).status_code == 422
    assert api.as_("chair").post("/legal-holds/nope/lift", json={"reason": "x"}).status_code == 404
    # Each change is a row of the review's history; refusals wrote none.
    events = [(e["event"], e["data"].get("reason")) for e in j.history() if e["entity_type"] == "legal_hold"]
    assert events == [("place_legal_hold", "Kept for an appeal (coordinator)."), ("place_legal_hold", "Kept for an appeal (chair)."),
                      ("lift_legal_hold", "The appeal was dismissed.")]
    still = ok(api.as_("chair").get(path))
    assert [h["active"] for h in still["items"]] == [False, True] and still["retention"]["held"] is True


# -- the pages ---------------------------------------------------------------------------------------
def test_the_pages_place_and_lift_a_hold_and_set_the_period(app, api, world):
    from tests.test_pages_permissions import Browser, fill, main_form

    j = Journey(api, world).to("evidence")
    chair = Browser(app, "chair")
    chair.sign_in(world.user("chair").email)
    review = chair.get(f"/reviews/{j.id}")
    assert f'href="/reviews/{j.id}/legal-holds"' in review.text
    page = chair.get(f"/reviews/{j.id}/legal-holds")
    assert page.status_code == 200 and "No legal hold has been placed" in page.text and "keeps a review for 6 years" in page.text
    form = main_form(chair.get(f"/reviews/{j.id}/legal-holds/new").text)
    empty = chair.post(f"/reviews/{j.id}/legal-holds/new", fill(form, {"reason": ""}) | {"csrf_token": chair.csrf()})
    assert empty.status_code == 422 and "govuk-error-summary" in empty.text
    done = chair.post(f"/reviews/{j.id}/legal-holds/new", fill(form, {"reason": "Kept for the family's civil claim."}) | {"csrf_token": chair.csrf()})
    assert done.status_code == 303 and done.headers["location"] == f"/reviews/{j.id}/legal-holds"
    page = chair.get(f"/reviews/{j.id}/legal-holds")
    assert "Kept for the family&#39;s civil claim." in page.text and "Active" in page.text
    assert "On legal hold (1)" in chair.get(f"/reviews/{j.id}").text
    hold = ok(api.as_("chair").get(f"/reviews/{j.id}/legal-holds"))["items"][0]["id"]
    # The panel member sees the list but has no form; the police author does not see it at all.
    member = Browser(app, "panel_member")
    member.sign_in(world.user("panel_member").email)
    assert member.get(f"/reviews/{j.id}/legal-holds").status_code == 200
    assert "Lift" not in member.get(f"/reviews/{j.id}/legal-holds").text.split("<main", 1)[1]
    assert member.get(f"/legal-holds/{hold}/lift").status_code == 404
    refused = member.post(f"/legal-holds/{hold}/lift", {"reason": "No.", "csrf_token": member.csrf()})
    assert refused.status_code in (403, 404)
    lift = main_form(chair.get(f"/legal-holds/{hold}/lift").text)
    done = chair.post(f"/legal-holds/{hold}/lift", fill(lift, {"reason": "The claim was settled."}) | {"csrf_token": chair.csrf()})
    assert done.status_code == 303
    assert ok(api.as_("chair").get(f"/reviews/{j.id}/legal-holds"))["items"][0]["lift_reason"] == "The claim was settled."
    assert "On legal hold" not in chair.get(f"/reviews/{j.id}").text
    # The administrator sets the period on the partnership's page.
    admin = Browser(app, "admin")
    admin.sign_in(world.user("admin").email)
    csp = world.csps["FENLAND"]
    form = main_form(admin.get(f"/admin/csps/{csp}/edit").text)
    done = admin.post(f"/admin/csps/{csp}/edit", fill(form, {"retention_years": "8"}) | {"csrf_token": admin.csrf()})
    assert done.status_code == 303, done.text[:500]
    assert ok(api.as_("other_chair").get(f"/csps/{csp}"))["retention_years"] == 8
    assert "8 years after a review ends" in admin.get("/admin").text
    assert chair.get(f"/admin/csps/{csp}/edit").status_code == 404

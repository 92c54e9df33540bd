"""The readiness check (DOMAIN.md "Anonymisation and the readiness check"; guidance 8.19, 9.1, 11.1)."""
from __future__ import annotations

import pytest

from tests.journey import Journey
from tests.support import ok


def _checks(j: Journey) -> dict:
    body = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/readiness"))
    return body


def _edit_overview(j: Journey, **sections) -> None:
    current = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/overview"))
    ok(j.as_("panel_chair").patch(f"/reviews/{j.id}/overview", headers={"If-Match": f'"{current["version"]}"'}, json=sections))


def test_a_clean_review_is_ready_at_sign_off(api, world):
    j = Journey(api, world).to("csp_signoff")
    body = _checks(j)
    assert body["ready"] is True, [c for c in body["checks"] if not c["passed"]]
    assert {c["id"] for c in body["checks"]} >= {
        "anonymisation", "overview_sections", "recommendations_in_action_plan", "actions_smart",
        "terms_coercive_control", "terms_equality_and_diversity", "family_involvement",
        "extension_for_overdue_period", "home_office_notified_of_decision", "panel_chair_independent",
    }


@pytest.mark.parametrize(
    "planted, found",
    [
        ("Zoë O'Brien-Smith was seen by her GP.", "Zoë O'Brien-Smith"),
        ("ZOE o’brien-smith was seen.", "ZOE"),  # case, accents and curly apostrophes do not hide a name
        ("Zed told her neighbour.", "Zed"),  # an alias
        ("She was born on 4th March 1991.", "4th March 1991"),
        ("Her date of birth, 04/03/1991, was recorded.", "04/03/1991"),
        ("She lived at 12 Acacia Avenue.", "12 Acacia Avenue"),
        ("The postcode EX1 2AB was noted.", "EX1 2AB"),
        ("Bartholomew was arrested.", "Bartholomew"),
    ],
)
def test_an_identifier_in_the_overview_is_named_with_its_field(api, world, planted, found):
    j = Journey(api, world).to("drafting")
    _edit_overview(j, facts=planted)
    body = _checks(j)
    assert body["ready"] is False
    failure = next(c for c in body["checks"] if c["id"] == "anonymisation" and not c["passed"])
    assert failure["where"] == "overview.facts"
    assert found.replace("’", "'") in failure["detail"]


def test_words_that_merely_contain_a_name_are_not_flagged(api, world):
    j = Journey(api, world).to("drafting")
    _edit_overview(j, facts="Smithson & Sons supplied the Zedonk; Quincey Street is elsewhere; 1991 was a different year.")
    anonymisation = [c for c in _checks(j)["checks"] if c["id"] == "anonymisation"]
    assert anonymisation == [{"id": "anonymisation", "passed": True, "detail": anonymisation[0]["detail"], "where": None}]


def test_a_name_in_a_chronology_entry_blocks_submission_until_fixed(api, world):
    j = Journey(api, world)
    j.decide()
    j.scope()
    j.commission(agencies=("police",))
    imr_id = j.imrs["police"]
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Officer", independence_confirmed=True)
    entry = ok(j.as_("police_author").post(f"/imrs/{imr_id}/chronology", json={
        "occurred_on": "2025-05-01", "description": "Officers spoke to Bartholomew Quince at the address."}), 201)
    body = _checks(j)
    failure = next(c for c in body["checks"] if c["id"] == "anonymisation" and not c["passed"])
    assert failure["where"] == f"chronology/{entry['id']}.description"
    assert "Bartholomew Quince" in failure["detail"]


def test_submit_is_refused_while_the_check_fails_and_allowed_once_fixed(api, world):
    j = Journey(api, world).to("csp_signoff")
    j.fire(j.chair, "return_to_panel", reason="Names remain in the text")
    _edit_overview(j, analysis="Zoë was not asked about coercive control.")
    j.fire("panel_chair", "present_overview")
    j.fire("panel_chair", "approve_overview")
    j.fire("panel_chair", "record_family_response", shared_on=j.day.isoformat(), response="agreed")
    refused = j.fire(j.chair, "submit", expect=409)
    assert refused["state"] == "csp_signoff"
    guard = refused["failed_guards"][0]
    assert guard["guard"] == "readiness_check_passes"
    assert "overview.analysis" in guard["reason"] and "Zoë" in guard["reason"]
    j.fire(j.chair, "return_to_panel", reason="Fix the name")
    _edit_overview(j, analysis="Adult A was not asked about coercive control.")
    j.fire("panel_chair", "present_overview")
    j.fire("panel_chair", "approve_overview")
    j.fire("panel_chair", "record_family_response", shared_on=j.day.isoformat(), response="agreed")
    assert j.fire(j.chair, "submit")["state"] == "submitted"


def test_terms_of_reference_must_address_suicide_when_the_death_was_a_suicide(api, world):
    j = Journey(api, world, death_type="suicide").to("evidence")
    failing = {c["id"] for c in _checks(j)["checks"] if not c["passed"]}
    assert "terms_suicide" in failing
    ok(j.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
        "period_from": "2023-01-01", "period_to": "2026-01-01", "coercive_control": True,
        "equality_and_diversity": True, "suicide": True}))
    assert "terms_suicide" not in {c["id"] for c in _checks(j)["checks"] if not c["passed"]}


def test_an_overdue_overview_needs_an_agreed_extension(api, world):
    j = Journey(api, world).to("drafting")
    j.advance(200)  # past six months from the decision
    failing = {c["id"]: c for c in _checks(j)["checks"] if not c["passed"]}
    assert failing["extension_for_overdue_period"]["where"] == "deadlines.overview_report"
    j.fire(j.chair, "agree_extension", deadline="overview_report", new_due_on=j.day.replace(year=j.day.year + 1).isoformat(), reason="Criminal trial delayed the IMRs")
    assert "extension_for_overdue_period" not in {c["id"] for c in _checks(j)["checks"] if not c["passed"]}


def test_views_show_the_check_of_the_review_as_it_is_and_submit_always_checks_afresh(api, world):
    """The review's answer and page reuse the last readiness result while nothing changed
    (app/documents/readiness_cache.py); a change through the service shows at once, and `submit`
    judges the review as it is even when a view's answer was remembered (8.19, 11.1)."""
    from sqlalchemy import text

    from app.core.db import get_engine

    j = Journey(api, world).to("csp_signoff")
    chair = j.as_(j.chair)
    assert "submit" in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    j.fire(j.chair, "return_to_panel", reason="Names remain in the text")
    _edit_overview(j, analysis="Zoë was not asked about coercive control.")
    j.fire("panel_chair", "present_overview")
    j.fire("panel_chair", "approve_overview")
    j.fire("panel_chair", "record_family_response", shared_on=j.day.isoformat(), response="agreed")
    # Changed through the service: the next view judges afresh and withholds submission.
    assert "submit" not in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    assert "submit" not in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]  # remembered, same answer

    # Mended behind the service's back (no history row), the remembered answer stays...
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE overviews SET analysis = 'Adult A was not asked about coercive control.' WHERE review_id = :r"), {"r": j.id})
    assert "submit" not in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    # ...but submitting judges the review as it now is, and it goes.
    assert j.fire(j.chair, "submit")["state"] == "submitted"

    # And the other way: broken behind the service's back after a view said it may go, submit refuses.
    j2 = Journey(api, world).to("csp_signoff")
    assert "submit" in ok(j2.as_(j2.chair).get(f"/reviews/{j2.id}"))["allowed_events"]
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE overviews SET analysis = 'Zoë was not asked about coercive control.' WHERE review_id = :r"), {"r": j2.id})
    refused = j2.fire(j2.chair, "submit", expect=409)
    assert refused["failed_guards"][0]["guard"] == "readiness_check_passes" and "Zoë" in refused["failed_guards"][0]["reason"]


def test_the_remembered_result_is_kept_in_the_database_for_every_worker(api, world):
    """One row per review in readiness_results, shared by every worker and replica: what a view shows
    is the stored row while its inputs stand, from one day to the next (the part a passing deadline
    changes is worked out on every view, and not kept)."""
    import json

    from sqlalchemy import text

    from app.core.db import get_engine

    j = Journey(api, world).to("csp_signoff")
    chair = j.as_(j.chair)
    assert "submit" in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    with get_engine().begin() as conn:
        stored = conn.execute(text("SELECT inputs, checks FROM readiness_results WHERE review_id = :r"), {"r": j.id}).one()
        checks = stored.checks if isinstance(stored.checks, list) else json.loads(stored.checks)
        assert {c["id"] for c in checks} >= {"anonymisation", "overview_sections"} and all(c["passed"] for c in checks)
        # Another worker's result, stored for the same inputs: this worker shows it rather than its own.
        failing = [{**checks[0], "passed": False, "detail": "Stored by another worker."}] + checks[1:]
        conn.execute(text("UPDATE readiness_results SET checks = :c WHERE review_id = :r"), {"c": json.dumps(failing), "r": j.id})
    assert "submit" not in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    j.advance(1)
    assert "submit" not in ok(chair.get(f"/reviews/{j.id}"))["allowed_events"]
    with get_engine().begin() as conn:
        kept = conn.execute(text("SELECT inputs, checks FROM readiness_results WHERE review_id = :r"), {"r": j.id}).one()
    assert kept.inputs == stored.inputs
    assert "extension_for_overdue_period" not in {c["id"] for c in (kept.checks if isinstance(kept.checks, list) else json.loads(kept.checks))}



def test_a_name_recorded_after_a_clean_check_is_found_in_the_stored_report(api, world):
    """The reports' scans are remembered by the file or text and the people they were read for
    (app/documents/publication_check.py): a relative recorded after a clean check is looked for in the
    stored publication version, which is unchanged and carries the partnership's name (9.2, 11.1)."""
    j = Journey(api, world).to("csp_signoff")
    ok(j.as_(j.coordinator).post(f"/reviews/{j.id}/documents", json={"kind": "overview_report", "variant": "publication"}), 201)
    assert _checks(j)["ready"] is True
    ok(j.as_(j.coordinator).post(f"/reviews/{j.id}/people", json={
        "role": "family", "name": "Alex Cambridge", "pseudonym": "Relative C"}), 201)
    failing = [c for c in _checks(j)["checks"] if not c["passed"]]
    assert [c["id"] for c in failing] == ["publication_documents"], failing
    assert "publication version 1" in failing[0]["detail"] and "'Cambridge'" in failing[0]["detail"]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_readiness_refresh_works_out_ahead_what_views_would_check(api, world, processes):
    """`dhr readiness-refresh` (run on a deploy, which changes every kept result's key) keeps a current
    result for each review in a state with a readiness-guarded event, and only for those; a second
    run finds them current. With two processes, each works in its own connections."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from app.cli import app as cli_app
    from app.core.db import get_engine

    at_sign_off = Journey(api, world).to("csp_signoff")
    drafting = Journey(api, world).to("drafting")
    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM readiness_results"))

    first = CliRunner().invoke(cli_app, ["readiness-refresh", "--processes", processes])
    assert first.exit_code == 0, first.output
    assert "done in" in first.output and "1 worked out, 0 already current, of 1 reviews" in first.output
    with get_engine().begin() as conn:
        kept = set(conn.execute(text("SELECT review_id FROM readiness_results")).scalars())
    assert kept == {at_sign_off.id} and drafting.id not in kept

    again = CliRunner().invoke(cli_app, ["readiness-refresh", "--processes", processes])
    assert "0 worked out, 1 already current, of 1 reviews" in again.output, again.output
    assert "submit" in ok(at_sign_off.as_(at_sign_off.chair).get(f"/reviews/{at_sign_off.id}"))["allowed_events"]

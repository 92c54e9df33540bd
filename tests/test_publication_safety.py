"""A report is never published early (statutory guidance 8.20 and 9.1-9.5: publication follows the
Home Office QA panel's clearance), and only the CSP chair publishes.

In every state before clearance, and on every side path (cleared subject to changes, revising,
pended), the chair's `publish` is refused, nothing changes, and no file is kept as published."""
from __future__ import annotations

from tests.journey import STAGES, Journey
from tests.support import ok

URL = "https://csp.example/dhr/adult-a"


def _refused_and_nothing_published(j: Journey) -> None:
    before = j.get()
    history = len(j.history())
    refusal = j.fire(j.chair, "publish", expect=409, url=URL)
    assert refusal["state"] == before["state"] and "publish" not in refusal["allowed_events"], refusal
    after = j.get()
    assert after["state"] == before["state"] and after["version"] == before["version"]
    assert after["published_on"] is None and after["publication_url"] is None
    assert ok(j.as_(j.chair).get(f"/reviews/{j.id}/documents", params={"published": "true"}))["items"] == []
    assert len(j.history()) == history, "a refused publication left a history row"


def test_publication_is_refused_in_every_state_before_clearance(api, world):
    j = Journey(api, world)
    for state in STAGES[: STAGES.index("cleared")]:
        j.to(state)
        _refused_and_nothing_published(j)


def test_publication_is_refused_on_every_side_path_before_clearance(api, world):
    changes = Journey(api, world).to("submitted")
    changes.fire("home_office", "qa_clear_subject_to_changes", changes="Remove the street name from 4.2")
    _refused_and_nothing_published(changes)

    revising = Journey(api, world).to("submitted")
    revising.fire("home_office", "qa_require_resubmission", feedback="The analysis does not address the GP's contact.")
    _refused_and_nothing_published(revising)

    pended = Journey(api, world).to("drafting")
    pended.fire(pended.chair, "pend", reason="Criminal trial listed for the spring.")
    _refused_and_nothing_published(pended)


def test_only_the_csp_chair_publishes_a_cleared_review(api, world):
    j = Journey(api, world).to("cleared")
    others = ["coordinator", "panel_chair", "panel_member", "police_author", "police_manager", "home_office",
              "admin", "other_chair", "other_coordinator"]
    for who in others:
        response = j.as_(who).post(f"/reviews/{j.id}/events", json={"event": "publish", "data": {"url": URL}})
        assert response.status_code in (403, 404), (who, response.status_code, response.text)
    assert j.get()["state"] == "cleared"
    assert ok(j.as_(j.chair).get(f"/reviews/{j.id}/documents", params={"published": "true"}))["items"] == []

    j.fire(j.chair, "publish", url=URL)
    assert j.review["state"] == "published" and j.review["publication_url"] == URL
    published = ok(j.as_(j.chair).get(f"/reviews/{j.id}/documents", params={"published": "true"}))["items"]
    assert {d["kind"] for d in published} == {"overview_report", "executive_summary", "action_plan"}

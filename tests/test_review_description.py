"""The review's description for the national DHR library (cause and location of death, flags) and its
learning themes: recorded by the CSP's officers or the panel chair, one history row per change."""
from __future__ import annotations

import datetime as dt

from tests.journey import Journey
from tests.support import ok


def _patch(j: Journey, who: str, body: dict, etag: str | None = None):
    etag = etag or j.as_(who).get(f"/reviews/{j.id}").headers["ETag"]
    return j.as_(who).patch(f"/reviews/{j.id}", json=body, headers={"If-Match": etag})


def test_the_panel_chair_records_the_library_facts_and_themes(api, world):
    j = Journey(api, world, notified_on=dt.date(2026, 1, 5)).to("evidence")
    before = j.as_("panel_chair").get(f"/reviews/{j.id}")
    assert before.json()["library_flags"] == ["intimate_partner"]  # from the relationship alone
    review = ok(_patch(j, "panel_chair", {
        "death_cause": "stabbing", "death_location": "shared_home",
        "flags": ["separation", "coercive_control", "separation"],
        "themes": ["Information sharing", "information sharing ", "Routine enquiry"],
    }))
    assert review["death_cause"] == "stabbing" and review["death_location"] == "shared_home"
    assert review["flags"] == ["coercive_control", "separation"]
    assert review["library_flags"] == ["coercive_control", "intimate_partner", "separation"]
    assert review["themes"] == ["Information sharing", "Routine enquiry"]
    after = j.as_("coordinator").get(f"/reviews/{j.id}")
    assert after.json()["themes"] == ["Information sharing", "Routine enquiry"]
    assert after.headers["ETag"] != before.headers["ETag"]
    row = [e for e in j.history() if e["event"] == "describe_review"][-1]
    assert row["actor"] == "Penny Panelchair"
    assert row["changes"]["death_cause"] == [None, "stabbing"]
    assert row["changes"]["themes"] == [[], ["Information sharing", "Routine enquiry"]]

    # Sending the same again changes nothing and writes no history.
    count = len(j.history())
    ok(_patch(j, "chair", {"themes": ["Routine enquiry", "Information sharing"]}))
    assert len(j.history()) == count
    # An empty or null list clears it.
    assert ok(_patch(j, "coordinator", {"flags": None}))["flags"] == []


def test_a_family_relationship_is_flagged_familial(api, world):
    j = Journey(api, world)
    ok(_patch(j, "coordinator", {"flags": ["homicide_suicide"]}))
    # The relationship comes from the notification; a familial case is flagged so without being told.
    from app.core.db import session_scope
    from app.reviews.models import Review

    with session_scope() as session:
        session.get(Review, j.id).relationship = "family_member"
    assert j.get()["library_flags"] == ["familial", "homicide_suicide"]


def test_bad_descriptions_are_refused_with_the_reason_and_nothing_changes(api, world):
    j = Journey(api, world)
    etag = j.as_("coordinator").get(f"/reviews/{j.id}").headers["ETag"]
    no_match = j.as_("coordinator").patch(f"/reviews/{j.id}", json={"themes": ["x y"]})
    assert no_match.status_code == 428 and "If-Match" in no_match.json()["detail"]
    wrong = _patch(j, "coordinator", {"flags": ["stalking", "jealousy"], "death_location": "garden", "themes": ["x"]}, etag)
    assert wrong.status_code == 422
    message = wrong.json()["message"]
    assert "flags" in message and "'coercive_control'" in message and "death_location" in message and "themes" in message
    unknown = _patch(j, "coordinator", {"state": "published"}, etag)
    assert unknown.status_code == 422 and "state" in unknown.json()["message"]
    ok(_patch(j, "coordinator", {"themes": ["Housing"]}, etag))
    stale = _patch(j, "coordinator", {"themes": ["Debt"]}, etag)
    assert stale.status_code == 412
    assert j.get()["themes"] == ["Housing"]


def test_a_concluded_review_keeps_its_description(api, world):
    j = Journey(api, world).to("concluded")
    refused = _patch(j, "chair", {"themes": ["Afterthought"]})
    assert refused.status_code == 409 and "concluded" in refused.json()["detail"]

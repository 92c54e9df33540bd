import datetime as dt

from app.core import clock
from tests.support import ok


def test_a_coordinator_records_a_notification_and_the_chair_decides(api, world):
    clock.set_today(dt.date(2026, 1, 31))
    review = ok(api.as_("coordinator").post("/reviews", json={
        "csp_id": world.csps["CAMCITY"], "notified_on": "2026-01-31", "notified_by": "Exampleshire Constabulary",
        "date_of_death": "2026-01-20", "death_type": "homicide", "relationship": "intimate_partner",
        "victim_age": 34, "summary": "Invented case for tests."}), 201)
    assert review["reference"] == "DHR-2026-CAMCITY-001"
    assert review["state"] == "notified"
    decision = next(d for d in review["deadlines"] if d["kind"] == "decision")
    assert decision["due_on"] == "2026-02-28"
    chair = api.as_("chair")
    assert "decide_to_review" in ok(chair.get(f"/reviews/{review['id']}"))["allowed_events"]
    after = ok(chair.post(f"/reviews/{review['id']}/events", json={"event": "decide_to_review", "data": {"rationale": "Meets 3.8"}}))
    assert after["state"] == "scoping"
    history = ok(chair.get(f"/reviews/{review['id']}/events"))["items"]
    assert [h["event"] for h in history] == ["record_notification", "decide_to_review"]
    wf = ok(chair.get(f"/reviews/{review['id']}/workflow"))
    assert "stateDiagram" in wf["mermaid"]
    assert api.as_("other_chair").get(f"/reviews/{review['id']}").status_code == 404

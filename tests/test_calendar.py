"""The calendar feed (app/notifications/calendar.py): each person's secret .ics address holds the open
deadlines whose alert schedule in workflows/dhr-2011.yaml is addressed to a role they hold for that
deadline, parses with the `icalendar` library, follows met, waived and extended deadlines, stops
working when reset or when the account is disabled, and carries no personal data.

Who is responsible, per the YAML's `alerts.to`:
  decision             -> csp_chair, csp_coordinator (of the review's partnership)
  terms_of_reference   -> panel_chair (of that review), csp_coordinator
  overview_report      -> panel_chair (of that review), csp_coordinator
  imr                  -> agency_manager, imr_author (of the IMR's agency)
  action               -> agency_manager (of the action's lead agency)
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
import pytest
from sqlalchemy import select

from app.audit.models import HistoryEntry
from app.core import clock
from tests.journey import Journey
from tests.support import USERS, ok

D = dt.date

DECISION = "Decision whether to hold a review"
TERMS = "Terms of reference agreed"
OVERVIEW = "Overview Report completed"
IMR = "IMR quality-assured and sent to the panel"
ACTION = "Action completed with its outcome"
POLICE = "Exampleshire Constabulary"
HEALTH = "Example NHS Foundation Trust"
PROBATION = "Example Probation Delivery Unit"

# Everything personal the scenario records (tests/journey.py's scope() and complete_imr(), and the
# names and addresses of every invented user): none of it may reach a calendar, in any spelling.
PERSONAL = [
    "Zoë", "O'Brien", "Brien-Smith", "Zed", "Bartholomew", "Quince",
    "1991-03-04", "19910304", "04/03/1991", "Acacia", "Exampletown", "EX1 2AB",
    "Ivy Independent", "Practitioner 1",
    "Invented case for tests.",  # the review's free-text summary
    "2026-01-02", "2026-01-30", "2026-02-17",  # dates of death (notified 3 days later)
    *[name for _key, name, *_rest in USERS],
    "@dhr.example",
]
LINK_DETAIL = "Sign in and get the current link from GET /api/v1/auth/me/calendar."


@dataclass
class Feed:
    link: dict
    raw: bytes
    calendar: icalendar.Calendar

    @property
    def events(self) -> list[icalendar.Event]:
        return list(self.calendar.walk("VEVENT"))

    def entries(self) -> set[tuple[str, dt.date]]:
        return {(str(e["SUMMARY"]), e["DTSTART"].dt) for e in self.events}

    def by_summary(self, summary: str) -> icalendar.Event:
        (event,) = [e for e in self.events if str(e["SUMMARY"]) == summary]
        return event


def fetch(api, key: str) -> Feed:
    """What a calendar client does: read the address shown to the user, with no credentials."""
    link = ok(api.as_(key).get("/auth/me/calendar"))
    response = api.client.get(urlsplit(link["url"]).path)
    assert "authorization" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "text/calendar"
    assert response.headers["cache-control"] == "no-store"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR" and str(calendar["VERSION"]) == "2.0"
    feed = Feed(link=link, raw=response.content, calendar=calendar)
    assert link["deadlines"] == len(feed.events), "the link's count differs from the feed"
    for event in feed.events:
        start = event["DTSTART"].dt
        assert type(start) is dt.date, f"{event['SUMMARY']}: not an all-day event ({start!r})"
        assert event["DTEND"].dt == start + dt.timedelta(days=1)
    return feed


def feed_path(link: dict) -> str:
    return urlsplit(link["url"]).path


def _extension_count(event: icalendar.Event) -> int:
    return int(event["SEQUENCE"])


# -- the scenario -----------------------------------------------------------------------------------

@dataclass
class Scenario:
    notified: Journey  # CAMCITY, still notified: decision and terms due 2026-03-20
    evidence: Journey  # CAMCITY, evidence with police and health IMRs due 2026-04-15; overview due 2026-08-12
    drafting: Journey  # CAMCITY, drafting with a police-led and a probation-led action; overview due 2026-07-15
    fenland: Journey  # FENLAND, notified 2026-01-05: decision and terms due (and overdue) 2026-02-05

    def ref(self, which: str) -> str:
        return getattr(self, which).review["reference"]


def build(api, world) -> Scenario:
    fenland = Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 5))

    drafting = Journey(api, world, notified_on=D(2026, 1, 5)).to("drafting")  # decided 2026-01-15; day 2026-02-20
    rec = ok(api.as_("panel_chair").post(f"/reviews/{drafting.id}/recommendations", json={"text": "Embed routine enquiry.", "scope": "local"}), 201)
    for agency, target in (("police", "2026-06-30"), ("probation", "2026-09-30")):
        action = ok(api.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
            "action": f"Train {agency} staff in routine enquiry.", "lead_agency_id": world.agencies[agency],
            "target_date": target, "outcome_measure": "90% trained."}), 201)
        drafting.actions.append(action["id"])

    evidence = Journey(api, world, notified_on=D(2026, 2, 2)).to("evidence")  # decided 2026-02-12, terms agreed 2026-02-17
    evidence.commission(agencies=("police", "health"))  # 2026-02-18: due 8 weeks later, 2026-04-15
    evidence.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer",
                       independence_confirmed=True)

    notified = Journey(api, world, notified_on=D(2026, 2, 20))
    clock.set_today(D(2026, 3, 1))
    return Scenario(notified=notified, evidence=evidence, drafting=drafting, fenland=fenland)


def expected(s: Scenario) -> dict[str, set[tuple[str, dt.date]]]:
    r0, r1, r2, rf = s.ref("notified"), s.ref("evidence"), s.ref("drafting"), s.ref("fenland")
    return {
        "coordinator": {
            (f"{r0}: {DECISION}", D(2026, 3, 20)), (f"{r0}: {TERMS}", D(2026, 3, 20)),
            (f"{r1}: {OVERVIEW}", D(2026, 8, 12)), (f"{r2}: {OVERVIEW}", D(2026, 7, 15)),
        },
        "chair": {(f"{r0}: {DECISION}", D(2026, 3, 20))},
        # Chairs the panels of the evidence and drafting reviews, not yet of the notified one.
        "panel_chair": {(f"{r1}: {OVERVIEW}", D(2026, 8, 12)), (f"{r2}: {OVERVIEW}", D(2026, 7, 15))},
        "panel_member": set(),
        "police_manager": {(f"{r1}: {IMR} ({POLICE})", D(2026, 4, 15)), (f"{r2}: {ACTION} ({POLICE})", D(2026, 6, 30))},
        "police_author": {(f"{r1}: {IMR} ({POLICE})", D(2026, 4, 15))},
        "health_author": {(f"{r1}: {IMR} ({HEALTH})", D(2026, 4, 15))},
        "health_manager": {(f"{r1}: {IMR} ({HEALTH})", D(2026, 4, 15))},
        "housing_author": set(),
        "probation_manager": {(f"{r2}: {ACTION} ({PROBATION})", D(2026, 9, 30))},
        "home_office": set(),
        "admin": set(),
        "other_coordinator": {(f"{rf}: {DECISION} (overdue)", D(2026, 2, 5)), (f"{rf}: {TERMS} (overdue)", D(2026, 2, 5))},
        "other_chair": {(f"{rf}: {DECISION} (overdue)", D(2026, 2, 5))},
    }


# -- who sees what ----------------------------------------------------------------------------------

def test_each_person_s_feed_holds_exactly_the_deadlines_the_yaml_makes_them_responsible_for(api, world):
    s = build(api, world)
    feeds = {key: fetch(api, key) for key in expected(s)}

    for key, entries in expected(s).items():
        assert feeds[key].entries() == entries, key
        for event in feeds[key].events:
            assert _extension_count(event) == 0
            assert re.fullmatch(r"[0-9a-f]{32}@127\.0\.0\.1", str(event["UID"])), event["UID"]
            # The description says which review and stage, and links to the review, not more.
            description = str(event["DESCRIPTION"])
            assert description.startswith(f"Review: {str(event['SUMMARY']).split(':')[0]}\nStage: ")
            assert "/reviews/" in str(event["URL"])
    # One deadline is one event, with one UID, in everyone's calendar who is responsible for it.
    police_imr = feeds["police_manager"].by_summary(f"{s.ref('evidence')}: {IMR} ({POLICE})")
    assert str(police_imr["UID"]) == str(feeds["police_author"].by_summary(str(police_imr["SUMMARY"]))["UID"])
    police_imr_id = s.evidence.deadline("imr", s.evidence.imrs["police"])["id"]
    assert str(police_imr["UID"]) == f"{police_imr_id}@127.0.0.1"
    overview = f"{s.ref('drafting')}: {OVERVIEW}"
    assert feeds["coordinator"].by_summary(overview)["UID"] == feeds["panel_chair"].by_summary(overview)["UID"]

    # The personal data is on record (the case team sees it) but in no calendar, nor in any link.
    people = ok(api.as_("coordinator").get(f"/reviews/{s.evidence.id}/people"))["items"]
    assert {"Zoë O'Brien-Smith", "Bartholomew Quince"} <= {p["name"] for p in people}
    for key, feed in feeds.items():
        unfolded = feed.raw.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8")
        unescaped = unfolded.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n").replace("\\\\", "\\")
        values = "\n".join(str(v) for e in feed.events for v in e.values())
        for text in (unfolded, unescaped, values):
            leaked = [p for p in PERSONAL if p in text]
            assert not leaked, f"{key}'s calendar shows {leaked}"
        url = feed.link["url"]
        person = world.user(key)
        assert re.fullmatch(rf"http://127\.0\.0\.1:8000/api/v1/calendar/{person.id}\.[A-Za-z0-9_-]{{20,}}\.ics", url), url
        assert not [p for p in PERSONAL + [person.email] if len(p) > 3 and p in url], url
        assert "Keep it to yourself" in feed.link["about"]
    # Everyone gets a different address.
    assert len({feed.link["url"] for feed in feeds.values()}) == len(feeds)


def test_the_feed_follows_extensions_met_waived_and_overdue_deadlines(api, world):
    notified = Journey(api, world, notified_on=D(2026, 2, 20))  # decision and terms due 2026-03-20
    evidence = Journey(api, world, notified_on=D(2026, 2, 2)).to("evidence")
    evidence.commission(agencies=("police", "health"))  # IMRs due 2026-04-15
    r0, r1 = notified.review["reference"], evidence.review["reference"]
    police_imr, health_imr = f"{r1}: {IMR} ({POLICE})", f"{r1}: {IMR} ({HEALTH})"
    clock.set_today(D(2026, 3, 1))

    before = fetch(api, "police_author").by_summary(police_imr)
    assert (before["DTSTART"].dt, _extension_count(before)) == (D(2026, 4, 15), 0)
    assert "Extended" not in str(before["DESCRIPTION"])

    # An agreed extension moves the event: same UID, DTSTART the new date, SEQUENCE counts extensions.
    evidence.fire("chair", "agree_extension", deadline="imr", subject_id=evidence.imrs["police"], new_due_on="2026-05-31",
                  reason="The officer in the case is on leave.")
    for key in ("police_author", "police_manager"):
        after = fetch(api, key).by_summary(police_imr)
        assert str(after["UID"]) == str(before["UID"])
        assert after["DTSTART"].dt == D(2026, 5, 31) and after["DTEND"].dt == D(2026, 6, 1)
        assert _extension_count(after) == 1
        assert "Extended from 2026-04-15" in str(after["DESCRIPTION"])
    health = fetch(api, "health_author").by_summary(health_imr)
    assert (health["DTSTART"].dt, _extension_count(health)) == (D(2026, 4, 15), 0)  # the other agency's is untouched

    evidence.fire("chair", "agree_extension", deadline="imr", subject_id=evidence.imrs["police"], new_due_on="2026-06-30",
                  reason="Still on leave.")
    again = fetch(api, "police_author").by_summary(police_imr)
    assert (str(again["UID"]), again["DTSTART"].dt, _extension_count(again)) == (str(before["UID"]), D(2026, 6, 30), 2)
    assert "Extended from 2026-04-15" in str(again["DESCRIPTION"])

    # Past its due date an open deadline says so; the extended one does not.
    clock.set_today(D(2026, 4, 16))
    assert fetch(api, "health_author").entries() == {(f"{health_imr} (overdue)", D(2026, 4, 15))}
    assert fetch(api, "police_author").entries() == {(police_imr, D(2026, 6, 30))}
    assert fetch(api, "chair").entries() == {(f"{r0}: {DECISION} (overdue)", D(2026, 3, 20))}

    # A met deadline leaves the calendar (the agency had no contact: the IMR deadline is met).
    ok(api.as_("health_manager").post(f"/imrs/{evidence.imrs['health']}/events", json={
        "event": "declare_no_involvement", "data": {"statement": "No record of contact with either adult."}}))
    assert fetch(api, "health_author").entries() == set()
    assert fetch(api, "health_manager").entries() == set()
    assert fetch(api, "police_author").entries() == {(police_imr, D(2026, 6, 30))}

    # Deciding not to review meets the decision and waives the terms of reference: both leave.
    coordinator = fetch(api, "coordinator")
    assert {s for s, _ in coordinator.entries()} >= {f"{r0}: {DECISION} (overdue)", f"{r0}: {TERMS} (overdue)"}
    decision_uid = str(coordinator.by_summary(f"{r0}: {DECISION} (overdue)")["UID"])
    notified.fire("chair", "decide_not_to_review", rationale="Not a domestic homicide (3.8).")
    assert fetch(api, "chair").entries() == set()
    assert fetch(api, "coordinator").entries() == {(f"{r1}: {OVERVIEW}", D(2026, 8, 12))}

    # Reconsidering reopens them: the same events come back.
    notified.fire("chair", "reconsider", reason="The Home Office QA panel challenged the decision (11.4).")
    back = fetch(api, "chair")
    assert back.entries() == {(f"{r0}: {DECISION} (overdue)", D(2026, 3, 20))}
    assert str(back.events[0]["UID"]) == decision_uid


# -- the link ---------------------------------------------------------------------------------------

def test_resetting_the_link_ends_the_old_one_at_once_and_is_recorded(api, world, session):
    Journey(api, world, notified_on=D(2026, 2, 20))
    first = fetch(api, "coordinator")
    assert ok(api.as_("coordinator").get("/auth/me/calendar"))["url"] == first.link["url"]  # shown again, unchanged
    chair_link = fetch(api, "chair").link

    reset = ok(api.as_("coordinator").post("/auth/me/calendar/reset"))
    assert reset["url"] != first.link["url"] and reset["deadlines"] == 2
    old = api.client.get(feed_path(first.link))
    assert old.status_code == 404
    assert LINK_DETAIL in old.json()["detail"] and "reset" in old.json()["detail"]

    second = fetch(api, "coordinator")
    assert second.link["url"] == reset["url"]
    assert second.entries() == first.entries()
    assert fetch(api, "chair").link == chair_link  # nobody else's link changes

    ok(api.as_("coordinator").post("/auth/me/calendar/reset"))
    assert api.client.get(feed_path(second.link)).status_code == 404
    assert api.client.get(feed_path(first.link)).status_code == 404
    fetch(api, "coordinator")

    rows = session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity_id == world.user("coordinator").id, HistoryEntry.event == "calendar_link_reset")
    ).all()
    assert [(r.entity_type, r.actor_name, r.review_id) for r in rows] == [("user", "Cora Coordinator", None)] * 2

    # The link is only shown to its owner.
    assert api.as_(None).get("/auth/me/calendar").status_code == 401
    assert api.as_(None).post("/auth/me/calendar/reset").status_code == 401


def test_a_disabled_account_s_calendar_stops_working(api, world):
    Journey(api, world, notified_on=D(2026, 2, 20))
    chair = fetch(api, "chair")
    assert len(chair.events) == 1
    coordinator = fetch(api, "coordinator")
    ok(api.as_("admin").patch(f"/users/{world.user('chair').id}", json={"is_active": False}))

    response = api.client.get(feed_path(chair.link))
    assert response.status_code == 404
    assert "disabled" in response.json()["detail"] and LINK_DETAIL in response.json()["detail"]
    assert "text/calendar" not in response.headers["content-type"]
    assert fetch(api, "coordinator").entries() == coordinator.entries() != set()  # others' feeds carry on


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda token: token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", id="forged signature"),
        pytest.param(lambda token: "0" * 32 + "." + token.split(".", 1)[1], id="another user id"),
        pytest.param(lambda token: token.split(".", 1)[0], id="no signature"),
        pytest.param(lambda token: "." + token.split(".", 1)[1], id="no user"),
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="one character changed"),
    ],
)
def test_an_unknown_or_tampered_link_finds_nothing(api, world, mangle):
    Journey(api, world, notified_on=D(2026, 2, 20))
    link = fetch(api, "coordinator").link
    token = feed_path(link).rsplit("/", 1)[1].removesuffix(".ics")
    response = api.client.get(f"/api/v1/calendar/{mangle(token)}.ics")
    assert response.status_code == 404
    assert LINK_DETAIL in response.json()["detail"]


def test_one_person_s_signature_does_not_open_another_s_calendar(api, world):
    Journey(api, world, notified_on=D(2026, 2, 20))
    token = feed_path(fetch(api, "coordinator").link).rsplit("/", 1)[1].removesuffix(".ics")
    chair_token = feed_path(fetch(api, "chair").link).rsplit("/", 1)[1].removesuffix(".ics")
    swapped = chair_token.split(".", 1)[0] + "." + token.split(".", 1)[1]
    assert api.client.get(f"/api/v1/calendar/{swapped}.ics").status_code == 404

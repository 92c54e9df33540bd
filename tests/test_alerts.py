"""Deadline alerts and key-event emails, day by day through a review's life, over a real SMTP server.

Each day the test does what the people would do that day (through the API), then runs
`dhr sweep --on DAY` and reads what the SMTP server (aiosmtpd on 127.0.0.1) received. The expected
mail follows the schedules in workflows/dhr-2011.yaml: decision and terms of reference within a
month (guidance 6.2), IMRs by their due date (8.4-8.8), actions by their target date (8.16-8.20),
and the key events of 4.4-4.6, 8.8-8.9, 8.19 and 11.1-11.3.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Callable

from typer.testing import CliRunner

from app.cli import app as cli
from app.core import clock
from tests.journey import OVERVIEW, Journey
from tests.support import ok

D = dt.date
ONE_DAY = dt.timedelta(days=1)

POLICE = "Exampleshire Constabulary"
HEALTH = "Example NHS Foundation Trust"
DECISION = "Decision whether to hold a review"
TERMS = "Terms of reference agreed"
IMR = "IMR quality-assured and sent to the panel"
ACTION = "Action completed with its outcome"

# What the review holds that an email must never carry: its people, their details, and staff names.
PEOPLE = {
    "victim": {"role": "victim", "name": "Zoë O'Brien-Smith", "pseudonym": "Adult A", "aliases": ["Zed"],
               "date_of_birth": "1991-03-04", "address": "12 Acacia Avenue, Exampletown EX1 2AB"},
    "perpetrator": {"role": "perpetrator", "name": "Bartholomew Quince", "pseudonym": "Adult B"},
    "sister": {"role": "family", "name": "Imelda Quartermaine", "pseudonym": "Sister"},
}
NEVER_IN_MAIL = [
    "Zoë", "O'Brien", "O&#x27;Brien", "Zed", "1991", "4 March", "Acacia", "EX1 2AB", "Bartholomew", "Quince",
    "Imelda", "Quartermaine", "Adult A", "Adult B", "Ivy Independent", "Invented case", "coercive", "trained",
    # recipients are addressed by role, not by name
    "Chris", "Cora", "Penny", "Percy", "Molly", "Hattie", "Henry", "Hugo",
]


def sweep(day: dt.date) -> str:
    result = CliRunner().invoke(cli, ["sweep", "--on", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def email(world, key: str) -> str:
    return world.user(key).email


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def check_message(message, reference: str) -> None:
    """What every email must be: from the service, about one review, with nothing personal in it."""
    assert message["Subject"].startswith(f"{reference}: "), message["Subject"]
    assert message["From"] == "dhr-no-reply@localhost"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@localhost>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert reference in text and reference in html
    # The link opens the review's page (which asks for sign-in), not the JSON API.
    assert "http://127.0.0.1:8000/reviews/" in text and 'href="http://127.0.0.1:8000/reviews/' in html and "/api/v1" not in text
    for word in NEVER_IN_MAIL:
        for where, body in (("subject", message["Subject"]), ("text", text), ("html", html)):
            assert word not in body, f"{word!r} in the {where} of {message['Subject']!r}"


class Diary:
    """Runs the days: the day's work first, then the sweep, then what arrived, by day."""

    def __init__(self, smtp, reference: str):
        self.smtp = smtp
        self.reference = reference
        self.work: dict[dt.date, list[Callable[[], None]]] = defaultdict(list)
        self.received: dict[dt.date, list[tuple[str, str]]] = {}

    def on(self, day: dt.date, fn: Callable[[], None]) -> None:
        self.work[day].append(fn)

    def run(self, first: dt.date, last: dt.date) -> None:
        day = first
        while day <= last:
            clock.set_today(day)
            for fn in self.work.get(day, []):
                fn()
            sweep(day)
            got = []
            for message in self.smtp.take():
                check_message(message, self.reference)
                got.append((message["To"], message["Subject"].removeprefix(f"{self.reference}: ")))
            if got:
                self.received[day] = sorted(got)
            day += ONE_DAY


def test_a_review_s_mail_day_by_day_from_notification_to_the_action_plan(api, world, smtp):
    """Who is told what, on which day, from the notification (4.1) to the last action (8.20)."""
    j = Journey(api, world, notified_on=D(2026, 1, 5))  # the coordinator records it: decision and terms due 5 February
    ref = j.review["reference"]
    diary = Diary(smtp, ref)
    chair, coordinator, panel_chair = (email(world, k) for k in ("chair", "coordinator", "panel_chair"))
    police_author, police_manager = email(world, "police_author"), email(world, "police_manager")
    health_author, health_manager = email(world, "health_author"), email(world, "health_manager")
    home_office = email(world, "home_office")

    def decide():
        j.fire("chair", "decide_to_review", rationale="The death meets the definition in guidance 3.8.")
        j.fire("coordinator", "record_home_office_notified", sent_on="2026-01-26")

    def appoint_panel():
        for body in PEOPLE.values():
            ok(j.as_("coordinator").post(f"/reviews/{j.id}/people", json=body), 201)
        ok(j.as_("coordinator").post(f"/reviews/{j.id}/panel", json={
            "user_id": world.user("panel_chair").id, "role": "chair",
            "independence_statement": "I have no connection with any agency involved."}), 201)

    def agree_terms():
        ok(j.as_("panel_chair").put(f"/reviews/{j.id}/terms-of-reference", json={
            "period_from": "2023-01-01", "period_to": "2026-01-02", "key_lines_of_enquiry": ["What did agencies know of the risk?"],
            "coercive_control": True, "equality_and_diversity": True, "suicide": False,
            "family_involvement": "The family will be invited to contribute.", "text": "Terms of reference."}))
        j.fire("panel_chair", "agree_terms_of_reference")

    def commission():
        for agency in ("police", "health"):
            j.imrs[agency] = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": world.agencies[agency]}), 201)["id"]

    def write_imr(agency: str):
        author = f"{agency}_author"
        imr_id = j.imrs[agency]
        j.imr_event(author, agency, "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
        imr = ok(j.as_(author).get(f"/imrs/{imr_id}"))
        ok(j.as_(author).patch(f"/imrs/{imr_id}", headers={"If-Match": f'"{imr["version"]}"'}, json={
            "methodology": "Records reviewed; staff interviewed.", "analysis": "Risk was not assessed.", "lessons": "Ask about coercive control."}))
        ok(j.as_(author).post(f"/imrs/{imr_id}/chronology", json={
            "occurred_on": "2025-06-01", "description": "Adult A attended an appointment.", "seen": ["Adult A"],
            "staff": "Practitioner 1", "interviewed": True}), 201)

    def submit_imr(agency: str):
        j.imr_event(f"{agency}_author", agency, "send_for_agency_review")
        j.imr_event(f"{agency}_manager", agency, "quality_assure")

    def draft_and_present():
        overview = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/overview"))
        ok(j.as_("panel_chair").patch(f"/reviews/{j.id}/overview", headers={"If-Match": f'"{overview["version"]}"'}, json=OVERVIEW))
        rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={
            "text": "Embed routine enquiry.", "scope": "local", "imr_id": j.imrs["police"]}), 201)
        action = ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Train front-line officers in routine enquiry.", "lead_agency_id": world.agencies["police"],
            "target_date": "2026-05-30", "outcome_measure": "90% of officers trained.", "milestones": "Course written."}), 201)
        j.actions.append(action["id"])
        j.fire("panel_chair", "present_overview")

    diary.on(D(2026, 1, 26), decide)
    diary.on(D(2026, 1, 27), appoint_panel)
    diary.on(D(2026, 2, 9), agree_terms)
    diary.on(D(2026, 2, 10), commission)
    diary.on(D(2026, 3, 20), lambda: (write_imr("health"), submit_imr("health")))
    diary.on(D(2026, 3, 23), lambda: j.imr_event("panel_chair", "health", "return", reason="Please add the GP's contacts."))
    diary.on(D(2026, 3, 30), lambda: submit_imr("health"))
    diary.on(D(2026, 3, 31), lambda: j.imr_event("panel_chair", "health", "accept"))
    diary.on(D(2026, 4, 23), lambda: (write_imr("police"), submit_imr("police")))
    diary.on(D(2026, 4, 24), lambda: (j.imr_event("panel_chair", "police", "accept"), j.fire("panel_chair", "begin_drafting")))
    diary.on(D(2026, 5, 1), draft_and_present)
    diary.on(D(2026, 5, 5), lambda: j.fire("panel_chair", "approve_overview"))
    diary.on(D(2026, 5, 12), lambda: j.fire("panel_chair", "record_family_response", shared_on="2026-05-11", response="agreed"))
    diary.on(D(2026, 5, 15), lambda: j.fire("chair", "submit"))
    diary.on(D(2026, 5, 20), lambda: j.fire("home_office", "qa_clear_subject_to_changes", changes="Tighten the chronology.", received_on="2026-05-20"))
    def confirm_changes() -> None:
        (change,) = ok(j.as_("chair").get(f"/reviews/{j.id}/qa-changes"))["items"]
        ok(j.as_("chair").post(f"/qa-changes/{change['id']}/events", json={"event": "made", "text": "The chronology was tightened."}))
        j.fire("chair", "confirm_changes_made", summary="The chronology was tightened.")

    diary.on(D(2026, 5, 25), confirm_changes)
    diary.on(D(2026, 7, 1), lambda: ok(j.as_("police_manager").post(f"/actions/{j.actions[0]}/events", json={
        "event": "complete", "data": {"completed_on": "2026-07-01", "outcome": "All officers trained."}})))

    # The notification itself was recorded before the diary starts; its email goes with the first sweep.
    diary.run(D(2026, 1, 5), D(2026, 7, 14))

    def each(addresses, subject):
        return sorted((address, subject) for address in addresses)

    expected = {
        # 4.4-4.6: the CSP chair is told at once (the coordinator recorded it, so needs no email).
        D(2026, 1, 5): each([chair], "new notification of a death: decision due by 5 February 2026"),
        # 6.2: both deadlines fall on 5 February. No panel chair yet: the terms go to the coordinator.
        D(2026, 1, 22): sorted(each([chair, coordinator], f"{DECISION} due in 14 days") + each([coordinator], f"{TERMS} due in 14 days")),
        # The decision was made on 26 January: only the terms remain, now with the panel chair.
        D(2026, 1, 29): each([panel_chair, coordinator], f"{TERMS} due in 7 days"),
        D(2026, 2, 4): each([panel_chair, coordinator], f"{TERMS} due in 1 day"),
        D(2026, 2, 5): each([panel_chair, coordinator], f"{TERMS} due today"),
        # Overdue: escalated to the CSP chair from the first day.
        D(2026, 2, 6): each([panel_chair, coordinator, chair], f"{TERMS} overdue by 1 day"),
        # 8.1: IMRs commissioned (8 weeks: due 7 April) from each agency's manager and author.
        D(2026, 2, 10): sorted(
            each([police_author, police_manager], f"IMR commissioned from {POLICE}, due 7 April 2026")
            + each([health_author, health_manager], f"IMR commissioned from {HEALTH}, due 7 April 2026")
        ),
        # 8.8-8.9: the panel chair hears of the health IMR, returns it; the author and manager hear.
        D(2026, 3, 20): each([panel_chair], f"IMR from {HEALTH} sent to the panel"),
        D(2026, 3, 23): each([health_author, health_manager], f"IMR from {HEALTH} returned for changes"),
        D(2026, 3, 24): sorted(
            each([police_manager, police_author], f"{IMR} ({POLICE}) due in 14 days")
            + each([health_manager, health_author], f"{IMR} ({HEALTH}) due in 14 days")
        ),
        D(2026, 3, 30): each([panel_chair], f"IMR from {HEALTH} sent to the panel"),
        # The health IMR is in: only the police are reminded.
        D(2026, 3, 31): each([police_manager, police_author], f"{IMR} ({POLICE}) due in 7 days"),
        D(2026, 4, 6): each([police_manager, police_author], f"{IMR} ({POLICE}) due in 1 day"),
        D(2026, 4, 7): each([police_manager, police_author], f"{IMR} ({POLICE}) due today"),
        # Overdue: the panel chair and coordinator from the first day, the CSP chair from the fifteenth.
        D(2026, 4, 8): each([police_manager, police_author, panel_chair, coordinator], f"{IMR} ({POLICE}) overdue by 1 day"),
        D(2026, 4, 15): each([police_manager, police_author, panel_chair, coordinator], f"{IMR} ({POLICE}) overdue by 8 days"),
        D(2026, 4, 22): each([police_manager, police_author, panel_chair, coordinator, chair], f"{IMR} ({POLICE}) overdue by 15 days"),
        D(2026, 4, 23): each([panel_chair], f"IMR from {POLICE} sent to the panel"),
        # 8.19, 11.1: the Home Office is told of the submission; the CSP chair of its outcome.
        D(2026, 5, 15): each([home_office], "Overview Report submitted for quality assurance"),
        D(2026, 5, 16): each([police_manager], f"{ACTION} ({POLICE}) due in 14 days"),
        D(2026, 5, 20): each([chair], "Home Office QA outcome: cleared subject to changes"),
        # 8.17-8.20: the lead agency's manager; the coordinator once it is late; the CSP chair after four weeks.
        D(2026, 5, 30): each([police_manager], f"{ACTION} ({POLICE}) due today"),
        D(2026, 5, 31): each([police_manager, coordinator], f"{ACTION} ({POLICE}) overdue by 1 day"),
        D(2026, 6, 14): each([police_manager, coordinator], f"{ACTION} ({POLICE}) overdue by 15 days"),
        D(2026, 6, 28): each([police_manager, coordinator, chair], f"{ACTION} ({POLICE}) overdue by 29 days"),
    }
    for day in sorted(set(expected) | set(diary.received)):
        assert diary.received.get(day, []) == expected.get(day, []), f"mail on {day.isoformat()}"

    # Every alert step is in the review's history, once, by the system.
    alerts = [e for e in j.history() if e["event"] == "deadline_alert"]
    assert len(alerts) == 19
    assert all(e["actor"] == "system" for e in alerts)
    assert [e["data"]["step"] for e in alerts if e["data"]["kind"] == "action"] == ["before-14", "due", "overdue-1", "overdue-15", "overdue-29"]
    alert_mail = [subject for mail in expected.values() for _to, subject in mail if subject.startswith((DECISION, TERMS, IMR, ACTION))]
    assert sum(e["data"]["emails"] for e in alerts) == len(alert_mail) == 44

    # Running the last day again sends nothing more.
    sweep(D(2026, 7, 14))
    assert smtp.take() == []


def test_a_review_s_emails_say_what_is_due_and_where_to_look(api, world, smtp):
    """The text a coordinator reads: reference, partnership, stage, deadline, due date, status, link, why."""
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    sweep(D(2026, 1, 5))
    smtp.take()
    sweep(D(2026, 1, 22))
    to_coordinator = [m for m in smtp.take() if m["To"] == email(world, "coordinator") and DECISION in m["Subject"]]
    assert len(to_coordinator) == 1
    text, html = parts(to_coordinator[0])
    assert text.splitlines()[0] == f"{DECISION}: due in 14 days, on 5 February 2026."
    for line in (
        f"Review: {j.review['reference']}",
        "Partnership: Cambridge City CSP",
        "Stage: Notified: decision pending",
        f"Deadline: {DECISION}",
        "Due: 5 February 2026",
        "Status: Due in 14 days",
        f"Open the review: http://127.0.0.1:8000/reviews/{j.id}",
        "You receive this as the partnership's DHR coordinator.",
    ):
        assert line in text.splitlines(), line
    assert "paragraph 6.2" in text
    assert "<th scope=\"row\" style=\"text-align: left; padding: 4px 16px 4px 0;\">Due</th><td style=\"padding: 4px 0;\">5 February 2026</td>" in html


def test_an_extension_starts_the_schedule_again_for_the_new_date(api, world, smtp):
    """6.4: an agreed extension replaces the due date; alerts count down to the new one and say so."""
    j = Journey(api, world, notified_on=D(2026, 1, 5)).to("evidence")
    reference = j.review["reference"]
    j.commission(agencies=("police",))  # commissioned 2026-01-21, due 2026-03-18
    imr_id = j.imrs["police"]
    sweep(D(2026, 3, 19))  # the police IMR is overdue by a day
    assert sorted(m["To"] for m in smtp.take() if "overdue by 1 day" in m["Subject"]) == sorted(
        email(world, k) for k in ("police_manager", "police_author", "panel_chair", "coordinator"))
    clock.set_today(D(2026, 3, 20))
    j.fire("chair", "agree_extension", deadline="imr", subject_id=imr_id, new_due_on="2026-04-17", reason="Staff were on leave.")
    sweep(D(2026, 3, 20))
    sweep(D(2026, 3, 26))
    assert smtp.take() == []  # no more overdue alerts for the old date (26 March would have been one)
    for day, when in ((D(2026, 4, 3), "due in 14 days"), (D(2026, 4, 10), "due in 7 days")):
        sweep(day)
        sent = smtp.take()
        assert sorted(m["To"] for m in sent) == sorted(email(world, k) for k in ("police_manager", "police_author"))
        assert {m["Subject"] for m in sent} == {f"{reference}: {IMR} ({POLICE}) {when}"}
        text, _html = parts(sent[0])
        assert "Due: 17 April 2026 (extended from 18 March 2026)" in text.splitlines()


def test_alerts_wait_while_a_review_is_pended_and_the_latest_step_goes_on_resuming(api, world, smtp):
    """6.5-6.8: a pended review (say, for a criminal trial) sends no alerts; resumed, it sends the step due now."""
    j = Journey(api, world, notified_on=D(2026, 1, 5))
    reference = j.review["reference"]
    clock.set_today(D(2026, 1, 10))
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    j.fire("chair", "pend", reason="Criminal trial.")
    sweep(D(2026, 1, 10))
    assert [m["Subject"] for m in smtp.take()] == [f"{reference}: new notification of a death: decision due by 5 February 2026"]
    for day in range(11, 32):
        sweep(D(2026, 1, day))
    sweep(D(2026, 2, 8))
    assert [m["Subject"] for m in smtp.take()] == [], "no alert while pended"
    clock.set_today(D(2026, 2, 9))
    j.fire("chair", "resume")
    sweep(D(2026, 2, 9))
    sent = smtp.take()
    # The terms of reference are 4 days late: one overdue alert (the step of 6 February), not the missed ones.
    assert sorted((m["To"], m["Subject"]) for m in sent) == sorted(
        (email(world, k), f"{reference}: {TERMS} overdue by 4 days") for k in ("coordinator", "chair"))
    sweep(D(2026, 2, 10))
    assert smtp.take() == []


def test_an_agency_without_staff_on_the_service_is_written_to_at_its_own_address(api, world, smtp):
    """No email goes nowhere: an agency whose staff are not on the service hears at its own address."""
    j = Journey(api, world, notified_on=D(2026, 1, 5)).to("evidence")
    clock.set_today(j.day)
    sweep(j.day)
    smtp.take()
    # Probation has a manager but no author; an agency with nobody at all uses its address.
    from app.core.db import session_scope
    from app.partnerships.models import Agency

    with session_scope() as session:
        agency = Agency(name="Example Women's Aid", kind="voluntary", email="contact@womensaid.example")
        session.add(agency)
        session.flush()
        refuge = agency.id
    ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": refuge}), 201)
    ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": world.agencies["probation"]}), 201)
    sweep(j.day)
    received = sorted((m["To"], m["Subject"].split(": ", 1)[1]) for m in smtp.take())
    assert received == sorted([
        ("contact@womensaid.example", f"IMR commissioned from Example Women's Aid, due {_eight_weeks(j.day)}"),
        (email(world, "probation_manager"), f"IMR commissioned from Example Probation Delivery Unit, due {_eight_weeks(j.day)}"),
    ])


def _eight_weeks(day: dt.date) -> str:
    due = day + dt.timedelta(weeks=8)
    return f"{due.day} {due:%B %Y}"


def test_an_action_without_a_lead_agency_reminds_the_coordinator_and_says_why(api, world, smtp):
    """8.17: every action needs an owner; until it has one, its reminders go to the partnership's coordinator."""
    j = Journey(api, world, notified_on=D(2026, 1, 5)).to("drafting")
    clock.set_today(j.day)
    rec = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/recommendations", json={"text": "Share risk information.", "scope": "local"}), 201)
    target = j.day + dt.timedelta(days=20)
    ok(j.as_("panel_chair").post(f"/recommendations/{rec['id']}/actions", json={
        "action": "Agree an information-sharing protocol.", "target_date": target.isoformat(), "outcome_measure": "Protocol signed."}), 201)
    sweep(j.day)
    smtp.take()
    sweep(target - dt.timedelta(days=14))
    sent = smtp.take()
    assert [(m["To"], m["Subject"]) for m in sent] == [(email(world, "coordinator"), f"{j.review['reference']}: {ACTION} due in 14 days")]
    text, _html = parts(sent[0])
    assert "You receive this as the partnership's DHR coordinator (no one holds the role this message is for)." in text.splitlines()

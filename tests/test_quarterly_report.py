"""The partnership board's quarterly report and the Home Office's national view.

The central test builds an invented partnership whose reviews had different histories across
2026Q3 (1 July to 30 September 2026), writes down the plain facts of each (the dates chosen here),
computes every figure of the report from those facts by the definitions in app/reports/quarterly.py
(without calling the app's code), and compares them with the JSON and with the .docx read back with
python-docx. Some events happen after 30 September and the report is made in November, so the
figures must stand "as at" the quarter's last day.
"""
from __future__ import annotations

import calendar
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

import docx

from app.core import clock
from tests.journey import Journey
from tests.support import AGENCIES, ok

D = dt.date
QUARTER = "2026Q3"
Q_START, Q_END = D(2026, 7, 1), D(2026, 9, 30)
REPORT_DAY = D(2026, 11, 16)  # the board asks for the Q3 report in November
AMBER_DAYS = 14
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The workflow's states in their order, with their titles (workflows/dhr-2011.yaml).
STATE_TITLES = {
    "notified": "Notified: decision pending",
    "not_reviewed": "Decided not to review",
    "scoping": "Scoping: panel and terms of reference",
    "evidence": "Evidence: IMRs under way",
    "drafting": "Drafting the Overview Report",
    "panel_review": "Panel review and action plan",
    "family_review": "Shared with the family",
    "csp_signoff": "CSP sign-off",
    "submitted": "Submitted to Home Office QA",
    "cleared_subject_to_changes": "Cleared subject to changes",
    "revising": "Revising for resubmission",
    "cleared": "Cleared for publication",
    "published": "Published",
    "publication_withheld": "Publication withheld",
    "concluded": "Concluded",
    "pended": "Pended",
}
STATE_ORDER = list(STATE_TITLES)
# Every name the journeys put into a review (tests/journey.py), and the users who act on it.
PERSON_NAMES = ["Zoë O'Brien-Smith", "O'Brien-Smith", "Bartholomew Quince", "Adult A", "Adult B", "Acacia Avenue",
                "Ivy Independent", "Chris Cspchair", "Cora Coordinator", "Penny Panelchair", "Pat Panelmember",
                "Molly Policemanager", "Henry Healthmanager", "Howard Housingmanager", "Prue Probationmanager"]


# -- plain arithmetic, written here rather than imported ------------------------------------------

def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the end of a shorter month (31 August + 6 months = 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return D(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: dt.date | None) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}" if day else ""


def test_the_arithmetic_of_this_test():
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 7, 16), 6) == D(2027, 1, 16)
    assert long_date(D(2026, 1, 5)) == "5 January 2026"


# -- the facts of the invented partnership --------------------------------------------------------

@dataclass
class Deadline:
    kind: str
    starts: dt.date
    due: dt.date
    closed: dt.date | None = None  # met or waived on
    extensions: list[tuple[dt.date, dt.date]] = field(default_factory=list)  # (agreed on, new due date)


@dataclass
class ActionFact:
    id: str
    agency: str
    created: dt.date
    target: dt.date
    completed: dt.date | None = None
    extensions: list[tuple[dt.date, dt.date]] = field(default_factory=list)


@dataclass
class Case:
    j: Journey
    notified: dt.date
    stages: list[tuple[dt.date, str]]
    decided: dt.date | None = None
    decision: str | None = None
    terms_closed: dt.date | None = None
    approved: dt.date | None = None
    overview_extensions: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    imrs: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)  # (commissioned, met)
    actions: list[ActionFact] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.j.review["reference"]

    def stage_on(self, day: dt.date) -> str | None:
        reached = [state for on, state in self.stages if on <= day]
        return reached[-1] if reached else None

    def deadlines(self) -> list[Deadline]:
        month_after = add_months(self.notified, 1)
        found = [Deadline("decision", self.notified, month_after, self.decided),
                 Deadline("terms_of_reference", self.notified, month_after, self.terms_closed)]
        if self.decision == "review":
            found.append(Deadline("overview_report", self.decided, add_months(self.decided, 6), self.approved, self.overview_extensions))
        found += [Deadline("imr", on, on + dt.timedelta(weeks=8), met) for on, met in self.imrs]
        found += [Deadline("action", a.created, a.target, a.completed, a.extensions) for a in self.actions]
        return found


def due_on(due: dt.date, extensions: list[tuple[dt.date, dt.date]], day: dt.date) -> dt.date:
    for agreed, new_due in sorted(extensions):
        if agreed <= day:
            due = new_due
    return due


# -- driving the journeys to chosen dates -----------------------------------------------------------

# How many days each Journey step moves its clock before it acts (tests/journey.py).
LEAD = {"decide": 10, "scope": 5, "gather": 31, "draft": 20, "approve": 7, "family": 14, "submit": 7}


def at(j: Journey, day: dt.date) -> None:
    assert day >= j.day, f"{day} is before the journey's day {j.day}"
    j.advance((day - j.day).days)


def run(j: Journey, step: str, on: dt.date) -> None:
    """Do a Journey step so that it happens on `on`."""
    at(j, on - dt.timedelta(days=LEAD[step]))
    getattr(j, step)()
    assert j.day == on


def add_action(case: Case, agency: str, target: dt.date) -> ActionFact:
    j = case.j
    body = ok(j.as_("panel_chair").post(f"/recommendations/{j.recommendations[0]}/actions", json={
        "action": f"Invented action for the {agency} agency.", "lead_agency_id": j.world.agencies[agency],
        "target_date": target.isoformat(), "outcome_measure": "Audit shows it is done.", "milestones": "Plan; do; check."}), 201)
    fact = ActionFact(body["id"], agency, j.day, target)
    case.actions.append(fact)
    return fact


def journey_action(case: Case) -> ActionFact:
    """The police action Journey.draft adds: target 90 days after the draft day."""
    fact = ActionFact(case.j.actions[-1], "police", case.j.day, case.j.day + dt.timedelta(days=90))
    case.actions.append(fact)
    return fact


def complete_action(case: Case, fact: ActionFact, on: dt.date) -> None:
    at(case.j, on)
    ok(case.j.as_(f"{fact.agency}_manager").post(f"/actions/{fact.id}/events", json={
        "event": "complete", "data": {"completed_on": on.isoformat(), "outcome": "Done and audited."}}))
    fact.completed = on


def extend_action(case: Case, fact: ActionFact, agreed: dt.date, new_due: dt.date) -> None:
    at(case.j, agreed)
    case.j.fire("chair", "agree_extension", deadline="action", subject_id=fact.id, new_due_on=new_due.isoformat(),
                reason="The agency asked for more time.")
    fact.extensions.append((agreed, new_due))


def extend_overview(case: Case, agreed: dt.date, new_due: dt.date) -> None:
    at(case.j, agreed)
    case.j.fire("chair", "agree_extension", deadline="overview_report", new_due_on=new_due.isoformat(),
                reason="The criminal trial was adjourned (6.4).")
    case.overview_extensions.append((agreed, new_due))


def describe(case: Case, flags: list[str], themes: list[str]) -> None:
    j = case.j
    etag = j.as_("coordinator").get(f"/reviews/{j.id}").headers["ETag"]
    ok(j.as_("coordinator").patch(f"/reviews/{j.id}", json={"flags": flags, "themes": themes}, headers={"If-Match": etag}))
    case.flags, case.themes = flags, themes


def decided(case: Case, on: dt.date) -> None:
    run(case.j, "decide", on)
    case.decided, case.decision = on, "review"
    case.stages.append((on, "scoping"))


def scoped(case: Case, on: dt.date) -> None:
    run(case.j, "scope", on)
    case.terms_closed = on
    case.stages.append((on, "evidence"))


def gathered(case: Case, on: dt.date) -> None:
    run(case.j, "gather", on)  # IMRs commissioned 30 days before, quality-assured and accepted on `on`
    case.imrs += [(on - dt.timedelta(days=30), on)] * len(case.j.imrs)
    case.stages.append((on, "drafting"))


def drafted(case: Case, on: dt.date) -> None:
    run(case.j, "draft", on)
    journey_action(case)
    case.stages.append((on, "panel_review"))


def approved(case: Case, on: dt.date) -> None:
    run(case.j, "approve", on)
    case.approved = on
    case.stages.append((on, "family_review"))


def family(case: Case, on: dt.date) -> None:
    run(case.j, "family", on)
    case.stages.append((on, "csp_signoff"))


def new_case(api, world, notified: dt.date) -> Case:
    return Case(Journey(api, world, notified_on=notified), notified, [(notified, "notified")])


def build_partnership(api, world) -> dict[str, Case]:
    cases: dict[str, Case] = {}

    # R0: an old review, concluded in April 2026: not open; its action was completed before the quarter.
    r0 = cases["R0"] = new_case(api, world, D(2025, 10, 1))
    r0.j.to("published")
    r0.decided, r0.decision, r0.terms_closed, r0.approved = D(2025, 10, 11), "review", D(2025, 10, 16), D(2025, 12, 13)
    r0.actions.append(ActionFact(r0.j.actions[0], "police", D(2025, 12, 6), D(2026, 3, 6)))
    describe(r0, ["coercive_control"], ["Substance misuse"])
    r0.j.conclude()
    assert r0.j.day == D(2026, 4, 17) and r0.j.review["state"] == "concluded"
    r0.actions[0].completed = D(2026, 4, 17)
    r0.stages.append((D(2026, 4, 17), "concluded"))

    # R1: notified in July, decided within a month in Q3; green in evidence. Its IMRs are
    # commissioned in October, after the quarter, so their deadlines do not count at 30 September.
    r1 = cases["R1"] = new_case(api, world, D(2026, 7, 6))
    decided(r1, D(2026, 7, 16))
    scoped(r1, D(2026, 7, 21))
    describe(r1, ["coercive_control", "stalking"], ["substance misuse", "Information sharing"])

    # R2: notified in June, decided late in August; its terms of reference are overdue: red.
    r2 = cases["R2"] = new_case(api, world, D(2026, 6, 10))
    decided(r2, D(2026, 8, 9))
    describe(r2, ["stalking"], ["Coercive Control"])

    # R3: Overview Report approved in July, within six months of the March decision. Actions:
    # police (the journey's) overdue at 30 September; health completed in September; housing
    # overdue at 30 September, extended only in October.
    r3 = cases["R3"] = new_case(api, world, D(2026, 3, 2))
    decided(r3, D(2026, 3, 12))
    scoped(r3, D(2026, 3, 17))
    gathered(r3, D(2026, 5, 20))
    drafted(r3, D(2026, 7, 1))
    r3_health = add_action(r3, "health", D(2026, 9, 15))
    r3_housing = add_action(r3, "housing", D(2026, 9, 20))
    approved(r3, D(2026, 7, 20))
    family(r3, D(2026, 8, 3))
    complete_action(r3, r3_health, D(2026, 9, 1))
    describe(r3, [], ["Housing"])

    # R4: Overview Report late against six months but within the extension agreed in July. Actions:
    # police due in October; housing extended in September (so not overdue); probation overdue at
    # 30 September and completed only in October.
    r4 = cases["R4"] = new_case(api, world, D(2026, 1, 12))
    decided(r4, D(2026, 1, 22))
    scoped(r4, D(2026, 1, 27))
    gathered(r4, D(2026, 4, 1))
    extend_overview(r4, D(2026, 7, 1), D(2026, 8, 31))
    drafted(r4, D(2026, 8, 1))
    r4_housing = add_action(r4, "housing", D(2026, 9, 20))
    r4_probation = add_action(r4, "probation", D(2026, 9, 25))
    approved(r4, D(2026, 8, 20))
    family(r4, D(2026, 9, 3))
    extend_action(r4, r4_housing, D(2026, 9, 10), D(2026, 10, 31))

    # R5: Overview Report late even after an extension. Actions: health completed in September;
    # housing due on 30 September itself (due, not overdue; amber); police due in November.
    r5 = cases["R5"] = new_case(api, world, D(2026, 2, 2))
    decided(r5, D(2026, 2, 12))
    scoped(r5, D(2026, 2, 17))
    gathered(r5, D(2026, 5, 1))
    extend_overview(r5, D(2026, 8, 1), D(2026, 9, 5))
    drafted(r5, D(2026, 9, 1))
    r5_health = add_action(r5, "health", D(2026, 9, 30))
    add_action(r5, "housing", D(2026, 9, 30))
    approved(r5, D(2026, 9, 10))
    complete_action(r5, r5_health, D(2026, 9, 12))

    # R6: notified in September, decision due within 14 days of the quarter's end: amber.
    r6 = cases["R6"] = new_case(api, world, D(2026, 9, 10))

    # R7: decided not to review, within the month; its themes do not count.
    r7 = cases["R7"] = new_case(api, world, D(2026, 7, 1))
    at(r7.j, D(2026, 7, 10))
    r7.j.fire("chair", "decide_not_to_review", rationale="The death does not meet the definition.")
    r7.decided, r7.decision, r7.terms_closed = D(2026, 7, 10), "not_review", D(2026, 7, 10)
    r7.stages.append((D(2026, 7, 10), "not_reviewed"))
    describe(r7, ["coercive_control"], ["Substance misuse", "Housing"])

    # -- after the quarter: none of this may change the Q3 figures ----------------------------------
    decided(r6, D(2026, 10, 10))                       # R6 moves to scoping on 10 October
    at(r1.j, D(2026, 10, 2))
    r1.j.commission()                                   # R1's IMRs commissioned on 3 October
    assert r1.j.day == D(2026, 10, 3)
    r1.imrs += [(D(2026, 10, 3), None)] * len(r1.j.imrs)
    extend_action(r3, r3_housing, D(2026, 10, 5), D(2026, 11, 30))  # extension agreed after the quarter
    complete_action(r4, r4_probation, D(2026, 10, 15))  # completed after the quarter
    family(r5, D(2026, 10, 20))                         # R5 moves to CSP sign-off on 20 October

    # The journeys reached what was intended.
    for key, case in cases.items():
        assert case.j.get()["state"] == case.stages[-1][1], key
    return cases


# -- the figures, from the facts ------------------------------------------------------------------

def expected_figures(cases: dict[str, Case], world, starts: dt.date, as_at: dt.date) -> dict:
    ordered = sorted(cases.values(), key=lambda c: c.reference)

    # Open reviews: the stage each had reached by as_at, not concluded or not reviewed.
    rows = []
    for case in ordered:
        stage = case.stage_on(as_at)
        if stage is None or stage in ("concluded", "not_reviewed"):
            continue
        open_dues = [(due_on(d.due, d.extensions, as_at), d.kind) for d in case.deadlines()
                     if d.starts <= as_at and (d.closed is None or d.closed > as_at)]
        overdue = sorted({kind for due, kind in open_dues if due < as_at})
        upcoming = sorted(due for due, _ in open_dues if due >= as_at)
        if overdue:
            rag = "red"
        elif upcoming and (upcoming[0] - as_at).days <= AMBER_DAYS:
            rag = "amber"
        else:
            rag = "green"
        rows.append({"id": case.j.id, "reference": case.reference, "stage": stage, "stage_title": STATE_TITLES[stage],
                     "rag": rag, "overdue": overdue, "next_due_on": upcoming[0].isoformat() if upcoming else None})
    rows.sort(key=lambda r: (STATE_ORDER.index(r["stage"]), r["reference"]))
    by_stage: dict[str, dict] = {}
    for row in rows:
        s = by_stage.setdefault(row["stage"], {"stage": row["stage"], "title": row["stage_title"], "total": 0, "red": 0, "amber": 0, "green": 0})
        s["total"] += 1
        s[row["rag"]] += 1
    open_reviews = {"total": len(rows), **{c: sum(r["rag"] == c for r in rows) for c in ("red", "amber", "green")},
                    "by_stage": list(by_stage.values()), "reviews": rows}

    # Decisions made in the quarter, within one month of the notification or not.
    decisions = [{"reference": c.reference, "notified_on": c.notified.isoformat(), "decided_on": c.decided.isoformat(),
                  "due_on": add_months(c.notified, 1).isoformat(), "within_one_month": c.decided <= add_months(c.notified, 1)}
                 for c in ordered if c.decided and starts <= c.decided <= as_at]
    # Overview Reports completed in the quarter: within six months, within an extension agreed by then, late.
    overviews = []
    for c in ordered:
        if not (c.approved and starts <= c.approved <= as_at):
            continue
        original = add_months(c.decided, 6)
        extended = due_on(original, c.overview_extensions, c.approved)
        result = "within_six_months" if c.approved <= original else "within_extension" if c.approved <= extended else "late"
        overviews.append({"reference": c.reference, "decided_on": c.decided.isoformat(), "completed_on": c.approved.isoformat(),
                          "original_due_on": original.isoformat(),
                          "extended_due_on": extended.isoformat() if extended != original else None, "result": result})

    # Actions by lead agency.
    agencies: dict[str, dict] = {}
    for c in ordered:
        for a in c.actions:
            if a.created > as_at:
                continue
            row = agencies.setdefault(a.agency, {"agency_id": world.agencies[a.agency], "agency": AGENCIES[a.agency][0],
                                                 "completed": 0, "due": 0, "overdue": 0})
            if a.completed and a.completed <= as_at:
                row["completed"] += starts <= a.completed
            else:
                row["due" if due_on(a.target, a.extensions, as_at) >= as_at else "overdue"] += 1
    action_rows = sorted((r for r in agencies.values() if r["completed"] + r["due"] + r["overdue"]), key=lambda r: r["agency"].casefold())

    # Themes: library flags (with intimate partner from the relationship) and free themes,
    # ignoring case, of the reviews not "not reviewed".
    groups: dict[str, dict] = {}
    for c in ordered:
        if c.stage_on(as_at) in (None, "not_reviewed"):
            continue
        names = ["intimate partner"] + [f.replace("_", " ") for f in c.flags] + c.themes
        for key in dict.fromkeys(n.casefold() for n in names):
            g = groups.setdefault(key, {"theme": key, "reviews": 0, "references": []})
            g["reviews"] += 1
            g["references"].append(c.reference)
    themes = sorted(groups.values(), key=lambda g: (-g["reviews"], g["theme"]))
    for g in themes:
        g["recurring"] = g["reviews"] >= 2

    return {
        "as_at": as_at.isoformat(),
        "open_reviews": open_reviews,
        "timeliness": {
            "decisions": {"total": len(decisions), "within_one_month": sum(d["within_one_month"] for d in decisions),
                          "late": sum(not d["within_one_month"] for d in decisions), "reviews": decisions},
            "overview_reports": {"total": len(overviews), **{r: sum(o["result"] == r for o in overviews)
                                                           for r in ("within_six_months", "within_extension", "late")},
                                 "reviews": overviews},
        },
        "actions": {"by_lead_agency": action_rows,
                    "totals": {n: sum(r[n] for r in action_rows) for n in ("completed", "due", "overdue")}},
        "themes": themes,
    }


# -- reading the .docx back -------------------------------------------------------------------------

def table_rows(document, header: list[str]) -> list[list[str]]:
    for table in document.tables:
        rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
        if rows and rows[0] == header:
            return rows[1:]
    raise AssertionError(f"no table headed {header}: {[[c.text for c in t.rows[0].cells] for t in document.tables]}")


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            parts += [p.text for p in part.paragraphs]
    return "\n".join(parts)


RAG_WORDS = {"red": "Red", "amber": "Amber", "green": "Green"}
RESULT_WORDS = {"within_six_months": "Within six months", "within_extension": "Within the extension", "late": "Late"}


def iso(text: str | None) -> dt.date | None:
    return D.fromisoformat(text) if text else None


def test_quarterly_figures_match_an_independent_computation(api, world):
    cases = build_partnership(api, world)
    clock.set_today(REPORT_DAY)
    expected = expected_figures(cases, world, Q_START, Q_END)
    ref = {key: case.reference for key, case in cases.items()}

    # The scenario covers what it means to: every colour, each timeliness result, each action count.
    rag = {r["reference"]: r["rag"] for r in expected["open_reviews"]["reviews"]}
    assert rag == {ref["R1"]: "green", ref["R2"]: "red", ref["R3"]: "red", ref["R4"]: "red", ref["R5"]: "amber", ref["R6"]: "amber"}
    assert [d["within_one_month"] for d in expected["timeliness"]["decisions"]["reviews"]] == [True, False, True]
    assert [o["result"] for o in expected["timeliness"]["overview_reports"]["reviews"]] == ["within_six_months", "within_extension", "late"]
    assert expected["actions"]["totals"] == {"completed": 2, "due": 4, "overdue": 3}
    assert [(t["theme"], t["reviews"]) for t in expected["themes"] if t["recurring"]] == [
        ("intimate partner", 7), ("coercive control", 3), ("stalking", 2), ("substance misuse", 2)]

    # -- the JSON ---------------------------------------------------------------------------------
    for who in ("chair", "coordinator"):
        response = api.as_(who).get(f"/csps/{world.csps['CAMCITY']}/quarterly-report", params={"quarter": QUARTER, "format": "json"})
        report = ok(response)
        assert response.headers["content-type"].startswith("application/json")
    assert report["csp"] == {"id": world.csps["CAMCITY"], "code": "CAMCITY", "name": "Cambridge City CSP"}
    assert (report["quarter"], report["starts_on"], report["ends_on"]) == (QUARTER, "2026-07-01", "2026-09-30")
    for name in ("as_at", "open_reviews", "timeliness", "actions"):
        assert report[name] == expected[name], name
    # Themes are grouped ignoring case; the name shown is one of the spellings used.
    assert [{**t, "theme": t["theme"].casefold()} for t in report["themes"]] == expected["themes"]
    spellings = {"Intimate partner", "Coercive control", "Coercive Control", "Stalking", "Substance misuse", "substance misuse"}
    assert all(t["theme"] in spellings for t in report["themes"] if t["recurring"])

    # -- the .docx, read back -----------------------------------------------------------------------
    response = api.as_("chair").get(f"/csps/{world.csps['CAMCITY']}/quarterly-report", params={"quarter": QUARTER})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(DOCX_TYPE)
    assert "CAMCITY-dhr-quarterly-report-2026Q3.docx" in response.headers["content-disposition"]
    document = docx.Document(io.BytesIO(response.content))
    text = all_text(document)

    headers = [p.text for s in document.sections for p in s.header.paragraphs]
    assert any("OFFICIAL-SENSITIVE" in h for h in headers), headers
    assert "Cambridge City CSP" in text
    assert "Quarter 3 of 2026: July to September 2026" in text
    assert "Figures as at 30 September 2026." in text

    o = expected["open_reviews"]
    assert f"Open reviews in all: {o['total']} ({o['red']} red, {o['amber']} amber, {o['green']} green)." in text
    assert table_rows(document, ["Stage", "Reviews", "Red", "Amber", "Green"]) == [
        [s["title"], str(s["total"]), str(s["red"]), str(s["amber"]), str(s["green"])] for s in o["by_stage"]]
    assert table_rows(document, ["Reference", "Stage", "Rating", "Overdue", "Next due"]) == [
        [r["reference"], r["stage_title"], RAG_WORDS[r["rag"]], ", ".join(k.replace("_", " ") for k in r["overdue"]), long_date(iso(r["next_due_on"]))]
        for r in o["reviews"]]

    d = expected["timeliness"]["decisions"]
    assert f"Decisions made in the quarter: {d['total']}; within one month: {d['within_one_month']}; late: {d['late']}." in text
    assert table_rows(document, ["Reference", "Notified", "Decided", "Due", "Within one month"]) == [
        [r["reference"], long_date(iso(r["notified_on"])), long_date(iso(r["decided_on"])), long_date(iso(r["due_on"])),
         "Yes" if r["within_one_month"] else "No"] for r in d["reviews"]]

    v = expected["timeliness"]["overview_reports"]
    assert (f"Overview Reports completed in the quarter: {v['total']}; within six months: {v['within_six_months']}; "
            f"within an agreed extension: {v['within_extension']}; late: {v['late']}.") in text
    assert table_rows(document, ["Reference", "Decided", "Completed", "Due", "Extended to", "Result"]) == [
        [r["reference"], long_date(iso(r["decided_on"])), long_date(iso(r["completed_on"])), long_date(iso(r["original_due_on"])),
         long_date(iso(r["extended_due_on"])), RESULT_WORDS[r["result"]]] for r in v["reviews"]]

    a = expected["actions"]
    assert table_rows(document, ["Lead agency", "Completed in the quarter", "Open, not yet due", "Open, overdue"]) == [
        [r["agency"], str(r["completed"]), str(r["due"]), str(r["overdue"])] for r in a["by_lead_agency"]]
    t = a["totals"]
    assert f"In all: {t['completed']} completed in the quarter, {t['due']} open and not yet due, {t['overdue']} overdue." in text

    themes = table_rows(document, ["Theme", "Reviews", "References"])
    assert [[row[0].casefold(), row[1], row[2]] for row in themes] == [
        [g["theme"], str(g["reviews"]), ", ".join(g["references"])] for g in expected["themes"] if g["recurring"]]
    assert "No reviews have recurring themes recorded." not in text

    # Reviews are named by reference only: no person's name anywhere in the document's XML.
    with zipfile.ZipFile(io.BytesIO(response.content)) as package:
        xml = "\n".join(package.read(n).decode("utf-8", "replace") for n in package.namelist() if n.endswith((".xml", ".rels")))
    for name in PERSON_NAMES:
        assert name not in text and name not in xml and name.replace("'", "&apos;") not in xml, name

    # A quarter still running stands as at today, and the later events then count.
    clock.set_today(D(2026, 10, 20))
    q4 = ok(api.as_("coordinator").get(f"/csps/{world.csps['CAMCITY']}/quarterly-report", params={"quarter": "2026q4", "format": "json"}))
    assert (q4["quarter"], q4["as_at"]) == ("2026Q4", "2026-10-20")
    expected_q4 = expected_figures(cases, world, D(2026, 10, 1), D(2026, 10, 20))
    assert q4["open_reviews"] == expected_q4["open_reviews"]
    assert q4["actions"] == expected_q4["actions"]
    assert q4["timeliness"] == expected_q4["timeliness"]


# -- who may ask, and bad questions -----------------------------------------------------------------

def test_only_the_partnerships_chair_and_coordinator_get_the_report(api, world):
    Journey(api, world, notified_on=D(2026, 8, 3))
    clock.set_today(D(2026, 8, 15))
    camcity = world.csps["CAMCITY"]
    path = f"/csps/{camcity}/quarterly-report"
    for who in ("chair", "coordinator"):
        response = api.as_(who).get(path, params={"quarter": QUARTER})
        assert response.status_code == 200, (who, response.text)
        assert response.headers["content-type"].startswith(DOCX_TYPE)
        # The quarter is running: figures as at today.
        assert ok(api.as_(who).get(path, params={"quarter": QUARTER, "format": "json"}))["as_at"] == "2026-08-15"
    for who in ("other_chair", "other_coordinator", "admin", "home_office", "panel_chair", "panel_member", "police_manager", "police_author"):
        response = api.as_(who).get(path, params={"quarter": QUARTER})
        assert response.status_code == 403, (who, response.text)
        assert "chair or coordinator" in response.json()["detail"]
    assert api.as_(None).get(path, params={"quarter": QUARTER}).status_code == 401
    # The other partnership's officers get their own.
    other = ok(api.as_("other_chair").get(f"/csps/{world.csps['FENLAND']}/quarterly-report", params={"quarter": QUARTER, "format": "json"}))
    assert other["csp"]["code"] == "FENLAND" and other["open_reviews"]["total"] == 0
    assert api.as_("chair").get("/csps/nosuchpartnership/quarterly-report", params={"quarter": QUARTER}).status_code == 404


def test_a_bad_or_future_quarter_is_refused_with_the_reason(api, world):
    clock.set_today(D(2026, 8, 15))
    path = f"/csps/{world.csps['CAMCITY']}/quarterly-report"
    for text in ("2026Q5", "2026Q0", "Q32026", "2026-3", "abcdef"):
        response = api.as_("chair").get(path, params={"quarter": text})
        assert response.status_code == 422, (text, response.text)
        assert f"'{text}' is not a quarter" in response.json()["detail"] and "2026Q3" in response.json()["detail"]
    for text in ("2026Q", "2026Q03"):  # the wrong length is refused before it is read
        response = api.as_("chair").get(path, params={"quarter": text})
        assert response.status_code == 422 and "quarter" in response.json()["message"], response.text
    assert api.as_("chair").get(path).status_code == 422  # a quarter must be given
    assert api.as_("chair").get(path, params={"quarter": QUARTER, "format": "pdf"}).status_code == 422
    for text in ("2026Q4", "2027Q1"):
        response = api.as_("chair").get(path, params={"quarter": text, "format": "json"})
        assert response.status_code == 422, response.text
        assert "has not begun" in response.json()["detail"]
    # A past quarter stands as at its last day.
    assert ok(api.as_("chair").get(path, params={"quarter": "2026Q2", "format": "json"}))["as_at"] == "2026-06-30"


# -- the Home Office's national view ---------------------------------------------------------------

def test_the_national_view_lists_submitted_reviews_from_every_partnership(api, world):
    # CAMCITY: submitted, decided 10 days after notification (within one month).
    on_time = Journey(api, world, notified_on=D(2026, 1, 5)).to("submitted")
    # FENLAND: decided 40 days after notification (late), submitted, required to resubmit, resubmitted.
    late = Journey(api, world, csp="FENLAND", notified_on=D(2026, 1, 12))
    late.advance(30)
    late.to("submitted")
    late.advance(20)
    late.fire("home_office", "qa_require_resubmission", feedback="The analysis is thin.")
    late.advance(10)
    late.fire("other_chair", "resubmit", summary="The analysis was strengthened.")
    # CAMCITY: submitted and cleared; themes recorded.
    cleared = Journey(api, world, notified_on=D(2026, 2, 2)).to("submitted")
    etag = cleared.as_("coordinator").get(f"/reviews/{cleared.id}").headers["ETag"]
    ok(cleared.as_("coordinator").patch(f"/reviews/{cleared.id}", json={"flags": ["stalking"], "themes": ["Information sharing"]},
                                        headers={"If-Match": etag}))
    cleared.to("cleared")
    # Not submitted: never in the national view.
    Journey(api, world, notified_on=D(2026, 3, 2)).to("csp_signoff")
    Journey(api, world, csp="FENLAND", notified_on=D(2026, 3, 9)).to("evidence")

    clock.set_today(D(2026, 11, 16))
    for who in ("chair", "coordinator", "other_chair", "admin", "panel_chair", "police_manager"):
        response = api.as_(who).get("/national/reviews")
        assert response.status_code == 403, (who, response.text)
    assert api.as_(None).get("/national/reviews").status_code == 401

    body = ok(api.as_("home_office").get("/national/reviews"))
    items = {i["reference"]: i for i in body["items"]}
    assert set(items) == {on_time.review["reference"], late.review["reference"], cleared.review["reference"]}
    assert body["total"] == 3
    assert body["by_state"] == [{"state": "cleared", "total": 1}, {"state": "submitted", "total": 2}]

    a, b, c = items[on_time.review["reference"]], items[late.review["reference"]], items[cleared.review["reference"]]
    assert (a["csp"]["code"], a["state"], a["submissions"]) == ("CAMCITY", "submitted", 1)
    assert (b["csp"]["code"], b["state"], b["submissions"]) == ("FENLAND", "submitted", 2)
    assert (c["csp"]["code"], c["state"], c["submissions"], c["qa_outcome"]) == ("CAMCITY", "cleared", 1, "cleared")
    assert a["region"] == b["region"] == "East of England"

    # Decisions: 15 January within a month of 5 January; 21 February not within a month of 12 January.
    assert (a["notified_on"], a["decided_on"], a["decision_within_one_month"]) == ("2026-01-05", "2026-01-15", True)
    assert (b["notified_on"], b["decided_on"], b["decision_within_one_month"]) == ("2026-01-12", "2026-02-21", False)
    assert c["decision_within_one_month"] is True
    # Overview Reports approved 63 days after the decision: within six months.
    assert a["overview_completed_on"] == "2026-03-19" and a["overview_result"] == "within_six_months"
    assert b["overview_result"] == "within_six_months"
    # Submitted 94 days after notification (the journey's steps: 10 + 5 + 31 + 20 + 7 + 14 + 7 days).
    assert a["first_submitted_on"] == (D(2026, 1, 5) + dt.timedelta(days=94)).isoformat()
    assert a["days_notification_to_first_submission"] == 94
    assert a["days_with_home_office"] == (D(2026, 11, 16) - D.fromisoformat(a["submitted_on"])).days
    assert c["days_with_home_office"] is None
    assert b["first_submitted_on"] != b["submitted_on"]

    assert "intimate_partner" in a["flags"] and c["flags"] == ["intimate_partner", "stalking"]
    assert c["themes"] == ["Information sharing"]
    themes = {t["theme"].casefold(): t for t in body["themes"]}
    assert themes["intimate partner"]["reviews"] == 3 and themes["intimate partner"]["recurring"]
    assert themes["stalking"]["reviews"] == 1 and not themes["stalking"]["recurring"]

    # Filters.
    only = ok(api.as_("home_office").get("/national/reviews", params={"csp_id": world.csps["FENLAND"]}))
    assert [i["reference"] for i in only["items"]] == [late.review["reference"]]
    assert ok(api.as_("home_office").get("/national/reviews", params={"state": "cleared"}))["total"] == 1


# -- later events must not rewrite a past quarter (README) ------------------------------------------
# Each event below clears or moves a stored date (decided_on, overview_approved_on, completed_on,
# met_on); the report replays the history instead (app/reports/replay.py), so the past quarter stands.

def _q(api, world, quarter: str) -> dict:
    return ok(api.as_("chair").get(f"/csps/{world.csps['CAMCITY']}/quarterly-report", params={"quarter": quarter, "format": "json"}))


def test_an_action_reopened_after_the_quarter_still_counts_as_completed_in_it(api, world):
    j = Journey(api, world, notified_on=D(2026, 3, 2)).to("family_review")  # its police action is due 2026-08-05
    clock.set_today(D(2026, 7, 20))
    ok(api.as_("police_manager").post(f"/actions/{j.actions[0]}/events", json={
        "event": "complete", "data": {"completed_on": "2026-07-20", "outcome": "Officers trained."}}))
    clock.set_today(D(2026, 10, 5))
    before = _q(api, world, QUARTER)
    assert before["actions"]["totals"] == {"completed": 1, "due": 0, "overdue": 0}
    ok(api.as_("chair").post(f"/actions/{j.actions[0]}/events", json={"event": "reopen", "data": {"reason": "The audit found gaps."}}))
    after = _q(api, world, QUARTER)
    assert after["actions"] == before["actions"]
    assert after["open_reviews"] == before["open_reviews"]


def test_a_decision_reconsidered_after_the_quarter_still_counts_in_it(api, world):
    j = Journey(api, world, notified_on=D(2026, 9, 1))
    j.advance(19)
    j.fire("chair", "decide_not_to_review", rationale="Not a domestic homicide.")
    j.advance(15)  # 5 October
    before = _q(api, world, QUARTER)
    assert before["timeliness"]["decisions"]["total"] == 1
    j.fire("chair", "reconsider", reason="New information from the police.")
    assert _q(api, world, QUARTER)["timeliness"] == before["timeliness"]


def test_an_overview_report_returned_after_the_quarter_still_counts_in_it(api, world):
    j = Journey(api, world, notified_on=D(2026, 1, 5)).to("panel_review")  # decided 15 January: due 15 July
    at(j, D(2026, 6, 10))
    j.approve()  # 17 June
    j.family()   # 1 July
    clock.set_today(D(2026, 7, 5))
    before = _q(api, world, "2026Q2")
    assert [o["completed_on"] for o in before["timeliness"]["overview_reports"]["reviews"]] == ["2026-06-17"]
    at(j, D(2026, 7, 10))
    j.fire("chair", "return_to_panel", reason="The CSP asks for a clearer action plan.")
    at(j, D(2026, 7, 15))
    j.fire("panel_chair", "present_overview")
    j.approve()  # 22 July
    assert _q(api, world, "2026Q2")["timeliness"] == before["timeliness"]

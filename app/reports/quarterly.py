"""The partnership board's quarterly DHR report: the figures, computed from the record.

Definitions (also in the README, so a board member can check a number):
- The figures stand "as at" the quarter's last day, or today while the quarter runs.
- A review's stage as at that day is the state its history had reached by then. Open reviews are
  those not concluded and not "not reviewed".
- Red, amber, green: red when any of the review's deadlines (its own, its IMRs', its actions') was
  open and past its due date that day; amber when one falls due within AMBER_DAYS; else green. A
  due date counts the extensions agreed by that day (6.4).
- Timeliness: decisions made in the quarter, within one month of the notification (4.5) or not;
  Overview Reports completed in the quarter, within six months of the decision (6.4), within an
  extension agreed by then, or late.
- Actions by lead agency: completed in the quarter; still open that day and due (on or after it);
  open and overdue.
- Themes: the national library flags and the free themes of the partnership's reviews (not those
  not reviewed), grouped ignoring case; recurring when two or more reviews share one.

Everything is read as it stood that day: stages from the history, due dates with the extensions
agreed by then, and whether each deadline was met or waived (so the decision, first approval and
completion dates) replayed from the history by app/reports/replay.py. A decision reconsidered, a
report re-approved or an action reopened after the quarter does not change it. Actions with no target
date cannot be due or overdue and are counted only when completed; themes are as tagged now.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.actions.models import Action
from app.audit.models import HistoryEntry
from app.core import clock
from app.core.errors import Invalid
from app.deadlines.models import Deadline
from app.partnerships.models import Agency, Csp
from app.reports.replay import DeadlineAt, deadlines_as_at
from app.reviews.models import Review
from app.reviews.service import library_flags
from app.workflow.engine import review_definition

AMBER_DAYS = 14
CLOSED_STATES = ("not_reviewed", "concluded")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    label: str
    starts_on: dt.date
    ends_on: dt.date

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = _QUARTER.match(text.strip().upper())
        if not match:
            raise Invalid(f"quarter: '{text}' is not a quarter; write the year and quarter, e.g. 2026Q3 for July to September 2026.")
        year, number = int(match[1]), int(match[2])
        starts = dt.date(year, 3 * number - 2, 1)
        ends = (dt.date(year + 1, 1, 1) if number == 4 else dt.date(year, 3 * number + 1, 1)) - dt.timedelta(days=1)
        return cls(f"{year}Q{number}", starts, ends)

    def contains(self, day: dt.date | None, as_at: dt.date) -> bool:
        return day is not None and self.starts_on <= day <= as_at


def due_as_at(deadline: Deadline, as_at: dt.date) -> dt.date:
    """The due date that held on `as_at`: the original, moved by each extension agreed by then."""
    due = deadline.original_due_on
    for extension in sorted(deadline.extensions, key=lambda e: (e.agreed_on, e.created_at)):
        if extension.agreed_on <= as_at:
            due = extension.new_due_on
    return due


def overview_result(completed_on: dt.date, deadline: Deadline) -> tuple[str, dt.date]:
    """Within six months of the decision, within the extension agreed by completion, or late; and that due date."""
    extended = due_as_at(deadline, completed_on)
    if completed_on <= deadline.original_due_on:
        return "within_six_months", extended
    return ("within_extension" if completed_on <= extended else "late"), extended


def rag(deadlines: list[Deadline], as_at: dt.date, then: dict[str, DeadlineAt]) -> tuple[str, list[str], dt.date | None]:
    """(red|amber|green, the kinds overdue, the next due date) of one review's deadlines as they stood."""
    open_dues = [(due_as_at(d, as_at), d.kind) for d in deadlines if d.starts_on <= as_at and then[d.id].is_open]
    overdue = sorted({kind for due, kind in open_dues if due < as_at})
    upcoming = sorted(due for due, _kind in open_dues if due >= as_at)
    if overdue:
        colour = "red"
    elif upcoming and (upcoming[0] - as_at).days <= AMBER_DAYS:
        colour = "amber"
    else:
        colour = "green"
    return colour, overdue, upcoming[0] if upcoming else None


def _states_as_at(session: Session, review_ids: list[str], as_at: dt.date) -> dict[str, str]:
    rows = session.execute(
        select(HistoryEntry.review_id, HistoryEntry.to_state)
        .where(HistoryEntry.review_id.in_(review_ids), HistoryEntry.entity_type == "review",
               HistoryEntry.to_state.is_not(None), HistoryEntry.on <= as_at)
        .order_by(HistoryEntry.review_id, HistoryEntry.seq)
    ).all()
    states: dict[str, str] = {}
    for review_id, state in rows:
        states[review_id] = state  # the last one by sequence wins
    return states


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def build(session: Session, csp: Csp, quarter: Quarter) -> dict:
    today = clock.today()
    if quarter.starts_on > today:
        raise Invalid(f"quarter: {quarter.label} has not begun; ask for this quarter or an earlier one.")
    as_at = min(quarter.ends_on, today)
    reviews = list(session.scalars(select(Review).where(Review.csp_id == csp.id, Review.notified_on <= as_at).order_by(Review.reference)))
    ids = [r.id for r in reviews]
    states = _states_as_at(session, ids, as_at)
    deadlines: dict[str, list[Deadline]] = {r.id: [] for r in reviews}
    every_deadline = list(session.scalars(select(Deadline).where(Deadline.review_id.in_(ids))))
    for deadline in every_deadline:
        deadlines[deadline.review_id].append(deadline)
    then = deadlines_as_at(session, every_deadline, as_at)
    return {
        "csp": {"id": csp.id, "code": csp.code, "name": csp.name},
        "quarter": quarter.label,
        "starts_on": quarter.starts_on,
        "ends_on": quarter.ends_on,
        "as_at": as_at,
        "open_reviews": _open_reviews(reviews, states, deadlines, as_at, then),
        "timeliness": _timeliness(reviews, deadlines, quarter, as_at, then),
        "actions": _actions(session, ids, deadlines, quarter, as_at, then),
        "themes": _themes(reviews, states),
    }


def _open_reviews(reviews: list[Review], states: dict[str, str], deadlines: dict[str, list[Deadline]], as_at: dt.date,
                  then: dict[str, DeadlineAt]) -> dict:
    rows = []
    for review in reviews:
        state = states.get(review.id)
        if state is None or state in CLOSED_STATES:
            continue
        colour, overdue, next_due = rag(deadlines[review.id], as_at, then)
        rows.append({
            "id": review.id, "reference": review.reference, "stage": state,
            "stage_title": review_definition(review).state(state).title or _label(state),
            "rag": colour, "overdue": overdue, "next_due_on": next_due,
        })
    order = {name: i for i, name in enumerate(s.name for r in reviews[:1] for s in review_definition(r).states)}
    stages: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: (order.get(r["stage"], 99), r["reference"])):
        stage = stages.setdefault(row["stage"], {"stage": row["stage"], "title": row["stage_title"], "total": 0, "red": 0, "amber": 0, "green": 0})
        stage["total"] += 1
        stage[row["rag"]] += 1
    return {
        "total": len(rows),
        **{colour: sum(1 for r in rows if r["rag"] == colour) for colour in ("red", "amber", "green")},
        "by_stage": list(stages.values()),
        "reviews": sorted(rows, key=lambda r: (order.get(r["stage"], 99), r["reference"])),
    }


def _deadline(deadlines: list[Deadline], kind: str, subject_id: str = "") -> Deadline | None:
    return next((d for d in deadlines if d.kind == kind and d.subject_id == subject_id), None)


def _timeliness(reviews: list[Review], deadlines: dict[str, list[Deadline]], quarter: Quarter, as_at: dt.date,
                then: dict[str, DeadlineAt]) -> dict:
    """A decision is the day its deadline was met, an Overview Report the day it was first approved."""
    decisions, overviews = [], []
    for review in reviews:
        decision = _deadline(deadlines[review.id], "decision")
        decided = then[decision.id].met_on if decision is not None else None
        if quarter.contains(decided, as_at):
            decisions.append({
                "reference": review.reference, "notified_on": review.notified_on, "decided_on": decided,
                "due_on": decision.original_due_on, "within_one_month": decided <= decision.original_due_on,
            })
        overview = _deadline(deadlines[review.id], "overview_report")
        completed = then[overview.id].met_on if overview is not None else None
        if quarter.contains(completed, as_at):
            result, extended = overview_result(completed, overview)
            overviews.append({
                "reference": review.reference, "decided_on": review.decided_on, "completed_on": completed,
                "original_due_on": overview.original_due_on, "extended_due_on": extended if extended != overview.original_due_on else None,
                "result": result,
            })
    return {
        "decisions": {
            "total": len(decisions),
            "within_one_month": sum(1 for d in decisions if d["within_one_month"]),
            "late": sum(1 for d in decisions if not d["within_one_month"]),
            "reviews": decisions,
        },
        "overview_reports": {
            "total": len(overviews),
            **{result: sum(1 for o in overviews if o["result"] == result) for result in ("within_six_months", "within_extension", "late")},
            "reviews": overviews,
        },
    }


def _actions(session: Session, review_ids: list[str], deadlines: dict[str, list[Deadline]], quarter: Quarter, as_at: dt.date,
             then: dict[str, DeadlineAt]) -> dict:
    agencies = {a.id: a.name for a in session.scalars(select(Agency))}
    counts: dict[str, dict] = {}
    for action in session.scalars(select(Action).where(Action.review_id.in_(review_ids))):
        if action.created_at.date() > as_at or action.lead_agency_id is None:
            continue
        deadline = _deadline(deadlines[action.review_id], "action", action.id)
        due = due_as_at(deadline, as_at) if deadline is not None else action.target_date
        # Its deadline is met on the completion date; an action with no target date has no deadline.
        completed_on = then[deadline.id].met_on if deadline is not None else action.completed_on
        row = counts.setdefault(action.lead_agency_id, {"agency_id": action.lead_agency_id, "agency": agencies.get(action.lead_agency_id, ""),
                                                         "completed": 0, "due": 0, "overdue": 0})
        if completed_on is not None and completed_on <= as_at:
            if quarter.contains(completed_on, as_at):
                row["completed"] += 1
        elif due is not None:
            row["due" if due >= as_at else "overdue"] += 1
    rows = sorted((r for r in counts.values() if r["completed"] or r["due"] or r["overdue"]), key=lambda r: r["agency"].casefold())
    return {
        "by_lead_agency": rows,
        "totals": {name: sum(r[name] for r in rows) for name in ("completed", "due", "overdue")},
    }


def theme_names(review: Review) -> list[str]:
    """The review's library flags, worded, and its free themes; one each, ignoring case."""
    names = [_label(flag) for flag in library_flags(review)] + list(review.themes or [])
    return list({name.casefold(): name for name in names}.values())


def count_themes(reviews: list[Review]) -> list[dict]:
    """Each theme with the reviews that share it, most shared first; recurring from two reviews."""
    groups: dict[str, dict] = {}
    for review in reviews:
        for name in theme_names(review):
            group = groups.setdefault(name.casefold(), {"theme": name, "reviews": 0, "references": []})
            group["reviews"] += 1
            group["references"].append(review.reference)
    themes = sorted(groups.values(), key=lambda g: (-g["reviews"], g["theme"].casefold()))
    for theme in themes:
        theme["recurring"] = theme["reviews"] >= 2
    return themes


def _themes(reviews: list[Review], states: dict[str, str]) -> list[dict]:
    return count_themes([r for r in reviews if states.get(r.id) not in (None, "not_reviewed")])

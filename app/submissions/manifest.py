"""manifest.json of the Home Office package (DOMAIN.md "Home Office submission").

The facts are taken at sign-off and kept with the submission; the files and their SHA-256 are
added when the zip is made. Every manifest is checked against the JSON Schema shipped beside
this module before it leaves, so the Home Office can rely on its shape.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import jsonschema

from app.deadlines.rules import status_of
from app.documents.anonymisation import matchers_for, pseudonymise
from app.documents.checks import Check
from app.documents.context import QUOTED_IMR_STATES, Facts
from app.reviews.service import library_flags

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
MANIFEST_VERSION = 1


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(manifest: dict) -> None:
    """Raises jsonschema.ValidationError when the manifest does not match the shipped schema."""
    jsonschema.validate(manifest, schema(), format_checker=jsonschema.FormatChecker())


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _had_contact(state: str) -> bool | None:
    # Known once the agency's senior manager has signed the IMR off (8.8), or it confirmed no contact (8.4).
    if state == "no_involvement":
        return False
    return True if state in QUOTED_IMR_STATES else None


def facts_manifest(facts: Facts, *, number: int, kind: str, on: dt.date, submitted_by: dict, readiness: list[Check],
                   what_changed: str | None, answers_feedback: str | None, edits: list[dict] | None) -> dict:
    """Everything but `files`: the review as the CSP signed it off, in words safe for the Home Office."""
    review = facts.review
    safe = matchers_for(facts.people)
    agencies_by_imr = {imr.id: agency for imr, agency in facts.imrs}
    deadlines = []
    for deadline in sorted(facts.deadlines, key=lambda d: (d.starts_on, d.kind, d.subject_id)):
        subject = None
        if deadline.kind == "imr" and deadline.subject_id in agencies_by_imr:
            subject = {"type": "imr", "agency": agencies_by_imr[deadline.subject_id].name}
        elif deadline.kind == "action":
            subject = {"type": "action", "id": deadline.subject_id}
        deadlines.append({
            "kind": deadline.kind,
            "subject": subject,
            "starts_on": _day(deadline.starts_on),
            "original_due_on": _day(deadline.original_due_on),
            "due_on": _day(deadline.due_on),
            "extended": deadline.due_on != deadline.original_due_on,
            "extensions": [
                {"previous_due_on": _day(e.previous_due_on), "new_due_on": _day(e.new_due_on), "agreed_on": _day(e.agreed_on),
                 "reason": pseudonymise(e.reason, safe)}
                for e in deadline.extensions
            ],
            "met_on": _day(deadline.met_on),
            "waived_on": _day(deadline.waived_on),
            "status": status_of(deadline, on),
        })
    chair = next(((m, name, agency) for m, name, agency in facts.panel if m.role == "chair"), None)
    return {
        "manifest_version": MANIFEST_VERSION,
        "marking": "OFFICIAL-SENSITIVE",
        "package": {
            "version": number,
            "kind": kind,
            "submitted_on": on.isoformat(),
            "submitted_by": submitted_by,
            "what_changed": pseudonymise(what_changed, safe) if what_changed else None,
            "answers_feedback": pseudonymise(answers_feedback, safe) if answers_feedback else None,
            "edits_since_previous": edits,
        },
        "review": {"reference": review.reference, "workflow": f"{review.workflow_name} v{review.workflow_version}"},
        "csp": {"code": facts.csp.code, "name": facts.csp.name, "region": facts.csp.region},
        "dates": {
            "death": _day(review.date_of_death),
            "notification": _day(review.notified_on),
            "decision": _day(review.decided_on),
            "home_office_notified": _day(review.home_office_notified_on),
            "terms_of_reference": _day(review.terms_agreed_on),
            "overview_completion": _day(review.overview_approved_on),
            "sign_off": _day(review.signed_off_on or on),
            "first_submission": _day(review.first_submitted_on or on),
        },
        "deadlines": deadlines,
        "agencies": [
            {"name": agency.name, "kind": agency.kind, "imr_state": imr.state, "had_contact": _had_contact(imr.state)}
            for imr, agency in facts.imrs
        ],
        # Named in the published report too (8.19: "apart from ... the Review Panel Chair and members").
        "panel": {
            "chair": {"name": chair[1], "agency": chair[2] or None, "independence_statement": bool((chair[0].independence_statement or "").strip())}
            if chair else None,
            "members": [{"name": name, "agency": agency or None} for m, name, agency in facts.panel if m.role != "chair"],
        },
        "readiness": {
            "ready": all(c.passed for c in readiness),
            "checked_on": on.isoformat(),
            "checks": [{"id": c.id, "passed": c.passed, "detail": c.detail} for c in readiness],
        },
        "library": {
            "region": facts.csp.region,
            "date_of_death": _day(review.date_of_death),
            "death_type": review.death_type,
            "cause_of_death": review.death_cause,
            "location_of_death": review.death_location,
            "relationship": review.relationship,
            "flags": library_flags(review),
            "themes": list(review.themes or []),
        },
    }

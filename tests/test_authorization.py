"""Who may call what: every operation of /api/v1, as every kind of person, on CAMCITY reviews.

The tables below ARE the access policy under test. Each row is one operation (optionally a variant
of it, after '#'), each column one person of tests/support.py. A new endpoint fails
`test_every_operation_has_an_expectation` until it is given a row here.

Codes:  2    the call succeeds (2xx)
        w    allowed: 2xx, or 409/422 because the body or the moment is wrong (never 401/403/404)
        401  not signed in
        403  can see the thing but this role may not do that
        404  outside this person's scope: answers as if it did not exist

Policy: administrators manage users, partnerships and agencies and see no review content; the Home
Office sees a review once submitted, never its IMRs or people; agency staff see their own agency's
IMRs (and, for a manager, the actions their agency leads) and the reviews those belong to, never
other agencies' IMRs, the overview, the panel or the history; panel roles are per review; the
other partnership (FENLAND) sees nothing of CAMCITY's reviews.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import docx
import pytest
from sqlalchemy import select

from app.auth.models import ApiToken, User
from app.auth.security import new_token, token_digest
from app.core import clock
from app.core.db import session_scope
from app.documents import templates
from app.documents.service import DOCX
from app.notifications import calendar
from app.notifications.models import OutboxMessage
from app.partnerships.models import Agency
from app.submissions.models import QaChange, Submission
from tests.journey import Journey
from tests.support import PASSWORD, password_hash, ok

ROLES = [
    "anonymous", "admin", "home_office", "coordinator", "chair", "other_coordinator", "other_chair",
    "panel_chair", "panel_member", "police_author", "police_manager", "health_author", "housing_author",
    "probation_manager",
]
PREFIX = "/api/v1"

# Column order (abbreviated):
#   anon  admin  HO  coord  chair  o.coord  o.chair  p.chair  p.member  pol.auth  pol.mgr  hea.auth  hou.auth  prob.mgr

# Not about one review: the same in every scenario.
GLOBAL = {
    "POST /auth/token":                   "2   2   2   2   2   2   2   2   2   2   2   2   2   2",
    "POST /auth/revoke":                  "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /auth/me":                       "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    # Everyone signed in has a calendar link; the feed itself is read by calendar clients with the
    # secret link alone (token: the coordinator's), so it answers whoever holds the link.
    "GET /auth/me/calendar":              "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /calendar/{token}.ics":          "2   2   2   2   2   2   2   2   2   2   2   2   2   2",
    # (after the feed: resetting ends the coordinator's link)
    "POST /auth/me/calendar/reset":       "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    # The partnership's mail is for its CSP officers (each sees their own partnership's).
    "GET /outbox":                        "401 403 403 2   2   2   2   403 403 403 403 403 403 403",
    "POST /users":                        "401 w   403 403 403 403 403 403 403 403 403 403 403 403",
    "GET /users":                         "401 2   403 2   2   2   2   403 403 403 403 403 403 403",
    "GET /users/{user_id}":               "401 2   403 403 403 403 403 403 403 403 403 403 403 403",
    "PATCH /users/{user_id}":             "401 w   403 403 403 403 403 403 403 403 403 403 403 403",
    "POST /csps":                         "401 w   403 403 403 403 403 403 403 403 403 403 403 403",
    "GET /csps":                          "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /csps/{csp_id}":                 "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "POST /agencies":                     "401 w   403 403 403 403 403 403 403 403 403 403 403 403",
    "GET /agencies":                      "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /agencies/{agency_id}":          "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    # CAMCITY's officers record notifications for CAMCITY only (the partnership list is public).
    "POST /reviews":                      "401 403 403 w   w   403 403 403 403 403 403 403 403 403",
    "GET /reviews":                       "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /deadlines":                     "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    # Across reviews: each sees only the actions they could open (checked in tests/test_action_tracking.py).
    "GET /actions":                       "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    # The package manifest's JSON Schema is public to anyone signed in; the national view is the Home Office's.
    "GET /home-office-package/schema":    "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /national/reviews":              "401 403 2   403 403 403 403 403 403 403 403 403 403 403",
    # The board's quarterly report: CAMCITY's own CSP officers only.
    "GET /csps/{csp_id}/quarterly-report": "401 403 403 2   2   403 403 403 403 403 403 403 403 403",
    # The statutory templates are public to anyone signed in; a partnership's own, to its CSP officers.
    "GET /templates/{kind}/content":      "401 2   2   2   2   2   2   2   2   2   2   2   2   2",
    "GET /csps/{csp_id}/templates":       "401 403 403 2   2   403 403 403 403 403 403 403 403 403",
    "GET /csps/{csp_id}/templates/{kind}/content": "401 403 403 2   2   403 403 403 403 403 403 403 403 403",
    "PUT /csps/{csp_id}/templates/{kind}":         "401 403 403 2   2   403 403 403 403 403 403 403 403 403",
    "DELETE /csps/{csp_id}/templates/{kind}":      "401 403 403 2   2   403 403 403 403 403 403 403 403 403",
}

# evidence: terms agreed; police and health IMRs commissioned (police's still "commissioned").
# Visible to: the CSP's officers, the panel, police and health staff. Not: admin, Home Office,
# FENLAND, housing (no IMR), probation (no IMR, no action).
EVIDENCE = {
    "GET /reviews/{review_id}":                       "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    # the library's facts and learning themes: the CSP's officers and the panel chair.
    "PATCH /reviews/{review_id}":                     "401 404 404 2   2   404 404 2   403 403 403 403 404 404",
    # record_criminal_proceedings without its required data: allowed roles get 422, others 403.
    "POST /reviews/{review_id}/events":               "401 404 404 w   w   404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/events":                "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/workflow":              "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "GET /reviews/{review_id}/readiness":             "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "POST /reviews/{review_id}/people":               "401 404 404 w   w   404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/people":                "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "POST /reviews/{review_id}/panel":                "401 404 404 w   w   404 404 403 403 403 403 403 404 404",
    "GET /reviews/{review_id}/panel":                 "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "PUT /reviews/{review_id}/terms-of-reference":    "401 404 404 w   403 404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/terms-of-reference":    "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "POST /reviews/{review_id}/imrs":                 "401 404 404 w   403 404 404 w   403 403 403 403 404 404",
    # agency staff get their own agency's IMRs only (checked in test_lists_show_only_what_each_role_may_open)
    "GET /reviews/{review_id}/imrs":                  "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "GET /imrs/{imr_id}":                             "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /imrs/{imr_id}#health":                      "401 404 404 2   2   404 404 2   2   404 404 2   404 404",
    "PATCH /imrs/{imr_id}":                           "401 404 404 403 403 404 404 403 403 2   2   404 404 404",
    # acknowledge without its required data: the agency's staff get 422, the case team 403.
    "POST /imrs/{imr_id}/events":                     "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    "POST /imrs/{imr_id}/chronology":                 "401 404 404 403 403 404 404 403 403 2   2   404 404 404",
    "GET /imrs/{imr_id}/chronology":                  "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /reviews/{review_id}/chronology":            "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/overview":              "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "PATCH /reviews/{review_id}/overview":            "401 404 404 403 403 404 404 2   403 403 403 403 404 404",
    "POST /reviews/{review_id}/recommendations":      "401 404 404 403 403 404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/recommendations":       "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    # Documents: reports for the case team (and the Home Office once submitted); IMR documents
    # (document_id: the police IMR's commissioning letter) for the case team and that agency.
    "POST /reviews/{review_id}/documents":            "401 404 404 2   2   404 404 2   403 404 404 404 404 404",
    "GET /reviews/{review_id}/documents":             "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "GET /documents/{document_id}":                   "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /documents/{document_id}#report":            "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /documents/{document_id}/content":           "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "POST /imrs/{imr_id}/documents":                  "401 404 404 403 403 404 404 403 403 2   2   404 404 404",
    # message_id: the commissioning email to the police; retrying it is for CAMCITY's officers.
    "POST /outbox/{message_id}/retry":                "401 403 403 2   2   404 404 403 403 403 403 403 403 403",
    # Parallel proceedings: the case team reads them; the CSP's officers and the panel chair record them.
    "GET /reviews/{review_id}/proceedings":           "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "POST /reviews/{review_id}/proceedings":          "401 404 404 2   2   404 404 2   403 404 404 404 404 404",
    "GET /proceedings/{proceeding_id}":               "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "PATCH /proceedings/{proceeding_id}":             "401 404 404 2   2   404 404 2   403 404 404 404 404 404",
    # Not yet submitted: the CSP's officers see an empty list, and the package is refused with a reason (409).
    "GET /reviews/{review_id}/submissions":           "401 404 404 2   2   404 404 404 404 404 404 404 404 404",
    "GET /reviews/{review_id}/home-office-package":   "401 404 404 w   w   404 404 404 404 404 404 404 404 404",
    "GET /reviews/{review_id}/qa-changes":            "401 404 404 2   2   404 404 2   404 404 404 404 404 404",
}

# drafting: police and health IMRs accepted; recommendation 1 with a police-led action and a
# probation-led action. Probation's manager now sees the review (their agency leads an action).
DRAFTING = {
    "GET /reviews/{review_id}":                       "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "POST /reviews/{review_id}/events":               "401 404 404 w   w   404 404 w   403 403 403 403 404 403",
    "GET /reviews/{review_id}/events":                "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/workflow":              "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "GET /reviews/{review_id}/readiness":             "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "POST /reviews/{review_id}/people":               "401 404 404 w   w   404 404 w   403 403 403 403 404 403",
    "GET /reviews/{review_id}/people":                "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "POST /reviews/{review_id}/panel":                "401 404 404 w   w   404 404 403 403 403 403 403 404 403",
    "GET /reviews/{review_id}/panel":                 "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "PUT /reviews/{review_id}/terms-of-reference":    "401 404 404 w   403 404 404 w   403 403 403 403 404 403",
    "GET /reviews/{review_id}/terms-of-reference":    "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "POST /reviews/{review_id}/imrs":                 "401 404 404 w   403 404 404 w   403 403 403 403 404 403",
    "GET /reviews/{review_id}/imrs":                  "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "GET /imrs/{imr_id}":                             "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /imrs/{imr_id}#health":                      "401 404 404 2   2   404 404 2   2   404 404 2   404 404",
    # accepted IMRs can no longer be edited: the agency's staff get 409, everyone else as before.
    "PATCH /imrs/{imr_id}":                           "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    "POST /imrs/{imr_id}/chronology":                 "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    "GET /imrs/{imr_id}/chronology":                  "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /reviews/{review_id}/chronology":            "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/overview":              "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "PATCH /reviews/{review_id}/overview":            "401 404 404 403 403 404 404 2   403 403 403 403 404 403",
    "POST /reviews/{review_id}/recommendations":      "401 404 404 403 403 404 404 2   403 403 403 403 404 403",
    "GET /reviews/{review_id}/recommendations":       "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "POST /recommendations/{recommendation_id}/actions": "401 404 404 403 403 404 404 2   403 404 404 404 404 404",
    "GET /actions/{action_id}":                       "401 404 404 2   2   404 404 2   2   404 2   404 404 404",
    "GET /actions/{action_id}#probation":             "401 404 404 2   2   404 404 2   2   404 404 404 404 2",
    "PATCH /actions/{action_id}":                     "401 404 404 403 403 404 404 2   403 404 403 404 404 404",
    # complete without its required data: lead agency's manager and CSP officers get 422.
    "POST /actions/{action_id}/events":               "401 404 404 w   w   404 404 403 403 404 w   404 404 404",
    "POST /actions/{action_id}/events#probation":     "401 404 404 w   w   404 404 403 403 404 404 404 404 w",
    "POST /reviews/{review_id}/documents":            "401 404 404 2   2   404 404 2   403 404 404 404 404 404",
    "GET /reviews/{review_id}/documents":             "401 404 404 2   2   404 404 2   2   2   2   2   404 2",
    "GET /documents/{document_id}":                   "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /documents/{document_id}#report":            "401 404 404 2   2   404 404 2   2   404 404 404 404 404",
    "GET /documents/{document_id}/content":           "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    # an accepted IMR takes no more uploads: its agency's staff get 409.
    "POST /imrs/{imr_id}/documents":                  "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
}

# submitted: the Home Office now sees the review, its overview, panel, history and action plan,
# never its IMRs or people. Nothing is editable, so allowed writers get 409.
SUBMITTED = {
    "GET /reviews/{review_id}":                       "401 404 2   2   2   404 404 2   2   2   2   2   404 404",
    "PATCH /reviews/{review_id}":                     "401 404 403 2   2   404 404 2   403 403 403 403 404 404",
    "POST /reviews/{review_id}/events":               "401 404 403 w   w   404 404 w   403 403 403 403 404 404",
    # qa_clear_subject_to_changes without its required data: only the Home Office gets past the role check.
    "POST /reviews/{review_id}/events#qa":            "401 404 w   403 403 404 404 403 403 403 403 403 404 404",
    "GET /reviews/{review_id}/events":                "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/workflow":              "401 404 2   2   2   404 404 2   2   2   2   2   404 404",
    "GET /reviews/{review_id}/readiness":             "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "POST /reviews/{review_id}/people":               "401 404 403 w   w   404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/people":                "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "POST /reviews/{review_id}/panel":                "401 404 403 w   w   404 404 403 403 403 403 403 404 404",
    "GET /reviews/{review_id}/panel":                 "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "PUT /reviews/{review_id}/terms-of-reference":    "401 404 403 w   403 404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/terms-of-reference":    "401 404 2   2   2   404 404 2   2   2   2   2   404 404",
    "POST /reviews/{review_id}/imrs":                 "401 404 403 w   403 404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/imrs":                  "401 404 404 2   2   404 404 2   2   2   2   2   404 404",
    "GET /imrs/{imr_id}":                             "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /imrs/{imr_id}#health":                      "401 404 404 2   2   404 404 2   2   404 404 2   404 404",
    "PATCH /imrs/{imr_id}":                           "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    # an accepted IMR has no events left: 409 for everyone who can see it, before any role check.
    "POST /imrs/{imr_id}/events":                     "401 404 404 w   w   404 404 w   w   w   w   404 404 404",
    "POST /imrs/{imr_id}/chronology":                 "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    "GET /imrs/{imr_id}/chronology":                  "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /reviews/{review_id}/chronology":            "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "GET /reviews/{review_id}/overview":              "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "PATCH /reviews/{review_id}/overview":            "401 404 403 403 403 404 404 w   403 403 403 403 404 404",
    "POST /reviews/{review_id}/recommendations":      "401 404 403 403 403 404 404 w   403 403 403 403 404 404",
    "GET /reviews/{review_id}/recommendations":       "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "POST /recommendations/{recommendation_id}/actions": "401 404 403 403 403 404 404 w   403 404 404 404 404 404",
    "GET /actions/{action_id}":                       "401 404 2   2   2   404 404 2   2   404 2   404 404 404",
    "PATCH /actions/{action_id}":                     "401 404 403 403 403 404 404 w   403 404 403 404 404 404",
    "POST /actions/{action_id}/events":               "401 404 403 w   w   404 404 403 403 404 w   404 404 404",
    "POST /reviews/{review_id}/documents":            "401 404 403 2   2   404 404 2   403 404 404 404 404 404",
    "GET /reviews/{review_id}/documents":             "401 404 2   2   2   404 404 2   2   2   2   2   404 404",
    "GET /documents/{document_id}":                   "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "GET /documents/{document_id}#report":            "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "GET /documents/{document_id}/content":           "401 404 404 2   2   404 404 2   2   2   2   404 404 404",
    "POST /imrs/{imr_id}/documents":                  "401 404 404 403 403 404 404 403 403 w   w   404 404 404",
    "GET /reviews/{review_id}/proceedings":           "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "POST /reviews/{review_id}/proceedings":          "401 404 403 2   2   404 404 2   403 404 404 404 404 404",
    "GET /proceedings/{proceeding_id}":               "401 404 2   2   2   404 404 2   2   404 404 404 404 404",
    "PATCH /proceedings/{proceeding_id}":             "401 404 403 2   2   404 404 2   403 404 404 404 404 404",
    # The package goes between the CSP's officers and the Home Office (8.19, 11.1); never to the panel or agencies.
    "GET /reviews/{review_id}/submissions":           "401 404 2   2   2   404 404 404 404 404 404 404 404 404",
    "GET /reviews/{review_id}/home-office-package":   "401 404 2   2   2   404 404 404 404 404 404 404 404 404",
    "PUT /reviews/{review_id}/submissions/{number}/letter": "401 404 2   2   2   404 404 404 404 404 404 404 404 404",
    "GET /reviews/{review_id}/submissions/{number}/letter": "401 404 2   2   2   404 404 404 404 404 404 404 404 404",
    "GET /reviews/{review_id}/qa-changes":            "401 404 2   2   2   404 404 2   404 404 404 404 404 404",
    # change_id: a change the QA panel asked for; marking it made waits for "cleared subject to changes" (409).
    "POST /qa-changes/{change_id}/events":            "401 404 403 w   w   404 404 w   404 404 404 404 404 404",
}

SCENARIOS = {"evidence": EVIDENCE, "drafting": DRAFTING, "submitted": SUBMITTED}


def _parse(table: dict[str, str]) -> dict[str, dict[str, str]]:
    parsed = {}
    for op, codes in table.items():
        cells = codes.split()
        assert len(cells) == len(ROLES), f"{op}: {len(cells)} columns, expected {len(ROLES)}"
        assert set(cells) <= {"2", "w", "401", "403", "404"}, op
        parsed[op] = dict(zip(ROLES, cells))
    return parsed


def _operation(key: str) -> str:
    return key.split("#", 1)[0]


def _matches(expected: str, status: int) -> bool:
    if expected == "2":
        return 200 <= status < 300
    if expected == "w":
        return 200 <= status < 300 or status in (409, 422)
    return status == int(expected)


# -- the fixture data ------------------------------------------------------------------------------
@dataclass
class Case:
    api: Any
    world: Any
    journey: Journey
    ids: dict[str, str] = field(default_factory=dict)
    serial: itertools.count = field(default_factory=lambda: itertools.count(1))

    def token_for(self, role: str) -> str | None:
        return None if role == "anonymous" else self.world.user(role).token

    def fresh_token(self, role: str) -> str | None:
        """A throwaway token, for calls that end the token they use (sign-out)."""
        if role == "anonymous":
            return None
        token = new_token()
        with session_scope() as session:
            session.add(ApiToken(user_id=self.world.user(role).id, token_hash=token_digest(token), expires_at=clock.now() + dt.timedelta(hours=1)))
        return token

    def etag(self, path: str, who: str) -> str:
        response = self.api.as_(who).get(path)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]


def _extra_user(key: str) -> str:
    with session_scope() as session:
        user = User(email=f"{key}@dhr.example", name=f"Spare {key}", password_hash=password_hash())
        session.add(user)
        session.flush()
        return user.id


def _extra_agency() -> str:
    with session_scope() as session:
        agency = Agency(name="Example Academy Trust", kind="education", email="school@agency.example")
        session.add(agency)
        session.flush()
        return agency.id


def _plain_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("The agency's IMR, written outside the service.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def build_case(api, world, scenario: str) -> Case:
    j = Journey(api, world)
    if scenario == "evidence":
        j.to("evidence")
        j.commission()
    elif scenario == "drafting":
        j.to("drafting")
    else:
        j.to("submitted")
    case = Case(api=api, world=world, journey=j)
    ids = case.ids
    ids["review_id"] = j.id
    ids["imr_id"] = j.imrs["police"]
    ids["imr_id#health"] = j.imrs["health"]
    ids["user_id"] = _extra_user("spare")
    ids["panel_candidate"] = _extra_user("candidate")
    ids["spare_agency"] = _extra_agency()
    ids["csp_id"] = world.csps["CAMCITY"]
    ids["agency_id"] = world.agencies["police"]
    ids["kind"] = "executive_summary"
    with session_scope() as session:
        ids["message_id"] = session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.review_id == j.id, OutboxMessage.kind == "imr_commissioned").limit(1)
        ).one()
        ids["token"] = calendar.token_for(session.get(User, world.user("coordinator").id))
    letters = ok(api.as_("panel_chair").get(f"/reviews/{j.id}/documents", params={"kind": "imr_commission_letter", "imr_id": j.imrs["police"]}))
    ids["document_id"] = letters["items"][0]["id"]
    ids["document_id#report"] = ok(api.as_("panel_chair").post(f"/reviews/{j.id}/documents", json={"kind": "overview_report"}), 201)["id"]
    if scenario == "drafting":
        chair = api.as_("panel_chair")
        rec = ok(chair.post(f"/reviews/{j.id}/recommendations", json={"text": "Share risk information.", "scope": "local", "imr_id": j.imrs["police"]}), 201)
        target = (clock.today() + dt.timedelta(days=90)).isoformat()
        police = ok(chair.post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Train officers.", "lead_agency_id": world.agencies["police"], "target_date": target,
            "outcome_measure": "90% trained."}), 201)
        probation = ok(chair.post(f"/recommendations/{rec['id']}/actions", json={
            "action": "Review supervision of perpetrators.", "lead_agency_id": world.agencies["probation"], "target_date": target,
            "outcome_measure": "Audit complete."}), 201)
        ids["recommendation_id"] = rec["id"]
        ids["action_id"] = police["id"]
        ids["action_id#probation"] = probation["id"]
    elif scenario == "submitted":
        ids["recommendation_id"] = j.recommendations[0]
        ids["action_id"] = j.actions[0]
        with session_scope() as session:
            submission = session.scalars(select(Submission).where(Submission.review_id == j.id)).one()
            change = QaChange(review_id=j.id, submission_id=submission.id, number=1, text="Remove the month of death.")
            session.add(change)
            session.flush()
            ids["change_id"] = change.id
    ids["number"] = 1
    ids["proceeding_id"] = ok(api.as_("coordinator").post(f"/reviews/{j.id}/proceedings", json={
        "kind": "criminal_trial", "description": "Trial at the Crown Court"}), 201)["id"]
    return case


# -- one request per operation ---------------------------------------------------------------------
Request = tuple[str, str, dict[str, Any]]
PATH_IDS = (
    "review_id", "imr_id", "recommendation_id", "action_id", "user_id", "csp_id", "agency_id", "document_id", "kind",
    "message_id", "token", "proceeding_id", "number", "change_id",
)


def _build(case: Case, key: str, role: str) -> tuple[Request, str | None]:
    """The request for one table row, and the token to send (None: none)."""
    ids = case.ids
    n = next(case.serial)
    op = _operation(key)
    method, template = op.split(" ", 1)
    variant = key.split("#", 1)[1] if "#" in key else None
    # "GET /imrs/{imr_id}#health" takes ids["imr_id#health"]; a variant without its own id takes the plain one.
    path = template.format_map({name: ids.get(f"{name}#{variant}", ids.get(name)) for name in PATH_IDS})
    token = case.token_for(role)
    today = clock.today()
    kwargs: dict[str, Any] = {}
    bodies: dict[str, Callable[[], Any]] = {
        "POST /users": lambda: {"email": f"new{n}@dhr.example", "name": "New Person", "password": "a long enough passphrase", "roles": [{"role": "home_office"}]},
        "PATCH /users/{user_id}": lambda: {"name": f"Spare renamed {n}"},
        "PATCH /reviews/{review_id}": lambda: {"themes": [f"Learning theme {n}"]},
        "POST /csps": lambda: {"name": f"Partnership {n}", "code": f"NEW{n}", "region": "East of England"},
        "POST /agencies": lambda: {"name": f"Agency {n}", "kind": "voluntary", "email": f"agency{n}@agency.example"},
        "POST /reviews": lambda: {
            "csp_id": ids["csp_id"], "notified_on": today.isoformat(), "notified_by": "Exampleshire Constabulary",
            "date_of_death": (today - dt.timedelta(days=2)).isoformat(), "death_type": "homicide",
            "relationship": "ex_partner", "victim_age": 40, "summary": "Invented case for tests."},
        "POST /reviews/{review_id}/events": lambda: (
            {"event": "qa_clear_subject_to_changes", "data": {}} if key.endswith("#qa") else {"event": "record_criminal_proceedings", "data": {}}),
        "POST /reviews/{review_id}/people": lambda: {"role": "other", "name": f"Nina Neighbour {n}", "pseudonym": f"Neighbour {n}"},
        "POST /reviews/{review_id}/panel": lambda: {"user_id": ids["panel_candidate"], "role": "member"},
        "PUT /reviews/{review_id}/terms-of-reference": lambda: {
            "period_from": "2023-01-01", "period_to": "2026-01-01", "key_lines_of_enquiry": ["What did agencies know?"],
            "coercive_control": True, "equality_and_diversity": True, "family_involvement": "Invited.", "text": "Revised."},
        "POST /reviews/{review_id}/imrs": lambda: {"agency_id": ids["spare_agency"]},
        "PATCH /imrs/{imr_id}": lambda: {"methodology": f"Records reviewed ({n})."},
        "POST /imrs/{imr_id}/events": lambda: {"event": "acknowledge", "data": {}},
        "POST /imrs/{imr_id}/chronology": lambda: {"occurred_on": "2025-06-01", "description": f"Contact {n}.", "seen": ["Adult A"]},
        "PATCH /reviews/{review_id}/overview": lambda: {"facts": f"The facts, draft {n}."},
        "POST /reviews/{review_id}/recommendations": lambda: {"text": f"Recommendation {n}.", "scope": "local"},
        "POST /recommendations/{recommendation_id}/actions": lambda: {
            "action": f"Action {n}.", "lead_agency_id": ids["agency_id"], "target_date": (today + dt.timedelta(days=60)).isoformat(),
            "outcome_measure": "Measured."},
        "PATCH /actions/{action_id}": lambda: {"milestones": f"Milestone {n}."},
        "POST /actions/{action_id}/events": lambda: {"event": "complete", "data": {}},
        "POST /reviews/{review_id}/documents": lambda: {"kind": "overview_report"},
        "POST /reviews/{review_id}/proceedings": lambda: {"kind": "inquest", "description": f"Inquest {n}"},
        "PATCH /proceedings/{proceeding_id}": lambda: {"description": f"Trial at the Crown Court ({n})"},
        "POST /qa-changes/{change_id}/events": lambda: {"event": "made", "text": "Done."},
    }
    uploads: dict[str, Callable[[], bytes]] = {
        "POST /imrs/{imr_id}/documents": _plain_docx,
        "PUT /csps/{csp_id}/templates/{kind}": lambda: templates.statutory("executive_summary").content,
        "PUT /reviews/{review_id}/submissions/{number}/letter": _plain_docx,
    }
    if op == "POST /auth/token":
        user = case.world.user("coordinator" if role == "anonymous" else role)
        kwargs["data"] = {"username": user.email, "password": PASSWORD}
        token = None
    elif op == "POST /auth/revoke":
        token = case.fresh_token(role)
    elif op in bodies:
        kwargs["json"] = bodies[op]()
    elif op in uploads:
        kwargs["files"] = {"file": ("upload.docx", uploads[op](), DOCX)}
    elif op == "GET /csps/{csp_id}/quarterly-report":
        kwargs["params"] = {"quarter": f"{today.year}Q{(today.month - 1) // 3 + 1}", "format": "json"}
    if method == "PATCH" and op != "PATCH /users/{user_id}":
        reader = "police_manager" if op == "PATCH /imrs/{imr_id}" else "panel_chair"
        kwargs["headers"] = {"If-Match": case.etag(path, reader)}
    return (method, path, kwargs), token


def _call(case: Case, request: Request, token: str | None):
    method, path, kwargs = request
    headers = {**kwargs.pop("headers", {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return case.api.client.request(method, PREFIX + path, headers=headers, **kwargs)


def _check_table(case: Case, table: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    invisible = {r for r, code in table.get("GET /reviews/{review_id}", {}).items() if code == "404"}
    for key, row in table.items():
        for role in ROLES:
            request, token = _build(case, key, role)
            response = _call(case, request, token)
            expected = row[role]
            if not _matches(expected, response.status_code):
                problems.append(f"{key:55} {role:18} expected {expected:3} got {response.status_code}: {response.text[:160]}")
            elif response.status_code == 404 and role in invisible and "part of the review" in response.text:
                problems.append(f"{key:55} {role:18} 404 reveals that the review exists: {response.text[:160]}")
            elif response.status_code == 401 and not response.json().get("detail"):
                problems.append(f"{key:55} {role:18} 401 without a detail")
    return problems


# -- the tests -------------------------------------------------------------------------------------
def test_every_operation_has_an_expectation(app):
    """Fails when an endpoint is added without a row in this file's tables (or a row goes stale)."""
    operations = set()
    for path, item in app.openapi()["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for method in item:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                operations.add(f"{method.upper()} {path[len(PREFIX):]}")
    # Routes left out of the OpenAPI document must be covered too.
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith(PREFIX) and path != f"{PREFIX}/openapi.json":
            for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
                operations.add(f"{method} {path[len(PREFIX):]}")
    covered = set(GLOBAL) | {_operation(k) for table in SCENARIOS.values() for k in table}
    missing = sorted(operations - covered)
    stale = sorted(covered - operations)
    assert not missing, "operations with no row in tests/test_authorization.py (add one per role): " + ", ".join(missing)
    assert not stale, "rows for operations the app no longer has: " + ", ".join(stale)
    review_scoped = {
        op for op in operations
        if "{" in op and op.split(" ", 1)[1].split("/")[1] in {"reviews", "imrs", "recommendations", "actions", "documents", "outbox", "proceedings", "qa-changes"}
    }
    for name, table in SCENARIOS.items():
        rows = {_operation(k) for k in table}
        assert rows <= review_scoped, f"{name}: {sorted(rows - review_scoped)} belong in GLOBAL"
    in_scenarios = {_operation(k) for table in SCENARIOS.values() for k in table}
    assert review_scoped <= in_scenarios, f"review operations never checked on a review: {sorted(review_scoped - in_scenarios)}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_role_gets_what_the_policy_says(api, world, scenario):
    case = build_case(api, world, scenario)
    table = {**_parse(GLOBAL), **_parse(SCENARIOS[scenario])}
    problems = _check_table(case, table)
    assert not problems, f"{len(problems)} calls disagree with the policy ({scenario}):\n" + "\n".join(problems)


def _ids(response) -> set[str]:
    return {item["id"] for item in ok(response)["items"]}


def test_lists_show_only_what_each_role_may_open(api, world):
    """Lists are the easy place to leak: each shows exactly the items the person could open."""
    fen = Journey(api, world, csp="FENLAND")
    cam = Journey(api, world).to("evidence")
    cam.commission()
    reviews = {"cam": cam.id, "fen": fen.id}
    sees = {
        "admin": set(), "home_office": set(), "coordinator": {"cam"}, "chair": {"cam"},
        "other_coordinator": {"fen"}, "other_chair": {"fen"}, "panel_chair": {"cam"}, "panel_member": {"cam"},
        "police_author": {"cam"}, "police_manager": {"cam"}, "health_author": {"cam"}, "housing_author": set(),
        "probation_manager": set(),
    }
    for role, expected in sees.items():
        listed = _ids(api.as_(role).get("/reviews"))
        assert listed == {reviews[k] for k in expected}, role
        for key, review_id in reviews.items():
            status = api.as_(role).get(f"/reviews/{review_id}").status_code
            assert status == (200 if key in expected else 404), (role, key, status)
        deadlines = ok(api.as_(role).get("/deadlines"))["items"]
        assert {d["review_id"] for d in deadlines} <= {reviews[k] for k in expected}, role
    # Agency staff: only their own agency's IMRs, in the list and among the deadlines.
    imrs = {"police_author": {"police"}, "police_manager": {"police"}, "health_author": {"health"}, "coordinator": {"police", "health"}, "panel_member": {"police", "health"}}
    for role, agencies in imrs.items():
        listed = ok(api.as_(role).get(f"/reviews/{cam.id}/imrs"))["items"]
        assert {i["agency_id"] for i in listed} == {world.agencies[a] for a in agencies}, role
    police_deadlines = ok(api.as_("police_author").get("/deadlines"))["items"]
    assert {d["subject_id"] for d in police_deadlines} == {cam.imrs["police"]}
    assert {d["kind"] for d in ok(api.as_("coordinator").get("/deadlines"))["items"]} >= {"imr", "overview_report"}
    # The CSP's officers may look people up (to build a panel); nobody else but the administrator.
    assert ok(api.as_("other_coordinator").get("/users", params={"email": "chair@dhr.example"}))["total"] == 1


def test_agency_staff_and_the_home_office_see_what_they_need_of_a_review(api, world):
    j = Journey(api, world).to("submitted")
    coordinator = ok(api.as_("coordinator").get(f"/reviews/{j.id}"))
    assert coordinator["summary"] and coordinator["decision_rationale"]
    for role in ("police_author", "police_manager", "health_author"):
        seen = ok(api.as_(role).get(f"/reviews/{j.id}"))
        assert seen["summary"] is None and seen["decision_rationale"] is None, role
        assert seen["reference"] == coordinator["reference"]
        assert {d["subject_id"] for d in seen["deadlines"]} <= set(j.imrs.values()) | set(j.actions), role
    home_office = ok(api.as_("home_office").get(f"/reviews/{j.id}"))
    assert home_office["summary"] == coordinator["summary"]
    assert _ids(api.as_("home_office").get("/reviews")) == {j.id}
    # The Home Office clears the report; a probation manager whose agency leads nothing still sees nothing.
    ok(api.as_("home_office").post(f"/reviews/{j.id}/events", json={"event": "qa_clear", "data": {"received_on": clock.today().isoformat(), "letter": "QA ok"}}))
    assert api.as_("probation_manager").get(f"/reviews/{j.id}").status_code == 404


def test_the_history_gives_the_home_office_no_imr_content(api, world):
    """The Home Office may read a submitted review's history, but never what the IMRs say."""
    j = Journey(api, world).to("submitted")
    analysis = "Contact was appropriate but risk was not assessed."  # written into each IMR by the journey
    team = ok(api.as_("chair").get(f"/reviews/{j.id}/events"))["items"]
    assert any(analysis in str(e["changes"]) for e in team), "the case team's history records the IMR edits"
    history = ok(api.as_("home_office").get(f"/reviews/{j.id}/events"))["items"]
    assert [e["seq"] for e in history] == [e["seq"] for e in team]  # the same entries, so timeliness shows
    for entry in history:
        if entry["entity_type"] in ("imr", "chronology_entry"):
            assert entry["changes"] == {} and entry["data"] == {} and entry["note"] is None, entry
    assert not any(analysis in str(e) or "Ivy Independent" in str(e) for e in history)

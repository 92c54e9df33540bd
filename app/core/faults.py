"""Fault points for the crash tests: `point("name")` ends the process abruptly when DHR_FAULT names it.

Honoured only when DHR_ENV=test, so a stray variable can never take a production process down.
tests/test_faults.py kills the real app at each of these and checks the database afterwards.

While an event fires (app/workflow/engine.py, any event route or command that fires one):
  event.after_state_change  the subject's new state is set in memory, nothing else done
  event.after_effects       the effects ran: deadlines, documents, submissions, outbox rows queued
  event.after_history       the history row is written (flushed) in the still-open transaction
  event.before_commit       the request's work is done and its reply built; COMMIT not yet sent
  event.after_commit        committed; the reply not yet sent and the queued mail not yet dispatched

While mail is dispatched (app/notifications/dispatch.py, senders.py):
  dispatch.after_claim      a batch is claimed (its lease committed) and nothing is sent yet
  dispatch.during_data      half the message is written inside SMTP DATA, before the final "."
  dispatch.after_send       the server replied 250 to DATA; the row is not yet marked sent
"""
from __future__ import annotations

import os

from sqlalchemy import event
from sqlalchemy.orm import Session

EXIT_CODE = 75


def armed(name: str) -> bool:
    return os.environ.get("DHR_FAULT") == name and os.environ.get("DHR_ENV") == "test"


def point(name: str) -> None:
    if armed(name):
        os._exit(EXIT_CODE)  # no clean-up, no commit: as if the power went


def at_commit(session: Session, *, before: str, after: str) -> None:
    """Put the points `before` and `after` around this session's next commit (hooked only when armed)."""
    if armed(before):
        event.listen(session, "before_commit", lambda _session: point(before), once=True)
    if armed(after):
        event.listen(session, "after_commit", lambda _session: point(after), once=True)

"""Loads every workflow YAML once and validates it; start-up stops with a message naming any fault."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from app.core.config import get_settings
from app.workflow import effects, guards
from app.auth.models import AGENCY_ROLES
from app.notifications.messages import MESSAGES, QA_OUTCOMES
from app.workflow.definition import PREVIOUS, ROLES, WorkflowDef

# Deadlines that belong to one IMR or action (and so to its agency) rather than to the review.
SUBJECT_DEADLINES = {"imr", "action"}


class WorkflowDefinitionError(RuntimeError):
    pass


def _reachable(defn: WorkflowDef) -> set[str]:
    # `$previous` leads back to any state the pended state can be entered from.
    seen = {defn.initial.state}
    frontier = [defn.initial.state]
    while frontier:
        state = frontier.pop()
        for t in defn.events:
            if state not in t.source or t.to is None:
                continue
            targets = [t.to]
            if t.to == PREVIOUS:
                targets = defn.previous_targets(t)
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
    return seen


def validate(defn: WorkflowDef, where: str, deadline_kinds: set[str]) -> list[str]:
    problems: list[str] = []
    states = {s.name for s in defn.states}
    if defn.initial.state not in states:
        problems.append(f"{where}: the initial state {defn.initial.state!r} is not a state")
    for call in defn.initial.effects:
        problems += _check_call(call, "effect", deadline_kinds, f"{where}: initial", defn.subject)
    for t in defn.events:
        label = f"{where}: event {t.name!r}"
        if not t.roles:
            problems.append(f"{label} has no roles: name who may fire it")
        for role in t.roles:
            if role not in ROLES:
                problems.append(f"{label} names the unknown role {role!r} (known: {', '.join(ROLES)})")
        for source in t.source:
            if source not in states:
                problems.append(f"{label} starts from the unknown state {source!r}")
        if t.to is not None and t.to != PREVIOUS and t.to not in states:
            problems.append(f"{label} leads to the unknown state {t.to!r}")
        for call in t.guards:
            problems += _check_call(call, "guard", deadline_kinds, label)
        for call in t.effects:
            problems += _check_call(call, "effect", deadline_kinds, label, defn.subject)
        for field_name, field in t.data.items():
            if field.type == "choice" and not field.choices:
                problems.append(f"{label}: data field {field_name!r} is a choice without choices")
    problems += _check_alerts(defn, where, states)
    for part, part_states in defn.editable.items():
        for state in part_states:
            if state not in states:
                problems.append(f"{where}: editable {part!r} names the unknown state {state!r}")
    unreachable = states - _reachable(defn)
    for state in sorted(unreachable):
        problems.append(f"{where}: state {state!r} is unreachable from {defn.initial.state!r}")
    return problems


def _check_roles(roles: list[str], label: str, *, agency_roles_allowed: bool) -> list[str]:
    problems = []
    if not roles:
        problems.append(f"{label} names nobody to send to: give it roles in `to`")
    for role in roles:
        if role not in ROLES:
            problems.append(f"{label} names the unknown role {role!r} (known: {', '.join(ROLES)})")
        elif role in AGENCY_ROLES and not agency_roles_allowed:
            problems.append(f"{label} names {role!r}, which only means something for an IMR or an action")
    return problems


def _check_alerts(defn: WorkflowDef, where: str, states: set[str]) -> list[str]:
    problems = []
    for kind, rule in defn.deadlines.items():
        if rule.alerts is None:
            continue
        label = f"{where}: the alerts of deadline {kind!r}"
        agency_ok = kind in SUBJECT_DEADLINES
        problems += _check_roles(rule.alerts.to, label, agency_roles_allowed=agency_ok)
        for level in rule.alerts.escalate:
            problems += _check_roles(level.to, f"{label} (escalation after {level.after_days_overdue} days)", agency_roles_allowed=agency_ok)
    for state in defn.alerts_paused_in:
        if state not in states:
            problems.append(f"{where}: alerts_paused_in names the unknown state {state!r}")
    return problems


def _check_call(call, kind: str, deadline_kinds: set[str], label: str, subject: str = "review") -> list[str]:
    table = guards.GUARDS if kind == "guard" else effects.EFFECTS
    if call.name not in table:
        return [f"{label} uses the unknown {kind} {call.name!r}: define it in app/workflow/{kind}s.py"]
    deadline_kind = call.params.get("kind")
    if deadline_kind is not None and deadline_kind not in deadline_kinds:
        return [f"{label}: {kind} {call.name!r} names the unknown deadline kind {deadline_kind!r}"]
    if call.name == "notify":
        message = call.params.get("message")
        if message not in MESSAGES:
            return [f"{label}: notify names the unknown message {message!r} (known: {', '.join(MESSAGES)})"]
        if message == "qa_outcome" and call.params.get("outcome") not in QA_OUTCOMES:
            return [f"{label}: notify qa_outcome needs an outcome, one of {', '.join(QA_OUTCOMES)}"]
        return _check_roles(call.params.get("to") or [], f"{label}: notify {message}", agency_roles_allowed=subject != "review")
    return []


class Registry:
    def __init__(self, definitions: dict[tuple[str, int], WorkflowDef]):
        self._by_key = definitions

    def get(self, name: str, version: int) -> WorkflowDef:
        try:
            return self._by_key[(name, version)]
        except KeyError as exc:
            raise WorkflowDefinitionError(f"workflow {name} version {version} is not installed") from exc

    def latest(self, name: str) -> WorkflowDef:
        versions = [d for (n, _v), d in self._by_key.items() if n == name]
        if not versions:
            raise WorkflowDefinitionError(f"no workflow named {name!r} in {get_settings().workflows_dir}")
        return max(versions, key=lambda d: d.version)

    def all(self) -> list[WorkflowDef]:
        return list(self._by_key.values())


def load(directory: Path | None = None) -> Registry:
    directory = directory or get_settings().workflows_dir
    problems: list[str] = []
    definitions: dict[tuple[str, int], WorkflowDef] = {}
    sources: dict[tuple[str, int], str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise WorkflowDefinitionError(f"no workflow definitions (*.yaml) found in {directory}")
    for path in files:
        try:
            defn = WorkflowDef.model_validate(yaml.safe_load(path.read_text()))
        except (yaml.YAMLError, ValidationError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        definitions[(defn.name, defn.version)] = defn
        sources[(defn.name, defn.version)] = path.name
    # Deadline kinds are declared by the review workflow and used by its IMR and action workflows.
    deadline_kinds = {kind for d in definitions.values() for kind in d.deadlines}
    for key, defn in definitions.items():
        problems += validate(defn, sources[key], deadline_kinds)
    for defn in definitions.values():
        for sub in (defn.imr_workflow, defn.action_workflow):
            if sub and not any(n == sub for n, _ in definitions):
                problems.append(f"{defn.name}: refers to the workflow {sub!r}, which is not defined")
    if problems:
        raise WorkflowDefinitionError("invalid workflow definitions:\n- " + "\n- ".join(problems))
    return Registry(definitions)


@lru_cache
def get_registry() -> Registry:
    return load()

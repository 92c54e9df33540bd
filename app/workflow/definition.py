"""The shape of a workflow YAML file, as pydantic models."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ROLES = (
    "csp_chair",
    "csp_coordinator",
    "panel_chair",
    "panel_member",
    "imr_author",
    "agency_manager",
    "home_office",
)
PREVIOUS = "$previous"


class Call(BaseModel):
    """A guard or effect by name, with optional parameters.

    Written in YAML as `name`, `name:arg` (one positional argument) or `{name: {param: value}}`.
    """

    name: str
    arg: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> "Call":
        if isinstance(raw, cls):
            return raw
        if isinstance(raw, str):
            name, _, arg = raw.partition(":")
            return cls(name=name.strip(), arg=arg.strip() or None)
        if isinstance(raw, dict) and len(raw) == 1:
            ((name, params),) = raw.items()
            return cls(name=name, params=params or {})
        raise ValueError(f"cannot read {raw!r} as a guard or effect: write `name`, `name:arg` or `{{name: {{...}}}}`")

    def label(self) -> str:
        return f"{self.name}:{self.arg}" if self.arg else self.name


class DataField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text", "lines", "date", "boolean", "choice", "url"]
    required: bool = False
    choices: list[str] | None = None
    label: str = ""


class StateDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str = ""
    guidance: str
    final: bool = False


class TransitionDef(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str
    source: list[str] = Field(alias="from")
    to: str | None
    roles: list[str]
    guidance: str
    data: dict[str, DataField] = Field(default_factory=dict)
    guards: list[Call] = Field(default_factory=list)
    effects: list[Call] = Field(default_factory=list)

    @field_validator("guards", "effects", mode="before")
    @classmethod
    def _calls(cls, value: Any) -> list[Call]:
        return [Call.parse(item) for item in value or []]

    @property
    def changes_state(self) -> bool:
        return self.to is not None


class InitialDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: str
    guidance: str
    effects: list[Call] = Field(default_factory=list)

    @field_validator("effects", mode="before")
    @classmethod
    def _calls(cls, value: Any) -> list[Call]:
        return [Call.parse(item) for item in value or []]


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_days_overdue: int = Field(ge=1)
    to: list[str]


class AlertSchedule(BaseModel):
    """When a deadline's alert emails go, and to whom (guidance 6.2-6.4: deadlines are the CSP's)."""

    model_config = ConfigDict(extra="forbid")
    to: list[str]
    before_days: list[int] = Field(default_factory=list)
    on_the_day: bool = True
    # Overdue alerts: the day after the due date, then every N days while overdue (0: once only).
    overdue_every_days: int = Field(default=7, ge=0)
    escalate: list[Escalation] = Field(default_factory=list)
    guidance: str = ""

    @field_validator("before_days")
    @classmethod
    def _positive_and_distinct(cls, value: list[int]) -> list[int]:
        if any(days < 1 for days in value):
            raise ValueError("before_days counts whole days before the due date: each must be 1 or more")
        if len(set(value)) != len(value):
            raise ValueError("before_days names the same day twice")
        return sorted(value, reverse=True)


class DeadlineDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    starts: str
    period: dict[str, int] | None = None
    guidance: str
    alerts: AlertSchedule | None = None

    @field_validator("period")
    @classmethod
    def _period_units(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is not None:
            unknown = set(value) - {"months", "weeks", "days"}
            if unknown:
                raise ValueError(f"a period is counted in months, weeks or days, not {sorted(unknown)}")
        return value


class WorkflowDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: int
    title: str
    subject: Literal["review", "imr", "action"]
    imr_workflow: str | None = None
    action_workflow: str | None = None
    initial: InitialDef
    deadlines: dict[str, DeadlineDef] = Field(default_factory=dict)
    # States in which a review's deadline alerts wait (they resume, with the latest step, after).
    alerts_paused_in: list[str] = Field(default_factory=list)
    editable: dict[str, list[str]] = Field(default_factory=dict)
    states: list[StateDef]
    events: list[TransitionDef]

    def state(self, name: str) -> StateDef:
        return next(s for s in self.states if s.name == name)

    def event_names(self) -> list[str]:
        return list(dict.fromkeys(t.name for t in self.events))

    def transitions_for(self, event: str, state: str) -> list[TransitionDef]:
        return [t for t in self.events if t.name == event and state in t.source]

    def previous_targets(self, transition: TransitionDef) -> list[str]:
        """Where a `$previous` transition can lead: every state its source can be entered from."""
        return sorted({s for e in self.events if e.to in transition.source for s in e.source})

    def may_edit(self, part: str, state: str) -> bool:
        return state in self.editable.get(part, [])

"""Form fields for the pages, built from the API's own input models and the workflow's event data.

A field is described once (FieldSpec); the template `_fields.html` draws it with the govuk macros,
and `read()` turns the posted form back into the values the API's model validates. Validation errors
come back field by field, for the GOV.UK error summary.
"""
from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from app.workflow.definition import DataField

Widget = Literal["input", "email", "url", "number", "textarea", "lines", "date", "checkbox", "yesno", "radios", "select", "checkboxes", "file"]
LONG_TEXT = 2000  # a str field allowing more than this is drawn as a textarea


@dataclass
class FieldSpec:
    name: str
    label: str
    widget: Widget = "input"
    hint: str = ""
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None  # the value shown: a str, a date, a bool or a list
    error: str | None = None
    anchor: str = ""  # the id the error summary links to

    def __post_init__(self) -> None:
        self.anchor = self.anchor or (f"{self.name}-day" if self.widget == "date" else self.name)

    @property
    def day(self) -> str:
        return self._part("day")

    @property
    def month(self) -> str:
        return self._part("month")

    @property
    def year(self) -> str:
        return self._part("year")

    def _part(self, part: str) -> str:
        if isinstance(self.value, dt.date):
            return str({"day": self.value.day, "month": self.value.month, "year": self.value.year}[part])
        if isinstance(self.value, dict):
            return self.value.get(part, "")
        return ""

    @property
    def text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, list):
            return "\n".join(str(v) for v in self.value)
        return str(self.value)


def words(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) for X | None."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _literal_values(annotation: Any) -> list[str] | None:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return None


def from_model(
    model: type[BaseModel],
    *,
    only: list[str] | None = None,
    choices: dict[str, list[tuple[str, str]]] | None = None,
    labels: dict[str, str] | None = None,
    hints: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    widgets: dict[str, Widget] | None = None,
) -> list[FieldSpec]:
    """One field per model field (or those in `only`, in that order)."""
    choices, labels, hints, values, widgets = choices or {}, labels or {}, hints or {}, values or {}, widgets or {}
    specs = []
    for name in only or list(model.model_fields):
        info = model.model_fields[name]
        annotation, optional = _unwrap(info.annotation)
        widget: Widget = "input"
        options = choices.get(name)
        literal = _literal_values(annotation)
        if typing.get_origin(annotation) is list:
            inner = _literal_values(typing.get_args(annotation)[0])
            if inner:
                widget, options = "checkboxes", options or [(v, words(v)) for v in inner]
            else:
                widget = "lines"
        elif options is not None:
            widget = "select" if len(options) > 6 else "radios"
        elif literal:
            widget, options = ("select" if len(literal) > 6 else "radios"), [(v, words(v)) for v in literal]
        elif annotation is bool:
            widget = "yesno" if optional else "checkbox"
        elif annotation is dt.date:
            widget = "date"
        elif annotation is int:
            widget = "number"
        elif getattr(annotation, "__name__", "") == "EmailStr" or name == "email":
            widget = "email"
        else:
            max_length = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
            widget = "textarea" if max_length is None or max_length > LONG_TEXT else "input"
        widget = widgets.get(name, widget)
        specs.append(
            FieldSpec(
                name=name,
                label=labels.get(name) or words(name),
                widget=widget,
                hint=hints.get(name, info.description or ""),
                required=info.is_required() and widget not in ("checkbox",),
                choices=options or [],
                value=values.get(name),
            )
        )
    return specs


def from_event_data(data: dict[str, DataField], values: dict[str, Any] | None = None) -> list[FieldSpec]:
    """The fields an event of the workflow asks for, from the YAML's `data`."""
    widget_of: dict[str, Widget] = {"text": "textarea", "lines": "lines", "date": "date", "boolean": "checkbox", "choice": "radios", "url": "url"}
    return [
        FieldSpec(
            name=name,
            label=spec.label or words(name),
            widget=widget_of[spec.type],
            hint="One per line." if spec.type == "lines" else "",
            required=spec.required,
            choices=[(c, words(c)) for c in spec.choices or []],
            value=(values or {}).get(name),
        )
        for name, spec in data.items()
    ]


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def read(specs: list[FieldSpec], form: FormData, *, editing: bool = False) -> dict[str, Any]:
    """The posted values, typed. Empty optional fields are left out (or emptied, when editing)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        if spec.widget == "date":
            parts = {p: str(form.get(f"{spec.name}-{p}", "")).strip() for p in ("day", "month", "year")}
            spec.value = parts
            if not any(parts.values()):
                if editing:
                    values[spec.name] = None
                continue
            try:
                values[spec.name] = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"])).isoformat()
            except ValueError:
                errors[spec.name] = f"{spec.label} must be a real date, for example 27 3 2026"
            continue
        if spec.widget == "checkbox":
            values[spec.name] = form.get(spec.name) == "true"
            spec.value = values[spec.name]
            continue
        if spec.widget == "checkboxes":
            values[spec.name] = spec.value = [str(v) for v in form.getlist(spec.name)]
            continue
        if spec.widget == "file":
            upload = form.get(spec.name)
            if isinstance(upload, UploadFile) and upload.filename:
                values[spec.name] = upload
            elif spec.required:
                errors[spec.name] = f"Choose the file: {spec.label.lower()}"
            continue
        raw = form.get(spec.name)
        text = raw if isinstance(raw, str) else ""
        spec.value = text
        if spec.widget == "lines":
            items = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
            if items or editing:
                values[spec.name] = items
            continue
        if spec.widget == "yesno":
            if text in ("yes", "no"):
                values[spec.name] = text == "yes"
            continue
        if not text.strip():
            if editing and spec.widget in ("textarea", "input", "url"):
                values[spec.name] = ""
            elif editing:
                values[spec.name] = None
            continue
        values[spec.name] = text.strip() if spec.widget != "textarea" else text.replace("\r\n", "\n")
    for spec in specs:
        if spec.required and spec.name not in errors and values.get(spec.name) in (None, "", []):
            verb = "Choose" if spec.widget in ("radios", "select", "checkboxes", "yesno") else "Enter"
            errors[spec.name] = f"{verb} {spec.label[:1].lower() + spec.label[1:]}"
    if errors:
        raise FormInvalid(errors)
    return values


def validation_errors(exc: ValidationError, specs: list[FieldSpec]) -> dict[str, str]:
    """pydantic's errors as {field: message} for the fields on the form (others under 'form')."""
    names = {s.name for s in specs}
    labels = {s.name: s.label for s in specs}
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "data")]
        name = next((p for p in loc if p in names), "form")
        message = err.get("msg", "is not valid").removeprefix("Value error, ")
        errors.setdefault(name, f"{labels.get(name, 'The form')}: {message}")
    return errors


def attach(specs: list[FieldSpec], errors: dict[str, str]) -> list[dict[str, str]]:
    """Put each error on its field; the error summary's list, in the order of the form."""
    summary = []
    for spec in specs:
        if spec.name in errors:
            spec.error = errors[spec.name]
            summary.append({"text": spec.error, "href": f"#{spec.anchor}"})
    for name, text in errors.items():
        if name not in {s.name for s in specs}:
            summary.append({"text": text, "href": "#main-content"})
    return summary

"""The shape of every edit page: show the form, read it, call the API's route, redirect or show errors."""
from __future__ import annotations

from typing import Any, Callable

from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from app.web.calls import Refused, perform
from app.web.forms import FieldSpec, FormInvalid, attach, read
from app.web.pages.common import Web, form_page, redirect


def submit(
    web: Web,
    form: FormData,
    *,
    fn: Callable,
    model: type[BaseModel] | None,
    specs: list[FieldSpec],
    title: str,
    submit_text: str,
    back: str,
    done: Callable[[Any], str] | str,
    message: Callable[[Any], str] | str,
    editing: bool = False,
    caption: str | None = None,
    multipart: bool = False,
    body_extra: dict[str, Any] | None = None,
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    intro: str | None = None,
    **arguments: Any,
) -> Response:
    """Post/redirect/get for one form. Bad input shows the form again with every problem; nothing is saved."""
    version = form.get("version") if isinstance(form.get("version"), str) else None
    if editing:
        arguments["if_match"] = version or ""
    try:
        values = read(specs, form, editing=editing)
        if shape is not None:
            values = shape(values)  # the form's answers into the API's body (e.g. one role into a list)
        if model is None:
            arguments.update(values)
            result = perform(fn, session=web.session, principal=web.user, **arguments)
        else:
            result = perform(fn, session=web.session, principal=web.user, model=model, values={**values, **(body_extra or {})}, specs=specs, **arguments)
    except FormInvalid as exc:
        return _again(web, specs, exc.errors, title, submit_text, back, caption, multipart, version, intro=intro)
    except Refused as exc:
        if exc.status_code == 404:
            raise
        errors = dict(exc.errors) or {"form": exc.message}
        for i, reason in enumerate(exc.reasons):
            errors.setdefault(f"reason{i}", reason)
        return _again(web, specs, errors, title, submit_text, back, caption, multipart, version, status_code=exc.status_code, intro=intro)
    return redirect(web, done(result) if callable(done) else done, message(result) if callable(message) else message)


def _again(web, specs, errors, title, submit_text, back, caption, multipart, version, status_code: int = 422, intro: str | None = None) -> Response:
    return form_page(web, title=title, caption=caption, specs=specs, submit=submit_text, back=back, errors=attach(specs, errors),
                     status_code=status_code, multipart=multipart, version=version, intro=intro)

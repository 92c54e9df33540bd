"""The Jinja environment for the pages: our templates, then govuk-frontend-jinja's macros."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape

from app.core.config import get_settings

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
ASSET_PATH = "/static/govuk-frontend/assets"


def long_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def date_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}, {value:%H:%M}"


def humanise(value: str | None) -> str:
    """state and event names as words: `panel_review` -> `Panel review`."""
    if not value:
        return ""
    words = str(value).replace("_", " ")
    return words[:1].upper() + words[1:]


def paragraphs(value: str | None) -> Markup:
    """Typed text with its line breaks, each paragraph escaped."""
    if not value:
        return Markup("")
    parts = [p for p in str(value).replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("").join(
        Markup('<p class="govuk-body">{}</p>').format(Markup("<br>").join(escape(line) for line in part.split("\n")))
        for part in parts
    )


AMBER_DAYS = 14  # a pending deadline this close is amber (a yellow tag) on the timeline


def rag(deadline) -> tuple[str, str]:
    """(colour, words) for a deadline on the timeline: red, amber (yellow tag), green or grey."""
    if deadline.status == "overdue":
        return "red", f"Overdue by {-deadline.days_left} day{'s' if deadline.days_left != -1 else ''}"
    if deadline.status == "met_late":
        return "red", "Met late"
    if deadline.status == "waived":
        return "grey", "Waived"
    if deadline.status == "met":
        return "green", "Met"
    if deadline.days_left <= AMBER_DAYS:
        return "yellow", "Due today" if deadline.days_left == 0 else f"Due in {deadline.days_left} day{'s' if deadline.days_left != 1 else ''}"
    return "green", f"Due in {deadline.days_left} days"


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            FileSystemLoader(str(WEB_DIR / "templates")),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")}),
        ]),
        # Every value a person typed is escaped; the govuk macros mark their own HTML safe.
        autoescape=select_autoescape(default=True, default_for_string=True),
        # The govuk macros read optional parameters that are often absent: absent reads as empty.
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # In production the templates are those shipped: no check of their files on every page.
        auto_reload=get_settings().env != "production",
    )
    env.filters.update(long_date=long_date, date_time=date_time, humanise=humanise, paragraphs=paragraphs)
    env.globals.update(assetPath=ASSET_PATH, rag=rag)
    return env

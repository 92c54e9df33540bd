"""The quarterly report as a Word document for the board, from the same figures as the JSON."""
from __future__ import annotations

from app.core.config import get_settings
from app.documents.context import MARKING, clean, long_date
from app.documents.render import render_docx
from app.reports.quarterly import AMBER_DAYS

TEMPLATE = "quarterly_report.docx"
RAG_WORDS = {"red": "Red", "amber": "Amber", "green": "Green"}
RESULT_WORDS = {"within_six_months": "Within six months", "within_extension": "Within the extension", "late": "Late"}
QUARTER_MONTHS = {1: "January to March", 2: "April to June", 3: "July to September", 4: "October to December"}


def context(report: dict) -> dict:
    year, number = report["quarter"].split("Q")
    open_reviews = report["open_reviews"]
    timeliness = report["timeliness"]
    return {
        "document": {"marking": MARKING},
        "partnership": {"name": report["csp"]["name"], "code": report["csp"]["code"]},
        "report": {
            "quarter": report["quarter"],
            "quarter_title": f"Quarter {number} of {year}: {QUARTER_MONTHS[int(number)]} {year}",
            "as_at": long_date(report["as_at"]),
            "amber_days": str(AMBER_DAYS),
        },
        "open_reviews": {
            **{name: str(open_reviews[name]) for name in ("total", "red", "amber", "green")},
            "by_stage": [{name: str(row[name]) for name in ("title", "total", "red", "amber", "green")} for row in open_reviews["by_stage"]],
            "reviews": [
                {"reference": r["reference"], "stage": r["stage_title"], "rag": RAG_WORDS[r["rag"]],
                 "overdue": ", ".join(kind.replace("_", " ") for kind in r["overdue"]), "next_due_on": long_date(r["next_due_on"])}
                for r in open_reviews["reviews"]
            ],
        },
        "timeliness": {
            "decisions": {
                **{name: str(timeliness["decisions"][name]) for name in ("total", "within_one_month", "late")},
                "reviews": [
                    {"reference": d["reference"], "notified_on": long_date(d["notified_on"]), "decided_on": long_date(d["decided_on"]),
                     "due_on": long_date(d["due_on"]), "within_one_month": "Yes" if d["within_one_month"] else "No"}
                    for d in timeliness["decisions"]["reviews"]
                ],
            },
            "overview_reports": {
                **{name: str(timeliness["overview_reports"][name]) for name in ("total", "within_six_months", "within_extension", "late")},
                "reviews": [
                    {"reference": o["reference"], "decided_on": long_date(o["decided_on"]), "completed_on": long_date(o["completed_on"]),
                     "original_due_on": long_date(o["original_due_on"]), "extended_due_on": long_date(o["extended_due_on"]), "result": RESULT_WORDS[o["result"]]}
                    for o in timeliness["overview_reports"]["reviews"]
                ],
            },
        },
        "actions": {
            "by_lead_agency": [{name: clean(row[name]) for name in ("agency", "completed", "due", "overdue")} for row in report["actions"]["by_lead_agency"]],
            "totals": {name: str(value) for name, value in report["actions"]["totals"].items()},
        },
        "themes": [
            {"theme": clean(t["theme"]), "reviews": str(t["reviews"]), "references": ", ".join(t["references"])}
            for t in report["themes"] if t["recurring"]
        ],
    }


def render(report: dict) -> bytes:
    template = (get_settings().templates_dir / TEMPLATE).read_bytes()
    return render_docx(template, context(report), title=f"Domestic Homicide Reviews: quarterly report {report['quarter']}", publication=False)

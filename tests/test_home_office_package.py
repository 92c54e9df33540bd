"""The Home Office package: what the CSP sends to the Quality Assurance Panel each time, and what comes back.

On sign-off the CSP chair submits the Overview Report, Executive Summary and Action Plan, as agreed
for publication, to the Home Office (8.19, 11.1). Each submission and resubmission is kept as a
numbered package version, downloadable as a zip whose manifest.json the Home Office can check. IMRs
are never part of it: they are never published (9.1). The QA panel may require a resubmission (11.2)
or clear the report subject to changes, which the CSP must make before publishing (11.3).

Everything is checked over HTTP as the person who would do it. Paragraph numbers refer to the Home
Office's Multi-Agency Statutory Guidance for the Conduct of Domestic Homicide Reviews (2011).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import docx
import jsonschema

from tests.journey import OVERVIEW, Journey
from tests.support import ok

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "app" / "submissions" / "manifest.schema.json").read_text(encoding="utf-8"))
COVER_LETTER = "home_office_cover_letter"
REPORTS = ("overview_report", "executive_summary", "action_plan")
KINDS = (COVER_LETTER, *REPORTS)
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKING = "OFFICIAL-SENSITIVE"

# What tests/journey.py writes into each IMR (complete_imr): its narrative, its author and the staff
# its chronology names. None of it may reach the Home Office package (9.1).
IMR_NARRATIVE = [
    "Records reviewed; staff interviewed.",
    "Contact was appropriate but risk was not assessed.",
    "Ask about coercive control.",
    "Ivy Independent",
    "Review officer",
    "Practitioner 1",
]
# The IMR chronology's description is what the overview may quote (8.8): it shows the reader below
# sees table text, so the checks for the narrative can fail.
QUOTED_CHRONOLOGY = "Adult A attended an appointment."
# The review's people as tests/journey.py records them (scope): names, alias, birth year, address.
IDENTIFIERS = ["Zoë", "Zoe", "O'Brien-Smith", "Zed", "Bartholomew", "Quince", "1991", "Acacia", "EX1 2AB"]

EXTENSION_REASON = "The inquest was adjourned; the panel needs its findings."
EXTENDED_TO = "2026-09-30"
FEEDBACK = "The equality and diversity analysis does not consider Adult A's disability."
EDITED_EQUALITY = OVERVIEW["equality_and_diversity"] + " Adult A's hearing loss is analysed against each agency's contact."
SUMMARY = "The equality and diversity section now analyses Adult A's hearing loss."
QA_CHANGES = ["Give the year of death only in the Executive Summary.", "Add the date the family saw the report."]
PUBLISHED_URL = "https://csp.example/dhr/adult-a"


# -- reading what a user downloads ----------------------------------------------------------------

def docx_text(content: bytes) -> str:
    """All text a reader sees in Word: body paragraphs, tables (nested too), headers and footers."""
    document = docx.Document(io.BytesIO(content))
    out: list[str] = []

    def cells(tables) -> None:
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    out.extend(p.text for p in cell.paragraphs)
                    cells(cell.tables)

    out.extend(p.text for p in document.paragraphs)
    cells(document.tables)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer,
                     section.even_page_header, section.even_page_footer):
            out.extend(p.text for p in part.paragraphs)
            cells(part.tables)
    return "\n".join(out)


def header_footer_lines(content: bytes) -> list[str]:
    document = docx.Document(io.BytesIO(content))
    return [p.text for s in document.sections for part in (s.header, s.footer) for p in part.paragraphs]


def names_in(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]


@dataclass
class Package:
    """One downloaded package: the zip's bytes, its entries by name, and its manifest."""

    body: bytes
    filename: str
    entries: dict[str, bytes]
    manifest: dict
    docx: dict[str, bytes] = field(default_factory=dict)  # kind -> .docx bytes
    pdf: dict[str, bytes] = field(default_factory=dict)  # kind -> .pdf bytes


def download(j: Journey, who: str, version: int | None = None) -> Package:
    response = j.as_(who).get(f"/reviews/{j.id}/home-office-package", params={"version": version} if version else None)
    assert response.status_code == 200, f"{who}: {response.status_code}: {response.text}"
    assert response.headers["content-type"] == "application/zip"
    match = re.search(r'filename="([^"]+)"', response.headers["content-disposition"])
    assert match, response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["manifest.json"].decode("utf-8"))
    package = Package(body=response.content, filename=match.group(1), entries=entries, manifest=manifest)
    for file in manifest["files"]:
        getattr(package, file["format"])[file["kind"]] = entries[file["name"]]
    return package


def downloads_in_history(j: Journey) -> list[int]:
    return [e["data"]["version"] for e in j.history() if e["event"] == "download_home_office_package"]


# -- what every package must hold ---------------------------------------------------------------

def check_package(j: Journey, package: Package, version: int, documents: list[dict]) -> None:
    """The zip a user opens: four documents in Word and PDF, and a manifest whose checksums and sizes
    are those of the files beside it (8.19, 11.1)."""
    reference = j.review["reference"]
    assert package.filename == f"{reference}-home-office-package-v{version}.zip"
    names = set(package.entries)
    assert len(names) == 9, sorted(names)  # 4 x (.docx, .pdf) + manifest.json
    assert "manifest.json" in names
    files = package.manifest["files"]
    assert {f["name"] for f in files} == names - {"manifest.json"}
    assert sorted((f["kind"], f["format"]) for f in files) == sorted((k, fmt) for k in KINDS for fmt in ("docx", "pdf"))
    for file in files:
        body = package.entries[file["name"]]
        assert file["bytes"] == len(body), file["name"]
        assert file["sha256"] == hashlib.sha256(body).hexdigest(), file["name"]
        assert file["media_type"] == (DOCX_TYPE if file["format"] == "docx" else "application/pdf")
        assert file["name"].endswith("." + file["format"])
        assert body.startswith(b"%PDF-" if file["format"] == "pdf" else b"PK"), file["name"]
    # The Word files are the documents frozen at the (re)submission, as the submissions list shows them.
    frozen = {d["kind"]: d for d in documents}
    assert set(frozen) == set(KINDS)
    for kind in KINDS:
        docx_file = next(f for f in files if f["kind"] == kind and f["format"] == "docx")
        assert (docx_file["sha256"], docx_file["version"]) == (frozen[kind]["sha256"], frozen[kind]["version"]), kind

    # The cover letter is marked; the reports are the publication copies, which carry no marking.
    assert MARKING in header_footer_lines(package.docx[COVER_LETTER])
    assert reference in docx_text(package.docx[COVER_LETTER])
    for kind in REPORTS:
        assert "OFFICIAL" not in docx_text(package.docx[kind]).upper(), f"{kind} is not the publication copy"


def check_no_imr_and_no_names(package: Package) -> None:
    """9.1: an IMR is never published, so nothing of one goes to the Home Office; the reports are the
    anonymised copies (9.2), so no person's name, alias, birth year or address is in them."""
    assert not any("imr" in name.lower() for name in package.entries), sorted(package.entries)
    assert {f["kind"] for f in package.manifest["files"]} <= set(KINDS)
    manifest_text = package.entries["manifest.json"].decode("utf-8")
    texts = {kind: docx_text(body) for kind, body in package.docx.items()}
    assert QUOTED_CHRONOLOGY in texts["overview_report"], "the overview should quote the agencies' chronology"
    for where, text in [("manifest.json", manifest_text), *texts.items()]:
        leaked = [t for t in IMR_NARRATIVE if t in text]
        assert not leaked, f"{where} carries IMR text: {leaked}"
    for kind in REPORTS:
        assert "Adult A" in texts[kind] or kind == "action_plan", f"{kind}: the pseudonym is missing"
        assert not names_in(texts[kind], IDENTIFIERS), f"{kind} names {names_in(texts[kind], IDENTIFIERS)}"
    assert not names_in(manifest_text, IDENTIFIERS)


def check_manifest(j: Journey, world, manifest: dict, *, version: int, kind: str) -> None:
    """manifest.json follows the shipped JSON Schema and says what the review's record says."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert ok(j.as_("home_office").get("/home-office-package/schema")) == SCHEMA  # the schema the API publishes is the shipped one
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(manifest)

    review = j.get("chair")
    package = manifest["package"]
    assert (package["version"], package["kind"], package["submitted_on"]) == (version, kind, review["submitted_on"])
    assert package["submitted_by"]["name"] == world.user("chair").name
    assert package["file_name"] == f"{review['reference']}-home-office-package-v{version}.zip"
    assert manifest["marking"] == MARKING
    assert manifest["review"]["reference"] == review["reference"]
    assert (manifest["csp"]["code"], manifest["csp"]["name"]) == ("CAMCITY", "Cambridge City CSP")
    assert manifest["dates"] == {
        "death": review["date_of_death"],
        "notification": review["notified_on"],
        "decision": review["decided_on"],
        "home_office_notified": review["home_office_notified_on"],
        "terms_of_reference": review["terms_agreed_on"],
        "overview_completion": review["overview_approved_on"],
        "sign_off": review["signed_off_on"],
        "first_submission": review["first_submitted_on"],
    }
    assert None not in manifest["dates"].values()

    # Deadlines as GET /reviews/{id} shows them on the day of (re)submission, with the agreed extension (6.4).
    agency_of = {j.imrs["police"]: "Exampleshire Constabulary", j.imrs["health"]: "Example NHS Foundation Trust",
                 j.no_contact_imr: "Example Homes Housing Association"}

    def subject(d: dict):
        if d["subject_id"] is None:
            return None
        if d["kind"] == "imr":
            return {"type": "imr", "agency": agency_of[d["subject_id"]]}
        return {"type": "action", "id": d["subject_id"]}

    shown = sorted(
        (d["kind"], json.dumps(subject(d)), d["starts_on"], d["original_due_on"], d["due_on"], d["met_on"], d["status"],
         [(e["previous_due_on"], e["new_due_on"], e["agreed_on"], e["reason"]) for e in d["extensions"]])
        for d in review["deadlines"]
    )
    listed = sorted(
        (d["kind"], json.dumps(d["subject"]), d["starts_on"], d["original_due_on"], d["due_on"], d["met_on"], d["status"],
         [(e["previous_due_on"], e["new_due_on"], e["agreed_on"], e["reason"]) for e in d["extensions"]])
        for d in manifest["deadlines"]
    )
    assert listed == shown
    for d in manifest["deadlines"]:
        assert d["extended"] is (d["due_on"] != d["original_due_on"])
    (overview,) = [d for d in manifest["deadlines"] if d["kind"] == "overview_report"]
    assert overview["extended"] is True and overview["due_on"] == EXTENDED_TO
    assert [(e["new_due_on"], e["reason"]) for e in overview["extensions"]] == [(EXTENDED_TO, EXTENSION_REASON)]
    assert overview["extensions"][0]["previous_due_on"] == overview["original_due_on"] != EXTENDED_TO

    # The police and health IMRs were commissioned the same day, so their order is not fixed.
    assert sorted(manifest["agencies"], key=lambda a: a["name"]) == [
        {"name": "Example Homes Housing Association", "kind": "housing", "imr_state": "no_involvement", "had_contact": False},
        {"name": "Example NHS Foundation Trust", "kind": "health", "imr_state": "accepted", "had_contact": True},
        {"name": "Exampleshire Constabulary", "kind": "police", "imr_state": "accepted", "had_contact": True},
    ]
    assert manifest["panel"]["chair"] == {"name": world.user("panel_chair").name, "agency": None, "independence_statement": True}
    assert [m["name"] for m in manifest["panel"]["members"]] == [world.user("panel_member").name]
    assert manifest["readiness"]["ready"] is True
    assert manifest["readiness"]["checked_on"] == review["submitted_on"]
    assert all(c["passed"] for c in manifest["readiness"]["checks"])
    assert manifest["library"] == {
        "region": "East of England",
        "date_of_death": review["date_of_death"],
        "death_type": "homicide",
        "cause_of_death": "stabbing",
        "location_of_death": "shared_home",
        "relationship": "intimate_partner",
        "flags": ["coercive_control", "intimate_partner", "separation"],
        "themes": sorted(["information sharing", "coercive control"]),
    }
    assert manifest["library"]["flags"] == review["library_flags"]


# -- the journey ---------------------------------------------------------------------------------

def to_sign_off(api, world) -> Journey:
    """A review at CSP sign-off (8.19) whose Overview Report deadline was extended (6.4) and whose
    library facts are recorded."""
    j = Journey(api, world).to("evidence")
    housing = ok(j.as_("panel_chair").post(f"/reviews/{j.id}/imrs", json={"agency_id": world.agencies["housing"]}), 201)
    ok(j.as_("housing_manager").post(f"/imrs/{housing['id']}/events", json={
        "event": "declare_no_involvement", "data": {"statement": "No record of contact with Adult A or Adult B."}}))
    j.no_contact_imr = housing["id"]
    j.to("drafting")
    j.fire("chair", "agree_extension", deadline="overview_report", new_due_on=EXTENDED_TO, reason=EXTENSION_REASON)
    j.to("csp_signoff")
    response = j.as_("coordinator").get(f"/reviews/{j.id}")
    ok(j.as_("coordinator").patch(f"/reviews/{j.id}", headers={"If-Match": response.headers["ETag"]}, json={
        "death_cause": "stabbing", "death_location": "shared_home", "flags": ["separation", "coercive_control"],
        "themes": ["information sharing", "coercive control"]}))
    return j


def overview_patch(j: Journey, **fields) -> dict:
    overview = ok(j.as_("panel_chair").get(f"/reviews/{j.id}/overview"))
    return ok(j.as_("panel_chair").patch(f"/reviews/{j.id}/overview", headers={"If-Match": f'"{overview["version"]}"'}, json=fields))


def submissions(j: Journey, who: str = "chair") -> list[dict]:
    return ok(j.as_(who).get(f"/reviews/{j.id}/submissions"))["items"]


def qa_changes(j: Journey, who: str = "chair") -> list[dict]:
    return ok(j.as_(who).get(f"/reviews/{j.id}/qa-changes"))["items"]


def change_event(j: Journey, who: str, change_id: str, event: str, text: str, expect: int = 200) -> dict:
    return ok(j.as_(who).post(f"/qa-changes/{change_id}/events", json={"event": event, "text": text}), expect)


# -- the tests ------------------------------------------------------------------------------------

def test_submission_qa_resubmission_changes_and_publication(api, world):
    """8.19, 11.1: the package exists once the CSP chair signs off and submits, with the three reports
    as agreed for publication and a marked cover letter; its zip is made once and kept byte for byte.
    9.1: no IMR goes in it. 11.2: a required resubmission is a new package version saying what changed
    and which findings it answers. 11.3: cleared subject to changes, the CSP marks each change made
    before it may confirm. 9.5: the files as published are kept."""
    j = to_sign_off(api, world)

    # -- Before sign-off there is no package: 409, saying why and what to do (8.19) ---------------
    refused = ok(j.as_("chair").get(f"/reviews/{j.id}/home-office-package"), 409)
    assert "signed off" in refused["detail"] and "submit" in refused["detail"]
    assert ok(j.as_("coordinator").get(f"/reviews/{j.id}/submissions")) == {"items": [], "total": 0}
    # The Home Office sees a review once it is first submitted to it, not before.
    ok(j.as_("home_office").get(f"/reviews/{j.id}/home-office-package"), 404)

    # The restricted Overview Report names the victim; the package's copy must not (9.2).
    restricted = ok(j.as_("chair").post(f"/reviews/{j.id}/documents", json={"kind": "overview_report", "variant": "restricted"}), 201)
    content = j.as_("chair").get(f"/documents/{restricted['id']}/content", params={"format": "docx"}).content
    assert "Zoë O'Brien-Smith" in docx_text(content) and "Practitioner 1" in docx_text(content)

    # -- Submitted: package version 1 ------------------------------------------------------------
    j.submit()
    assert j.review["state"] == "submitted"
    (first,) = submissions(j)
    assert (first["number"], first["kind"], first["submitted_on"], first["package"]) == (1, "submission", j.day.isoformat(), None)
    assert [d["kind"] for d in first["documents"]] == list(KINDS)
    documents = {d["id"]: d for d in ok(j.as_("chair").get(f"/reviews/{j.id}/documents"))["items"]}
    for frozen in first["documents"]:
        variant = "restricted" if frozen["kind"] == COVER_LETTER else "publication"
        assert (documents[frozen["document_id"]]["kind"], documents[frozen["document_id"]]["variant"]) == (frozen["kind"], variant)

    v1 = download(j, "chair")
    check_package(j, v1, 1, first["documents"])
    check_manifest(j, world, v1.manifest, version=1, kind="submission")
    assert (v1.manifest["package"]["what_changed"], v1.manifest["package"]["answers_feedback"]) == (None, None)
    check_no_imr_and_no_names(v1)
    cover = docx_text(v1.docx[COVER_LETTER])
    assert "Submission to the Quality Assurance Panel" in cover and "resubmission" not in cover.lower()
    assert "3, of which 2 had contact" in cover
    assert "from 15 July 2026 to 30 September 2026" in cover  # the extension agreed (6.4)

    # Made at the first download and kept: the coordinator and the Home Office get the same bytes.
    assert download(j, "coordinator").body == v1.body
    assert download(j, "home_office", version=1).body == v1.body
    assert downloads_in_history(j) == [1, 1, 1]
    (first,) = submissions(j)
    assert (first["package"]["sha256"], first["package"]["bytes"]) == (hashlib.sha256(v1.body).hexdigest(), len(v1.body))

    # -- Not for the panel chair, agency staff or another partnership --------------------------
    for who in ("panel_chair", "panel_member", "police_manager", "police_author"):
        refused = ok(j.as_(who).get(f"/reviews/{j.id}/home-office-package"), 404)
        assert "That part of the review" in refused["detail"], who
        ok(j.as_(who).get(f"/reviews/{j.id}/submissions"), 404)
    for who in ("other_chair", "other_coordinator"):
        refused = ok(j.as_(who).get(f"/reviews/{j.id}/home-office-package"), 404)
        assert "That part of the review" not in refused["detail"], who
    ok(j.as_(None).get(f"/reviews/{j.id}/home-office-package"), 401)
    ok(j.as_("chair").get(f"/reviews/{j.id}/home-office-package", params={"version": 2}), 404)
    assert downloads_in_history(j) == [1, 1, 1], "a refused download is not a download"

    # -- QA requires a resubmission (11.2) --------------------------------------------------------
    j.advance(28)
    j.fire("home_office", "qa_require_resubmission", feedback=FEEDBACK)
    assert j.review["state"] == "revising"
    j.advance(7)
    overview_patch(j, equality_and_diversity=EDITED_EQUALITY)
    edited_on = j.day.isoformat()
    j.advance(1)
    j.fire("chair", "resubmit", summary=SUMMARY)
    assert j.review["state"] == "submitted"

    v2 = download(j, "home_office")
    one, two = submissions(j, "home_office")
    assert (one["number"], one["kind"], one["qa_outcome"]) == (1, "submission", "resubmission_required")
    assert (two["number"], two["kind"], two["what_changed"], two["answers_feedback"]) == (2, "resubmission", SUMMARY, FEEDBACK)
    check_package(j, v2, 2, two["documents"])
    check_manifest(j, world, v2.manifest, version=2, kind="resubmission")
    assert (v2.manifest["package"]["what_changed"], v2.manifest["package"]["answers_feedback"]) == (SUMMARY, FEEDBACK)
    # Besides the chair's summary, the package lists what the review's history shows edited since v1.
    edits = [{"part": "Overview Report", "fields": ["equality and diversity"], "edits": 1, "last_on": edited_on}]
    assert v2.manifest["package"]["edits_since_previous"] == two["edits_since_previous"] == edits
    assert v1.manifest["package"]["edits_since_previous"] is None and one["edits_since_previous"] is None
    assert v2.manifest["dates"]["first_submission"] == v1.manifest["package"]["submitted_on"] != v2.manifest["package"]["submitted_on"]
    check_no_imr_and_no_names(v2)
    cover = docx_text(v2.docx[COVER_LETTER])
    assert "resubmission 2" in cover.lower() and FEEDBACK in cover and SUMMARY in cover
    assert "Overview Report (equality and diversity)" in cover
    # The resubmitted report is the edited one; the first package keeps the report as first sent.
    assert "hearing loss" in docx_text(v2.docx["overview_report"])
    assert "hearing loss" not in docx_text(v1.docx["overview_report"])
    assert {d["document_id"] for d in one["documents"]}.isdisjoint(d["document_id"] for d in two["documents"])

    # -- Cleared subject to two changes (11.3) ----------------------------------------------------
    j.advance(21)
    j.fire("home_office", "qa_clear_subject_to_changes", changes=QA_CHANGES)
    assert j.review["state"] == "cleared_subject_to_changes"
    changes = qa_changes(j)
    assert [(c["number"], c["text"], c["package_version"], c["made"]) for c in changes] == [
        (1, QA_CHANGES[0], 2, False), (2, QA_CHANGES[1], 2, False)]
    assert qa_changes(j, "panel_chair") == qa_changes(j, "home_office") == changes
    ok(j.as_("police_manager").get(f"/reviews/{j.id}/qa-changes"), 404)

    refused = j.fire("chair", "confirm_changes_made", expect=409, summary="All done.")
    assert [g["guard"] for g in refused["failed_guards"]] == ["every_qa_change_made"]
    assert "1, 2" in refused["failed_guards"][0]["reason"]

    j.advance(5)
    change_event(j, "home_office", changes[0]["id"], "made", "The QA panel cannot mark its own change made.", expect=403)
    change_event(j, "police_manager", changes[0]["id"], "made", "Not my review's change.", expect=404)
    made = change_event(j, "chair", changes[0]["id"], "made", "Only the year is given now.")
    assert (made["made"], made["made_on"], made["how"], made["made_by_name"]) == (True, j.day.isoformat(), "Only the year is given now.", world.user("chair").name)
    change_event(j, "chair", changes[0]["id"], "made", "Again.", expect=409)
    refused = j.fire("chair", "confirm_changes_made", expect=409, summary="All done.")
    assert [g["guard"] for g in refused["failed_guards"]] == ["every_qa_change_made"]
    assert "change 2 is not" in refused["failed_guards"][0]["reason"]

    # A change found not done after all is reopened, with why; then made again.
    ok(j.as_("chair").post(f"/qa-changes/{changes[0]['id']}/events", json={"event": "reopen"}), 422)
    reopened = change_event(j, "coordinator", changes[0]["id"], "reopen", "The month is still in the chronology table.")
    assert (reopened["made"], reopened["made_on"], reopened["how"]) == (False, None, None)
    change_event(j, "coordinator", changes[0]["id"], "made", "The chronology gives the year only too.")
    change_event(j, "panel_chair", changes[1]["id"], "made", "Section 1 gives the date the family saw it.")
    assert [(c["number"], c["made"]) for c in qa_changes(j)] == [(1, True), (2, True)]
    change_history = [(e["event"], e["actor"]) for e in j.history() if e["entity_type"] == "qa_change"]
    assert change_history == [
        ("qa_change_made", world.user("chair").name), ("qa_change_reopen", world.user("coordinator").name),
        ("qa_change_made", world.user("coordinator").name), ("qa_change_made", world.user("panel_chair").name)]

    j.fire("chair", "confirm_changes_made", summary="Both changes were made.")
    assert (j.review["state"], j.review["cleared_on"]) == ("cleared", j.day.isoformat())
    change_event(j, "chair", changes[1]["id"], "reopen", "Too late.", expect=409)

    # -- Each submission keeps its QA outcome; each package its bytes ----------------------------
    one, two = submissions(j)
    assert [(s["number"], s["kind"], s["qa_outcome"]) for s in (one, two)] == [
        (1, "submission", "resubmission_required"), (2, "resubmission", "cleared_subject_to_changes")]
    assert [c["number"] for c in one["changes"]] == [] and [c["number"] for c in two["changes"]] == [1, 2]
    again = download(j, "coordinator", version=1)
    assert again.body == v1.body
    assert download(j, "chair").body == v2.body  # the latest by default
    assert v1.manifest["package"]["version"] == 1 and v2.manifest["package"]["version"] == 2
    assert v1.body != v2.body
    assert downloads_in_history(j) == [1, 1, 1, 2, 1, 2]

    # -- Published (9.1-9.5): the three reports exactly as published are kept -------------------
    j.advance(7)
    j.fire("chair", "publish", url=PUBLISHED_URL)
    assert (j.review["state"], j.review["published_on"]) == ("published", j.day.isoformat())
    published = ok(j.as_("chair").get(f"/reviews/{j.id}/documents", params={"published": "true"}))["items"]
    assert sorted((d["kind"], d["variant"], d["published_on"]) for d in published) == sorted(
        (kind, "publication", j.day.isoformat()) for kind in REPORTS)
    for document in published:
        body = j.as_("home_office").get(f"/documents/{document['id']}/content", params={"format": "docx"}).content
        assert hashlib.sha256(body).hexdigest() == document["sha256"]
        assert not names_in(docx_text(body), IDENTIFIERS)
    unpublished = ok(j.as_("chair").get(f"/reviews/{j.id}/documents", params={"published": "false"}))["items"]
    assert all(d["published_on"] is None for d in unpublished) and len(unpublished) >= 8


def test_qa_letters_and_changes_written_one_per_line(api, world):
    """11.1-11.3: the QA panel's letter is kept with the submission it answers, under a name of the
    system's making; a change list typed one per line becomes one change each."""
    j = Journey(api, world).to("submitted")
    letter_path = f"/reviews/{j.id}/submissions/1/letter"
    reference = j.review["reference"]

    ok(j.as_("chair").get(letter_path), 404)  # none yet
    pdf = b"%PDF-1.7\n% QA panel letter\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    attached = ok(j.as_("home_office").put(letter_path, files={"file": ("Letter to Cora Coordinator.pdf", pdf, "application/pdf")}))
    letter = attached["letter"]
    assert (letter["filename"], letter["media_type"], letter["bytes"]) == (f"{reference}-qa-letter-v1.pdf", "application/pdf", len(pdf))
    assert letter["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert letter["uploaded_by_name"] == world.user("home_office").name

    response = j.as_("coordinator").get(letter_path)
    assert response.status_code == 200 and response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="{reference}-qa-letter-v1.pdf"' in response.headers["content-disposition"]
    assert "Cora" not in response.headers["content-disposition"]

    # Not a PDF or a Word file: refused, saying what to send.
    refused = ok(j.as_("chair").put(letter_path, files={"file": ("letter.txt", b"Dear CSP", "text/plain")}), 422)
    assert "PDF" in refused["detail"]
    refused = ok(j.as_("chair").put(letter_path, files={"file": ("letter.pdf", b"<html>not a pdf</html>", "application/pdf")}), 422)
    assert "%PDF-" in refused["detail"]
    refused = ok(j.as_("chair").put(letter_path, files={"file": ("letter.docx", b"not a zip", DOCX_TYPE)}), 422)
    assert refused["detail"]
    assert j.as_("chair").get(letter_path).content == pdf, "a refused file replaces nothing"

    # A Word letter replaces the PDF, under the review's name.
    word = docx.Document()
    word.add_paragraph("The panel clears the report subject to the changes listed.")
    buffer = io.BytesIO()
    word.save(buffer)
    attached = ok(j.as_("chair").put(letter_path, files={"file": ("scan.DOCX", buffer.getvalue(), DOCX_TYPE)}))
    assert attached["letter"]["filename"] == f"{reference}-qa-letter-v1.docx"
    assert j.as_("home_office").get(letter_path).content == buffer.getvalue()

    # Only the CSP's chair and coordinator and the Home Office see or attach letters.
    for who in ("panel_chair", "police_manager", "other_chair"):
        ok(j.as_(who).get(letter_path), 404)
        ok(j.as_(who).put(letter_path, files={"file": ("letter.pdf", pdf, "application/pdf")}), 404)
    ok(j.as_("chair").get(f"/reviews/{j.id}/submissions/2/letter"), 404)

    history = [(e["event"], e["actor"], e["data"].get("version")) for e in j.history() if e["entity_type"] == "submission"]
    assert history == [
        ("attach_qa_letter", world.user("home_office").name, 1),
        ("download_qa_letter", world.user("coordinator").name, 1),
        ("download_qa_letter", world.user("chair").name, 1),
        ("attach_qa_letter", world.user("chair").name, 1),
        ("download_qa_letter", world.user("home_office").name, 1),
    ]

    # Changes typed into a text area, one per line (blank lines ignored).
    j.advance(14)
    j.fire("home_office", "qa_clear_subject_to_changes", changes="Remove the month of death.\n\n  Name the chair's agency.  \n")
    changes = ok(j.as_("coordinator").get(f"/reviews/{j.id}/qa-changes"))["items"]
    assert [(c["number"], c["text"], c["package_version"], c["made"]) for c in changes] == [
        (1, "Remove the month of death.", 1, False), (2, "Name the chair's agency.", 1, False)]
    (submission,) = submissions(j)
    assert submission["qa_outcome"] == "cleared_subject_to_changes"
    assert [c["text"] for c in submission["changes"]] == ["Remove the month of death.", "Name the chair's agency."]

"""What a reader finds in the generated Word documents of a rich review (guidance Appendices 2-5, 4.6, 8.1).

The review (tests/rich_review.py) has twelve agencies, 104 quoted chronology entries, eleven
recommendations with twenty actions, an extended deadline, and text full of "&", "<", apostrophes,
accents, real identifiers and canary strings. Every kind is generated over HTTP by the role that
makes it, downloaded, and opened with python-docx; the assertions are about what a reader would see:
the statutory headings in order, the values in the right places, the protective marking, and no
real name, staff name or IMR narrative in a publication copy.

Each test builds the review once (the database is fresh per test, on SQLite and on PostgreSQL).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import threading
import time

import docx
import pytest
from docx.table import Table
from docx.text.paragraph import Paragraph

from app.documents import pdf
from app.documents.docx_text import plain_text
from tests.journey import Journey
from tests.rich_review import (
    CAFE, CANARIES, DISSEMINATION, DRAFT_CANARY, EXTENDED_TO, EXTENSION_REASON, NAMED_OUTCOME, NAMED_RECOMMENDATION,
    NAMED_RECOMMENDATION_TEXT, NO_CONTACT, OVERVIEW_TEXT, PERPETRATOR_ETHNICITY,
    PREFILLED, SMITH, STAFF_NAME, VICTIM_ETHNICITY, VICTIM_RELATIONSHIP, Rich, build_rich_review, download, generate, long_date,
)
from tests.support import ok

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKING = "OFFICIAL-SENSITIVE"
VICTIM = "Zoë O'Brien-Smith"
CHAIR_NAME = "Penny Panelchair"
# What must never reach a publication copy: the victim's and perpetrator's names and name parts,
# the alias, date of birth, address and postcode.
IDENTIFIERS = ["Zoë", "Zoe", "O'Brien-Smith", "Zed", "Bartholomew", "Quince", "1991", "Acacia", "EX1 2AB"]
REPORTS = ("overview_report", "executive_summary", "action_plan")
ACTION_PLAN_COLUMNS = [
    "Recommendation",
    "Scope of recommendation (local, regional or national)",
    "Action to take",
    "Lead agency",
    "Key milestones achieved in enacting recommendation",
    "Target date",
    "Date of completion and outcome",
]
IMR_HEADINGS = [
    "1. Introduction", "2. Terms of reference", "3. Methodology", "4. Details of parallel reviews/processes",
    "5. Chronology of agency involvement", "6. Analysis of involvement", "7. Effective practice/lessons learnt", "8. Recommendations",
]
# The Appendix 2 prompts the pre-filled IMR shows its author where a section is still empty.
IMR_PROMPTS = [
    "Record the methodology used including extent of document review and interviews undertaken.",
    "What was your agency\u2019s involvement with the victim? Construct a comprehensive chronology",
    "Identify the details of the professionals from within your agency who were involved with the victim",
    "Consider the events that occurred, the decisions made, and the actions taken or not. Assess practice against guidance and relevant legislation.",
    "Consider further analysis in respect of key critical factors",
    "Identify examples of effective practice in your agency",
    "Record the lessons to be learned from this case",
    "Recommendations should be focussed on the key findings of the IMR and be specific about the outcome which they are seeking.",
]


# -- reading a .docx ------------------------------------------------------------------------------

def open_docx(content: bytes):
    return docx.Document(io.BytesIO(content))


def heading_level(block) -> int | None:
    """0 for the Title, n for "Heading n", None for anything else (body text, tables)."""
    if not isinstance(block, Paragraph) or block.style is None:
        return None
    name = block.style.name
    if name == "Title":
        return 0
    if name.startswith("Heading "):
        return int(name.split()[1])
    return None


def headings(doc) -> list[tuple[int, str]]:
    return [(heading_level(b), b.text) for b in doc.iter_inner_content() if heading_level(b) is not None]


def assert_in_order(actual: list, expected: list) -> None:
    """`expected` appears in `actual` in this order (a template may add headings, never drop or reorder these)."""
    position = 0
    for item in expected:
        try:
            position = actual.index(item, position) + 1
        except ValueError:
            raise AssertionError(f"{item!r} missing or out of order; the headings are {actual}") from None


def section(doc, level: int, text: str) -> list:
    """The blocks directly under the (only) heading `text` at `level`, up to the next heading of any level."""
    blocks = list(doc.iter_inner_content())
    starts = [i for i, b in enumerate(blocks) if heading_level(b) == level and b.text == text]
    assert len(starts) == 1, f"{len(starts)} headings {text!r} at level {level}: {headings(doc)}"
    out = []
    for block in blocks[starts[0] + 1:]:
        if heading_level(block) is not None:
            break
        out.append(block)
    return out


def texts(blocks: list) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Paragraph) and b.text.strip()]


def tables(blocks: list) -> list[Table]:
    return [b for b in blocks if isinstance(b, Table)]


def rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def bullets_after(blocks: list, intro: str) -> list[str]:
    """The List Bullet paragraphs that follow the paragraph reading `intro`."""
    paragraphs = [b for b in blocks if isinstance(b, Paragraph)]
    index = next((i for i, p in enumerate(paragraphs) if p.text == intro), None)
    assert index is not None, f"no paragraph {intro!r} in {texts(blocks)}"
    out = []
    for p in paragraphs[index + 1:]:
        if p.style.name != "List Bullet":
            break
        out.append(p.text)
    return out


def parse_long_date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d %B %Y").date()


# -- checks every document gets ------------------------------------------------------------------

def assert_marking(content: bytes, variant: str, what: str) -> None:
    doc = open_docx(content)
    if variant == "restricted":
        for number, sec in enumerate(doc.sections):
            for name, part in (("header", sec.header), ("footer", sec.footer)):
                assert MARKING in [p.text for p in part.paragraphs], f"{what}: section {number} {name} lacks {MARKING}"
    else:
        everything = plain_text(content)
        assert "OFFICIAL" not in everything.upper(), f"{what}: a publication copy carries a marking"


def assert_escaped(content: bytes, what: str) -> None:
    everything = plain_text(content)
    for escaped in ("&amp;", "&lt;", "&gt;", "&#39;", "&quot;"):
        assert escaped not in everything, f"{what}: {escaped!r} printed instead of the character"


def assert_publication_clean(content: bytes, what: str) -> None:
    """No identifier or staff name anywhere in the file (body, tables, headers, footers, notes, properties),
    the pseudonym present, and file properties that name no one."""
    everything = plain_text(content)
    for identifier in IDENTIFIERS:
        assert identifier.lower() not in everything.lower(), f"{what}: {identifier!r} in a publication copy"
    assert "Adult A" in everything, f"{what}: the victim's pseudonym is missing"
    assert STAFF_NAME not in everything, f"{what}: a staff name in a publication copy"
    props = open_docx(content).core_properties
    assert (props.author, props.last_modified_by, props.comments, props.keywords, props.revision) == ("", "", "", "", 1), what


def assert_no_imr_narrative(content: bytes, what: str) -> None:
    everything = plain_text(content)
    for field, canary in CANARIES.items():
        assert canary not in everything, f"{what}: the IMR's {field} reached a report"
    assert DRAFT_CANARY not in everything, f"{what}: a chronology not yet quality-assured (8.8) reached a report"


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def rich(api, world) -> Rich:
    return build_rich_review(api, world)


class Made:
    """Generates a document and downloads it, checking what every download must be."""

    def __init__(self, api, rich: Rich):
        self.api, self.rich = api, rich

    def __call__(self, who: str, kind: str, variant: str = "restricted", imr_id: str | None = None) -> tuple[dict, bytes]:
        meta = generate(self.api, who, self.rich.id, kind, variant, imr_id)
        assert (meta["kind"], meta["variant"], meta["imr_id"], meta["source"]) == (kind, variant, imr_id, "generated")
        response = download(self.api, who, meta["id"])
        assert response.headers["content-type"] == DOCX_TYPE
        assert response.headers["content-disposition"] == f'attachment; filename="{meta["filename"]}"'
        content = response.content
        assert hashlib.sha256(content).hexdigest() == meta["sha256"] and len(content) == meta["size"]
        what = f"{kind} ({variant})"
        assert_marking(content, variant, what)
        assert_escaped(content, what)
        if variant == "publication":
            assert_publication_clean(content, what)
            assert meta["findings"] == [], f"{what}: the identifier scan found {meta['findings']}"
        if kind in REPORTS:
            assert_no_imr_narrative(content, what)
        for identifier in ("Zo", "Brien", "Quince", "Acacia"):
            assert identifier not in meta["filename"]  # file names reach URLs and logs
        return meta, content


@pytest.fixture
def made(api, rich) -> Made:
    return Made(api, rich)


# -- the Overview Report (Appendices 3 and 4) ----------------------------------------------------

def test_overview_report_restricted(made, rich):
    _meta, content = made("panel_chair", "overview_report")
    doc = open_docx(content)
    assert_in_order(headings(doc), [
        (0, "REPORT INTO THE DEATH OF"),
        (1, "Introduction"), (1, "Timescales"), (1, "Confidentiality"), (1, "Dissemination"),
        (1, "Executive Summary"),
        (2, "1. The review process"), (2, "2. Key issues arising from the review"), (2, "3. Conclusions and recommendations from the review"),
        (1, "Cambridge City CSP Domestic Homicide Review Panel Concluding Report"),
        (2, "Introduction"), (2, "The Facts"), (2, "Analysis"), (2, "Conclusion/Lessons Learnt"), (2, "Recommendations"),
        (1, "Combined chronology"),
        (1, "Appendix"),
    ])
    body = list(doc.iter_inner_content())
    # Appendix 3: the cover names the victim (restricted copy) and the report's author.
    cover = texts(body[: next(i for i, b in enumerate(body) if heading_level(b) == 1)])
    assert cover[:6] == ["To be anonymised for publication and dissemination", "Cambridge City CSP", "REPORT INTO THE DEATH OF", VICTIM,
                         rich.reference, f"Report produced by: {CHAIR_NAME}"]

    introduction = texts(section(doc, 1, "Introduction"))
    assert introduction[0] == (f"This report of a domestic homicide review examines agency responses and support given to {VICTIM}, "
                               "a resident of Cambridge City CSP, prior to the point of death on 2 January 2026.")
    assert f"{VICTIM} and Bartholomew Quince from 1 January 2023 to 20 January 2026." in introduction[1]
    # Each line the chair wrote is a paragraph of its own, in order.
    written = OVERVIEW_TEXT["introduction"].split("\n")
    start = introduction.index(written[0])
    assert introduction[start:start + 3] == written

    timescales = section(doc, 1, "Timescales")
    assert texts(timescales)[0].startswith("This review began on 15 January 2026. Reviews, including the overview report")
    assert rows(tables(timescales)[0]) == [
        ["Deadline", "Original due date", "Extended to", "Reason"],
        ["Overview report", long_date(rich.overview_due_on), long_date(EXTENDED_TO), EXTENSION_REASON],
    ]
    assert rich.overview_due_on < EXTENDED_TO
    assert texts(section(doc, 1, "Confidentiality")) == [
        "The findings of each review are confidential. Information is available only to participating officers/professionals and their line managers."]
    assert bullets_after(section(doc, 1, "Dissemination"), "The following recipients have received copies of this report:") == DISSEMINATION

    # The executive summary inside the report: who took part, who had contact, who had none.
    summary = section(doc, 2, "1. The review process")
    assert sorted(bullets_after(summary, "Agencies participating in this case review are:")) == sorted(rich.participating)
    assert len(rich.participating) == 12
    assert sorted(bullets_after(summary, "8 of the 12 agencies responded with information indicating some level of involvement with the victim:")) \
        == sorted(rich.with_contact)
    assert sorted(bullets_after(summary, "2 of the 12 agencies have not yet reported:")) == sorted(rich.awaiting)
    assert sorted(bullets_after(summary, "In total, 2 of the 12 agencies responded as having had no contact with either the victim or the suspect "
                                         "or with any children involved:")) == sorted(NO_CONTACT)
    assert texts(section(doc, 2, "2. Key issues arising from the review")) == OVERVIEW_TEXT["key_issues"].split("\n")

    # The panel's concluding report.
    concluding = section(doc, 2, "Introduction")
    assert texts(concluding)[0].startswith(f"This review report is an anthology of information and facts from 12 agencies, all of which were "
                                           f"potential support agencies for {VICTIM}. Essentially, only 8 agencies")
    assert texts(section(doc, 2, "The Facts")) == OVERVIEW_TEXT["facts"].split("\n")
    assert texts(section(doc, 2, "Analysis"))[:3] == OVERVIEW_TEXT["analysis"].split("\n")
    assert texts(section(doc, 3, "Lessons learnt"))[:2] == OVERVIEW_TEXT["lessons"].split("\n")
    recommendations = texts(section(doc, 2, "Recommendations"))
    assert recommendations == [line for rec in rich.recommendations for line in (
        f"{rec['number']}. {rec['text']}", f"Scope: {rec['scope'].capitalize()}. Source: {rec['source']}.")]
    assert f"Scope: Local. Source: {SMITH} IMR." in recommendations and f"Scope: Regional. Source: {CAFE} IMR." in recommendations

    panel = section(doc, 2, "Review panel")
    assert rows(tables(panel)[0]) == [
        ["Name", "Agency", "Role"],
        [CHAIR_NAME, "", "Independent chair"],
        ["Pat Panelmember", "Exampleshire Constabulary", "Member"],
    ], "each panel member once, the chair as independent chair"
    assert "I have no connection with any agency involved." in texts(panel)
    assert f"Author: {CHAIR_NAME}" in texts(panel)

    # The combined chronology: every entry of a quality-assured IMR (8.8), in date order, staff named.
    chronology = rows(tables(section(doc, 1, "Combined chronology"))[0])
    assert chronology[0] == ["Date", "Agency", "What happened", "Who was seen", "Views and wishes expressed", "Staff involved"]
    assert len(chronology) - 1 == len(rich.chronology) == 104
    assert [(r[0], r[1], r[2], r[5]) for r in chronology[1:]] == [(long_date(d), a, text, staff) for d, a, text, staff in rich.chronology]
    dates = [parse_long_date(r[0]) for r in chronology[1:]]
    assert dates == sorted(dates) and dates[0] == dt.date(2023, 1, 8) and dates[-1] == dt.date(2025, 12, 15)
    assert {r[1] for r in chronology[1:]} == set(rich.with_contact)
    assert any("PC O'Neill & a colleague" in r[2] for r in chronology) and any("score < 10 & rising" in r[2] for r in chronology)
    assert any(r[1] == CAFE for r in chronology) and any(r[1] == SMITH for r in chronology)
    assert STAFF_NAME in {r[5] for r in chronology}
    assert any(VICTIM in r[3] for r in chronology), "the restricted copy keeps real names"

    appendix = section(doc, 1, "Appendix")
    assert sorted(bullets_after(appendix, "Confirmation of no record of contact from:")) == sorted(NO_CONTACT)


def test_overview_report_publication(made, rich):
    meta, content = made("coordinator", "overview_report", "publication")
    assert meta["filename"] == f"{rich.reference}-overview-report-publication-v1.docx"
    doc = open_docx(content)
    heads = headings(doc)
    assert_in_order(heads, [(0, "REPORT INTO THE DEATH OF"), (1, "Introduction"), (1, "Timescales"), (1, "Confidentiality"),
                            (1, "Dissemination"), (1, "Executive Summary"), (1, "Combined chronology"), (1, "Appendix")])
    everything = plain_text(content)
    assert "To be anonymised for publication" not in everything
    body = texts(list(doc.iter_inner_content()))
    assert body[:3] == ["Cambridge City CSP", "REPORT INTO THE DEATH OF", "Adult A"]
    assert texts(section(doc, 2, "The Facts")) == [
        "Adult A lived at [address removed] with Adult B.",
        "Adult A, as her friends called her, was born on [date of birth removed].",
        "She died at home in January 2026.",
    ]
    assert "The review will consider agencies\u2019 contact/involvement with Adult A and Adult B from 1 January 2023 to 20 January 2026." in body

    chronology = rows(tables(section(doc, 1, "Combined chronology"))[0])
    assert chronology[0] == ["Date", "Agency", "What happened", "Who was seen", "Views and wishes expressed"], "no staff column when published"
    assert len(chronology) - 1 == 104
    assert [(r[0], r[1]) for r in chronology[1:]] == [(long_date(d), a) for d, a, _text, _staff in rich.chronology]
    assert "Contact 002. Home visit to [address removed]; Adult A was not at home." in [r[2] for r in chronology]
    assert "Contact 004. Adult B called about the tenancy & rent arrears at [postcode removed]." in [r[2] for r in chronology]
    assert texts(section(doc, 2, "Recommendations"))[::2] == [f"{rec['number']}. {rec['published_text']}" for rec in rich.recommendations]
    assert sorted(bullets_after(section(doc, 1, "Appendix"), "Confirmation of no record of contact from:")) == sorted(NO_CONTACT)
    assert bullets_after(section(doc, 1, "Dissemination"), "The following recipients have received copies of this report:") == DISSEMINATION
    assert SMITH in everything and CAFE in everything and "O'Neill" in everything


# -- the Executive Summary and the Action Plan (Appendices 4 and 5) -------------------------------

def test_executive_summary_both_variants(made, rich):
    for variant, name in (("restricted", VICTIM), ("publication", "Adult A")):
        _meta, content = made("chair", "executive_summary", variant)
        doc = open_docx(content)
        assert headings(doc) == [(0, "Executive Summary"), (1, "1. The review process"), (1, "2. Key issues arising from the review"),
                                 (1, "3. Conclusions and recommendations from the review")]
        process = section(doc, 1, "1. The review process")
        assert texts(process)[0] == (
            f"This summary outlines the process undertaken by Cambridge City CSP domestic homicide review panel in reviewing the death of {name}.")
        notice = "To be anonymised for publication and dissemination"
        assert (notice in texts(list(doc.iter_inner_content()))) == (variant == "restricted")
        assert sorted(bullets_after(process, "Agencies participating in this case review are:")) == sorted(rich.participating)
        assert sorted(bullets_after(process, "In total, 2 of the 12 agencies responded as having had no contact with either the victim or the "
                                             "suspect or with any children involved:")) == sorted(NO_CONTACT)
        key_issues = texts(section(doc, 1, "2. Key issues arising from the review"))
        expected = OVERVIEW_TEXT["key_issues"].split("\n")
        assert key_issues[:2] == expected[:2] and len(key_issues) == 3
        assert key_issues[2] == (expected[2] if variant == "restricted" else "Professional curiosity about Adult's injuries.")
        conclusions = texts(section(doc, 1, "3. Conclusions and recommendations from the review"))
        text = "text" if variant == "restricted" else "published_text"
        assert conclusions == OVERVIEW_TEXT["conclusions"].split("\n") + ["Recommendations"] + [
            f"{rec['number']}. {rec[text]}" for rec in rich.recommendations]


def test_action_plan_both_variants(made, rich):
    for variant in ("restricted", "publication"):
        _meta, content = made("panel_chair", "action_plan", variant)
        doc = open_docx(content)
        assert headings(doc)[0] == (0, "Action Plan")
        [table] = doc.tables
        plan = rows(table)
        assert plan[0] == ACTION_PLAN_COLUMNS
        body = plan[1:]
        assert len(body) == 20 + 2, "one row per action and one per recommendation with no action yet"
        assert body == rich.action_plan_rows(published=variant == "publication")
        named = [row for row in body if row[0].startswith(f"{NAMED_RECOMMENDATION}. ")]
        assert len(named) == 2 and named[0][0] == f"{NAMED_RECOMMENDATION}. " + NAMED_RECOMMENDATION_TEXT[variant == "publication"]
        assert named[1][6] == f"12 February 2026: {NAMED_OUTCOME[variant == 'publication']}"
        # Spot checks a reader would make, column by column.
        by_action = {row[2]: row for row in body}
        assert by_action["Action 02: train staff in routine enquiry <level 2> & record it."][3] == SMITH
        assert by_action["Action 03: train staff in routine enquiry <level 2> & record it."][3] == CAFE
        assert by_action["Action 02: train staff in routine enquiry <level 2> & record it."][5] == "1 March 2027"
        assert by_action["Action 04: train staff in routine enquiry <level 2> & record it."][6] == "4 February 2026: 20 staff trained & audited."
        assert by_action["Action 01: train staff in routine enquiry <level 2> & record it."][6] == ""
        assert len([row for row in body if row[6]]) == 5
        without = [row for row in body if row[2] == "No action agreed yet"]
        assert [row[0][:3] for row in without] == ["10.", "11."] and all(row[3:] == ["", "", "", ""] for row in without)
        assert {row[1] for row in body} == {"Local", "Regional", "National"}


# -- every kind in every variant: marking, escaping, publication rules ---------------------------

def test_every_kind_every_variant(made, rich, api):
    police_imr = rich.imrs["Exampleshire Constabulary"]
    matrix = [
        ("panel_chair", "overview_report", "restricted", None),
        ("panel_chair", "overview_report", "publication", None),
        ("coordinator", "executive_summary", "restricted", None),
        ("coordinator", "executive_summary", "publication", None),
        ("chair", "action_plan", "restricted", None),
        ("chair", "action_plan", "publication", None),
        ("police_author", "imr", "restricted", police_imr),
        ("panel_chair", "imr", "restricted", rich.imrs[SMITH]),
        ("coordinator", "decision_letter", "restricted", None),
        ("panel_chair", "imr_commission_letter", "restricted", police_imr),
    ]
    made_files = {}
    for who, kind, variant, imr_id in matrix:
        meta, content = made(who, kind, variant, imr_id)  # marking, escaping, leaks, canaries: see Made
        made_files[(kind, variant, imr_id)] = (meta, content)
        props = open_docx(content).core_properties
        if variant == "restricted":
            assert props.author == "DHR case management"  # only the publication copy is stripped of who made it
        assert props.title.endswith(rich.reference)

    restricted_overview = plain_text(made_files[("overview_report", "restricted", None)][1])
    for identifier in ("Zoë", "O'Brien-Smith", "Zed", "Bartholomew", "Quince", "Acacia", "EX1 2AB", STAFF_NAME):
        assert identifier in restricted_overview, f"the restricted copy lost {identifier!r}: the publication checks would prove nothing"
    # The canaries are where they belong: in the agency's own IMR, and only there.
    smith_imr = plain_text(made_files[("imr", "restricted", rich.imrs[SMITH])][1])
    for canary in CANARIES.values():
        assert canary in smith_imr
    assert CANARIES["analysis"] not in plain_text(made_files[("imr", "restricted", police_imr)][1])

    listed = ok(api.as_("chair").get(f"/reviews/{rich.id}/documents"))
    generated = {(d["kind"], d["variant"], d["imr_id"]) for d in listed["items"]}
    assert set(made_files) <= generated


# -- IMRs (Appendix 2) ---------------------------------------------------------------------------

def test_imr_prefilled_and_final(made, rich):
    # Pre-filled for the author: the IMR is in progress and every section is still empty.
    _meta, content = made("panel_chair", "imr", imr_id=rich.imrs[PREFILLED])
    doc = open_docx(content)
    assert [text for level, text in headings(doc) if level == 1] == IMR_HEADINGS
    assert_in_order(headings(doc), [(0, "Individual Management Review"), (1, "1. Introduction"), (2, "Victim, perpetrator, family details"),
                                    (1, "5. Chronology of agency involvement"), (2, "Staff involved"), (1, "6. Analysis of involvement"),
                                    (2, "Addressing terms of reference"), (1, "7. Effective practice/lessons learnt"), (2, "Effective practice"),
                                    (2, "Lessons learnt"), (1, "8. Recommendations")])
    body = texts(list(doc.iter_inner_content()))
    assert body[:4] == ["Individual Management Review", PREFILLED, rich.reference, "Draft for the author"]
    everything = plain_text(content)
    for prompt in IMR_PROMPTS:
        assert prompt in everything, f"the pre-filled IMR lacks the prompt {prompt!r}"
    assert "Final IMR" not in body and "None recorded." not in body
    assert texts(section(doc, 1, "3. Methodology")) == [IMR_PROMPTS[0]]
    introduction = rows(tables(section(doc, 1, "1. Introduction"))[0])
    assert ["IMR author", "Drew Drafter"] in introduction
    assert ["Independence from the case and its line management (8.7)", "Not yet confirmed"] in introduction
    assert ["Person subject to review", VICTIM] in introduction
    assert ["Commissioned on", "31 January 2026"] in introduction and ["Date for completion", "31 March 2026"] in introduction
    people = rows(tables(section(doc, 2, "Victim, perpetrator, family details"))[0])
    assert people == [
        ["Name", "Date of birth", "Relationship", "Ethnic origin", "Address"],
        [VICTIM, "4 March 1991", VICTIM_RELATIONSHIP, VICTIM_ETHNICITY, "12 Acacia Avenue, Exampletown EX1 2AB"],
        ["Bartholomew Quince", "", "Former partner", PERPETRATOR_ETHNICITY, ""],
    ]
    assert rows(tables(section(doc, 1, "5. Chronology of agency involvement"))[0]) == [
        ["Date", "What happened", "Who was seen", "Views and wishes expressed", "Staff involved", "Interviewed"]]

    # The final IMR (accepted by the panel chair): its content, no prompts.
    _meta, content = made("panel_chair", "imr", imr_id=rich.imrs[SMITH])
    doc = open_docx(content)
    assert [text for level, text in headings(doc) if level == 1] == IMR_HEADINGS
    body = texts(list(doc.iter_inner_content()))
    assert body[:4] == ["Individual Management Review", SMITH, rich.reference, "Final IMR"]
    everything = plain_text(content)
    for prompt in IMR_PROMPTS:
        assert prompt not in everything, f"the final IMR still shows the prompt {prompt!r}"
    assert texts(section(doc, 1, "6. Analysis of involvement")) == [f"First paragraph of analysis {CANARIES['analysis']}.", "Second paragraph & more."]
    assert texts(section(doc, 1, "3. Methodology")) == [CANARIES["methodology"]]
    assert texts(section(doc, 2, "Lessons learnt")) == [CANARIES["lessons"]]
    assert ["IMR author", CANARIES["author_name"]] in rows(tables(section(doc, 1, "1. Introduction"))[0])
    chronology = rows(tables(section(doc, 1, "5. Chronology of agency involvement"))[0])
    own = [(long_date(d), text, staff) for d, agency, text, staff in rich.chronology if agency == SMITH]
    assert [(r[0], r[1], r[4]) for r in chronology[1:]] == own and len(own) == 17
    assert rows(tables(section(doc, 2, "Staff involved"))[0]) == [["Name and role", "Interviewed for this IMR"], [STAFF_NAME, "Yes"], ["Practitioner 2", "Yes"]]
    assert texts(section(doc, 1, "8. Recommendations")) == [
        f"{rec['number']}. {rec['text']} (scope: {rec['scope'].capitalize()})" for rec in rich.recommendations if rec["source"] == f"{SMITH} IMR"]
    people = rows(tables(section(doc, 2, "Victim, perpetrator, family details"))[0])
    assert people[1][3] == VICTIM_ETHNICITY

    # A final IMR with sections left empty says so, rather than prompting.
    _meta, content = made("police_author", "imr", imr_id=rich.imrs["Exampleshire Constabulary"])
    doc = open_docx(content)
    assert texts(section(doc, 1, "4. Details of parallel reviews/processes")) == ["None recorded."]
    assert texts(section(doc, 2, "Effective practice")) == ["None recorded."]
    assert texts(section(doc, 1, "3. Methodology")) == ["Records reviewed; staff interviewed."]
    assert [r[1] for r in rows(tables(section(doc, 1, "5. Chronology of agency involvement"))[0])[1:]] == ["Adult A attended an appointment."]


# -- letters (4.6, 8.1) --------------------------------------------------------------------------

def test_decision_and_commissioning_letters(made, rich, api):
    police_imr = rich.imrs["Exampleshire Constabulary"]
    # The commissioning letters were made when the IMRs were commissioned (8.1).
    letters = ok(api.as_("coordinator").get(f"/reviews/{rich.id}/documents", params={"kind": "imr_commission_letter"}))
    assert letters["total"] == 2
    assert sorted((d["imr_id"], d["version"], d["created_by_name"]) for d in letters["items"]) == sorted(
        (rich.imrs[a], 1, CHAIR_NAME) for a in ("Exampleshire Constabulary", "Example NHS Foundation Trust"))
    first = next(d for d in letters["items"] if d["imr_id"] == police_imr)
    content = download(api, "police_manager", first["id"]).content  # the agency reads its own letter
    assert_marking(content, "restricted", "first commissioning letter")
    assert "commission an Individual Management Review (IMR) from Exampleshire Constabulary." in plain_text(content)
    imr = ok(api.as_("panel_chair").get(f"/imrs/{police_imr}"))
    due_on = long_date(dt.date.fromisoformat(imr["due_on"]))

    _meta, content = made("chair", "decision_letter")
    doc = open_docx(content)
    body = texts(list(doc.iter_inner_content()))
    assert body[:2] == ["Cambridge City CSP", long_date(rich.journey.day)]  # letterhead and the date it is made
    assert body[2:6] == ["Domestic Homicide Review Team", "Home Office", "2 Marsham Street", "London SW1P 4DF"]
    assert "Dear Sir or Madam," in body
    assert (2, f"Domestic Homicide Review: {rich.reference}") in headings(doc)
    facts = rows(doc.tables[0])
    assert facts == [
        ["Date of death", "2 January 2026"],
        ["Date notified to the Community Safety Partnership", "5 January 2026 by Exampleshire Constabulary"],
        ["Decision", "A Domestic Homicide Review will be held"],
        ["Date of decision", "15 January 2026"],
        ["Child safeguarding review considered", "Not recorded"],
        ["Independent chair of the review panel", CHAIR_NAME],
    ]
    assert texts(section(doc, 3, "Reasons for the decision"))[0] == "The death meets the definition in guidance 3.8."
    assert body[-3:] == ["Chris Cspchair", "Chair, Community Safety Partnership", "Cambridge City CSP"]

    meta, content = made("coordinator", "imr_commission_letter", imr_id=police_imr)
    assert meta["version"] == 2
    doc = open_docx(content)
    body = texts(list(doc.iter_inner_content()))
    assert body[1:4] == [long_date(rich.journey.day), "The Senior Manager responsible for safeguarding", "Exampleshire Constabulary"]
    assert "Dear Colleague," in body
    assert (2, f"Request for an Individual Management Review: {rich.reference}") in headings(doc)
    assert rows(doc.tables[0]) == [
        ["Agency", "Exampleshire Constabulary"],
        ["Commissioned on", "21 January 2026"],
        ["IMR due by", due_on],
        ["Period under review", "1 January 2023 to 20 January 2026"],
        ["Independent chair of the review panel", CHAIR_NAME],
    ]
    assert f"The IMR was commissioned on 21 January 2026 and is due by {due_on}." in " ".join(body)
    assert body[-3:] == ["Cora Coordinator", "Community Safety Partnership coordinator", "Cambridge City CSP"]


# -- versions and the history -------------------------------------------------------------------

def test_versions_and_history(made, rich, api):
    first, first_content = made("panel_chair", "overview_report")
    second, second_content = made("panel_chair", "overview_report")
    published, _ = made("panel_chair", "overview_report", "publication")
    assert (first["version"], second["version"], published["version"]) == (1, 2, 1)  # numbered per variant
    assert first["id"] != second["id"]
    assert first["filename"].endswith("-v1.docx") and second["filename"].endswith("-v2.docx")
    for meta, content in ((first, first_content), (second, second_content)):
        again = download(api, "chair", meta["id"]).content  # both versions stay downloadable
        assert hashlib.sha256(again).hexdigest() == meta["sha256"] == hashlib.sha256(content).hexdigest()
        assert ok(api.as_("chair").get(f"/documents/{meta['id']}"))["version"] == meta["version"]
    listed = ok(api.as_("chair").get(f"/reviews/{rich.id}/documents", params={"kind": "overview_report"}))
    assert [(d["variant"], d["version"]) for d in listed["items"]] == [("publication", 1), ("restricted", 2), ("restricted", 1)]

    history = ok(api.as_("chair").get(f"/reviews/{rich.id}/events"))["items"]
    generated = [h for h in history if h["event"] == "generate_document" and h["data"]["kind"] == "overview_report"]
    assert [(h["data"]["variant"], h["data"]["version"], h["data"]["sha256"]) for h in generated] == [
        ("restricted", 1, first["sha256"]), ("restricted", 2, second["sha256"]), ("publication", 1, published["sha256"])]
    assert all(h["actor"] == CHAIR_NAME for h in generated)
    downloads = [h for h in history if h["event"] == "download_document" and h["entity_id"] == first["id"]]
    assert [(h["actor"], h["data"]["format"]) for h in downloads] == [(CHAIR_NAME, "docx"), ("Chris Cspchair", "docx")]


# -- refusals ------------------------------------------------------------------------------------

def test_refusals(rich, api):
    police_imr = rich.imrs["Exampleshire Constabulary"]

    def post(who: str, **body):
        return api.as_(who).post(f"/reviews/{rich.id}/documents", json=body)

    response = post("panel_chair", kind="imr", imr_id=police_imr, variant="publication")
    assert response.status_code == 422 and "never published" in response.text
    response = post("chair", kind="decision_letter", variant="publication")
    assert response.status_code == 422 and "never published" in response.text
    response = post("panel_chair", kind="imr")
    assert response.status_code == 422 and "imr_id" in response.text
    response = post("panel_chair", kind="overview_report", imr_id=police_imr)
    assert response.status_code == 422 and "imr_id" in response.text
    # Agency staff see their own IMR, never the reports or another agency's IMR: 404, as if absent.
    assert post("police_author", kind="overview_report").status_code == 404
    assert post("police_author", kind="imr", imr_id=rich.imrs["Example NHS Foundation Trust"]).status_code == 404
    assert post("police_author", kind="imr", imr_id=police_imr).status_code == 201
    # The case team may read what it may not make: 403, saying who can.
    response = post("panel_member", kind="overview_report")
    assert response.status_code == 403 and "panel chair" in response.text
    assert post("panel_chair", kind="decision_letter").status_code == 403
    # Another partnership, and the Home Office before submission, do not see the review at all.
    assert post("other_chair", kind="overview_report").status_code == 404
    assert post("home_office", kind="overview_report").status_code == 404
    document = generate(api, "panel_chair", rich.id, "overview_report")
    assert api.as_("other_chair").get(f"/documents/{document['id']}/content").status_code == 404
    assert api.as_("police_author").get(f"/documents/{document['id']}/content").status_code == 404
    assert api.as_("other_chair").get(f"/reviews/{rich.id}/documents").status_code == 404


# -- PDF -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # LibreOffice is slow; the database is irrelevant here
def test_pdf_copy(api, world):
    if not pdf.available():  # soffice on the PATH (shutil.which) or at the configured DHR soffice_path
        message = "LibreOffice (soffice) is not installed, so the PDF copy cannot be tested"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must install libreoffice-writer")
        pytest.skip(message)
    journey = Journey(api, world).to("scoping")
    meta = generate(api, "chair", journey.id, "decision_letter")
    response = download(api, "chair", meta["id"], fmt="pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{meta["filename"].removesuffix(".docx")}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert download(api, "chair", meta["id"], fmt="pdf").content == response.content  # made once, then kept

    # LibreOffice works outside the request's transaction: on SQLite a conversion would otherwise
    # hold the database's write lock for its whole run and stall every other change.
    second = generate(api, "chair", journey.id, "decision_letter")
    finished: dict[str, float] = {}

    def convert() -> None:
        download(api, "chair", second["id"], fmt="pdf")
        finished["pdf"] = time.monotonic()

    worker = threading.Thread(target=convert)
    worker.start()
    time.sleep(0.3)  # the conversion is under way (it takes a second or more)
    ok(api.as_("coordinator").post(f"/reviews/{journey.id}/people", json={"role": "other", "name": "Nina Neighbour", "pseudonym": "Neighbour"}), 201)
    finished["write"] = time.monotonic()
    worker.join()
    assert finished["write"] < finished["pdf"], "a change had to wait for LibreOffice"

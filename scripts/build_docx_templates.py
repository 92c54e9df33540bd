"""Write the six Word templates in docx_templates/ in the statutory layout of the 2011 DHR guidance.

    .venv/bin/python scripts/build_docx_templates.py

Each file is a docxtpl template: Jinja tags sit in the Word text and app/documents fills them from
the context described in docx_templates/README.md (the names used here are the only ones allowed:
rendering uses StrictUndefined). The layouts follow Appendix 2 (IMR), Appendices 3-4 (Overview
Report and Executive Summary), Appendix 5 (Action Plan) and paragraphs 4.6 and 8.1-8.8 (letters).

Rules this script keeps so that docxtpl can read what it writes:
- every paragraph or table cell that holds a tag is written as a single run, so no tag is split;
- `{%p ... %}` and `{%tr ... %}` tags sit in a paragraph or table row of their own: docxtpl replaces
  the whole paragraph or row with the bare tag, so nothing else may share it;
- no `&` inside a tag: python-docx writes it as `&amp;`, which docxtpl (unlike `&lt;`, `&gt;`) does not
  turn back before Jinja reads the tag.

The documents use Word's built-in styles only (Title, Subtitle, Heading 1-3, List Bullet, No Spacing,
Table Grid), so a partnership re-brands them by editing styles, not text.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

OUT_DIR = Path(__file__).resolve().parent.parent / "docx_templates"

FONT = "Arial"
BODY_PT = 11
TABLE_PT = 10
TEXT_COLOUR = RGBColor(0x0B, 0x0C, 0x0C)  # near-black, as GOV.UK text
HEADER_FILL = "D9D9D9"  # light grey: prints well and survives any re-branding palette

A4_SHORT, A4_LONG = Cm(21.0), Cm(29.7)
PORTRAIT_MARGIN, LANDSCAPE_MARGIN = Cm(2.5), Cm(2.0)
PORTRAIT_WIDTH_CM = 16.0  # 21.0 - 2 x 2.5
LANDSCAPE_WIDTH_CM = 25.7  # 29.7 - 2 x 2.0

RESTRICTED = "document.variant == 'restricted'"
# A fixed date in the file properties keeps rebuilt templates identical in content.
BUILT_ON = dt.datetime(2011, 4, 13, tzinfo=dt.timezone.utc)  # the 2011 guidance took effect


# --------------------------------------------------------------------------------------------------
# Document set-up: page, styles, header and footer
# --------------------------------------------------------------------------------------------------

def set_fonts(rpr, size_pt: float | None = None) -> None:
    """Point run properties (of a style or the document defaults) at FONT, dropping theme fonts: in
    Word a theme font attribute wins over an explicit one, so leaving it would keep Calibri."""
    fonts = rpr.get_or_add_rFonts()  # python-docx's get_or_add_* keep the schema's element order
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    if size_pt is not None:
        half_points = str(int(size_pt * 2))
        size = rpr.get_or_add_sz()
        size.set(qn("w:val"), half_points)
        complex_size = rpr.find(qn("w:szCs"))
        if complex_size is None:
            complex_size = OxmlElement("w:szCs")
            size.addnext(complex_size)  # szCs follows sz
        complex_size.set(qn("w:val"), half_points)


def style_document(doc, title_pt: int) -> None:
    styles = doc.styles
    # python-docx's own default template always has w:docDefaults/w:rPrDefault/w:rPr with a w:lang.
    defaults = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(defaults, BODY_PT)
    defaults.find(qn("w:lang")).set(qn("w:val"), "en-GB")  # British spelling check

    normal = styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), BODY_PT)
    normal.font.color.rgb = TEXT_COLOUR
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15

    # (style, size, bold, italic, space before)
    for name, size, bold, italic, before in (
        ("Title", title_pt, True, False, 0),
        ("Subtitle", 14, False, False, 0),
        ("Heading 1", 14, True, False, 18),
        ("Heading 2", 12, True, False, 12),
        ("Heading 3", 11, True, True, 10),
    ):
        style = styles[name]
        set_fonts(style.element.get_or_add_rPr(), size)
        style.font.bold, style.font.italic = bold, italic
        style.font.color.rgb = TEXT_COLOUR
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(6)
    # The default Title carries a blue rule underneath: a re-brander adds their own.
    title_ppr = styles["Title"].element.pPr
    if title_ppr is not None and title_ppr.find(qn("w:pBdr")) is not None:
        title_ppr.remove(title_ppr.find(qn("w:pBdr")))
    for name in ("Header", "Footer"):
        set_fonts(styles[name].element.get_or_add_rPr(), 9)
    styles["No Spacing"].paragraph_format.space_after = Pt(0)


def set_page(section, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (A4_LONG, A4_SHORT) if landscape else (A4_SHORT, A4_LONG)
    margin = LANDSCAPE_MARGIN if landscape else PORTRAIT_MARGIN
    section.left_margin = section.right_margin = margin
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.header_distance = section.footer_distance = Cm(1.25)


def start_section(doc, landscape: bool) -> None:
    """New page in the other orientation (wide chronologies); the header and footer carry over."""
    set_page(doc.add_section(WD_SECTION.NEW_PAGE), landscape)


def add_field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) as begin / instruction / separate / result / end runs."""
    def run_with(child):
        run = paragraph.add_run()
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    paragraph.add_run("1")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def add_marking(container, style: str):
    """The protective marking: OFFICIAL-SENSITIVE before publication, empty in the published copy."""
    paragraph = container.paragraphs[0]  # a new header or footer comes with one empty paragraph
    paragraph.style = style
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run("{{ document.marking }}").bold = True


def set_header_footer(section, footer_text: str = "{{ review.reference }}") -> None:
    add_marking(section.header, "Header")
    footer = section.footer
    add_marking(footer, "Footer")
    line = footer.add_paragraph(style="Footer")
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    line.add_run(footer_text + " \u2013 Page ")
    add_field(line, "PAGE")
    line.add_run(" of ")
    add_field(line, "NUMPAGES")


def new_document(title: str, *, landscape: bool = False, title_pt: int = 24, footer_text: str = "{{ review.reference }}"):
    doc = Document()
    style_document(doc, title_pt)
    set_page(doc.sections[0], landscape)
    set_header_footer(doc.sections[0], footer_text)
    # File properties are static text: docxtpl renders them with the autoescaping environment but
    # python-docx escapes again, so a tag there would print "&amp;" for "&".
    props = doc.core_properties
    props.title, props.subject = title, "Domestic Homicide Review"
    props.author = props.last_modified_by = props.comments = props.keywords = props.category = ""
    props.created = props.modified = BUILT_ON
    props.revision = 1
    return doc


# --------------------------------------------------------------------------------------------------
# Text: paragraphs, tags, loops
# --------------------------------------------------------------------------------------------------

def add_text(container, text: str = "", style: str | None = None, *, bold: bool = False,
             italic: bool = False, align=None, keep_with_next: bool = False):
    """One paragraph holding `text` as a single run (so any tag in it stays whole)."""
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
    if align is not None:
        paragraph.alignment = align
    if keep_with_next:
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


def add_labelled(container, label: str, value: str, style: str | None = None):
    """'Label: value' with the label in bold; each part a run of its own."""
    paragraph = container.add_paragraph(style=style)
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(value)
    return paragraph


def tag(container, statement: str) -> None:
    """A paragraph-level Jinja statement; docxtpl removes the paragraph and keeps the tag."""
    container.add_paragraph("{%p " + statement + " %}")


def add_loop(doc, items: str, *, var: str = "para", text: str | None = None,
             style: str | None = None, empty: str | None = None) -> None:
    """One paragraph per item of `items` (a list of strings unless `text` says otherwise);
    `empty`, if given, is printed when the list is empty."""
    tag(doc, f"for {var} in {items}")
    add_text(doc, text or "{{ " + var + " }}", style)
    if empty is not None:
        tag(doc, "else")
        add_text(doc, empty)
    tag(doc, "endfor")


def add_bullets(doc, items: str, *, var: str = "item", text: str | None = None,
                empty: str | None = None) -> None:
    add_loop(doc, items, var=var, text=text, style="List Bullet", empty=empty)


@contextmanager
def only_if(doc, condition: str) -> Iterator[None]:
    """What the `with` block adds appears only when `condition` holds."""
    tag(doc, f"if {condition}")
    yield
    tag(doc, "endif")


def heading(doc, text: str, level: int = 1, *, new_page: bool = False):
    paragraph = doc.add_heading(text, level)
    if new_page:
        paragraph.paragraph_format.page_break_before = True
    return paragraph


def add_title(doc, title: str, *subtitles: str) -> None:
    add_text(doc, title, "Title")
    for subtitle in subtitles:
        add_text(doc, subtitle, "Subtitle")


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

Column = tuple[str, str, float]  # header, cell text (Jinja), width in cm


def shade(cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def write_cell(cell, text: str, *, bold: bool = False, size: float = TABLE_PT) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_before = Pt(2)
    paragraph.paragraph_format.space_after = Pt(2)
    paragraph.paragraph_format.line_spacing = 1.0
    if text:
        run = paragraph.add_run(text)
        run.bold = bold or None
        run.font.size = Pt(size)


def set_widths(table, widths_cm: Sequence[float]) -> None:
    """Fixed column widths in the grid (LibreOffice reads these) and in every cell (Word does)."""
    # Every table spans the text width exactly, so its borders line up with the margins.
    if round(sum(widths_cm), 1) not in (PORTRAIT_WIDTH_CM, LANDSCAPE_WIDTH_CM):
        raise ValueError(f"column widths {widths_cm} do not add up to a page's text width")
    table.autofit = False  # w:tblLayout fixed: Word keeps these widths instead of fitting to content
    for grid_col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm):
        grid_col.set(qn("w:w"), str(int(Cm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


def repeat_as_header(row) -> None:
    """Mark the row as a header row: Word and LibreOffice repeat it at the top of every page."""
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def add_tag_row(table, statement: str) -> None:
    """A `{%tr ... %}` row: docxtpl drops the row and keeps the tag. Merged so it reads as one line."""
    row = table.add_row()
    cell = row.cells[0].merge(row.cells[-1]) if len(row.cells) > 1 else row.cells[0]
    write_cell(cell, "{%tr " + statement + " %}")


def new_table(doc, rows: int, cols: int):
    table = doc.add_table(rows=rows, cols=cols)
    table.style = doc.styles["Table Grid"]
    # Centred on a full-width table lines its borders up with the text margins.
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    return table


def end_table(doc) -> None:
    """A small gap after the table; a paragraph between tables also keeps Word from joining them."""
    add_text(doc, style="No Spacing")


def add_table(doc, columns: Sequence[Column], loop: str | None = None, *,
              fixed_rows: Iterable[Sequence[str]] = (), size: float = TABLE_PT):
    """A "Table Grid" table: bold shaded header row repeated on each page, then `fixed_rows`, then
    one row per item of `loop` ("x in list") with the columns' cell texts."""
    table = new_table(doc, rows=1, cols=len(columns))
    for cell, (header, _, _) in zip(table.rows[0].cells, columns):
        write_cell(cell, header, bold=True, size=size)
        shade(cell, HEADER_FILL)
    repeat_as_header(table.rows[0])
    for values in fixed_rows:
        for cell, value in zip(table.add_row().cells, values):
            write_cell(cell, value, size=size)
    if loop:
        add_tag_row(table, f"for {loop}")
        for cell, (_, value, _) in zip(table.add_row().cells, columns):
            write_cell(cell, value, size=size)
        add_tag_row(table, "endfor")
    set_widths(table, [width for _, _, width in columns])
    end_table(doc)
    return table


def add_facts_table(doc, rows: Sequence[tuple[str, str]], widths: tuple[float, float] = (6.0, 10.0)):
    """Label | value rows, labels bold on grey: the structured facts at the top of a document."""
    table = new_table(doc, rows=0, cols=2)
    for label, value in rows:
        label_cell, value_cell = table.add_row().cells
        write_cell(label_cell, label, bold=True)
        shade(label_cell, HEADER_FILL)
        write_cell(value_cell, value)
    set_widths(table, widths)
    end_table(doc)
    return table


# --------------------------------------------------------------------------------------------------
# Letters
# --------------------------------------------------------------------------------------------------

def add_letter_opening(doc, subject: str, salutation: str) -> None:
    add_text(doc, "{{ partnership.name }}", "Title")  # the letterhead
    add_text(doc, "{{ letter.date }}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    add_loop(doc, "letter.to_lines", var="line", style="No Spacing")
    add_text(doc)
    add_text(doc, salutation)
    heading(doc, subject, 2)


def add_signature(doc, closing: str) -> None:
    add_text(doc, closing, keep_with_next=True)
    for _ in range(2):  # room to sign
        add_text(doc, keep_with_next=True)
    add_text(doc, "{{ letter.signatory_name }}", "No Spacing", bold=True, keep_with_next=True)
    add_text(doc, "{{ letter.signatory_role }}", "No Spacing", keep_with_next=True)
    add_text(doc, "{{ partnership.name }}", "No Spacing")


# --------------------------------------------------------------------------------------------------
# 1. Individual Management Review (Appendix 2)
# --------------------------------------------------------------------------------------------------

def add_imr_gap(doc, items: str, prompt: str) -> None:
    """An empty IMR section: the Appendix 2 prompt for the author while drafting, then
    'None recorded.' in the final IMR."""
    tag(doc, f"if imr.final and not {items}")
    add_text(doc, "None recorded.")
    tag(doc, f"elif not {items}")
    add_text(doc, prompt, italic=True)
    tag(doc, "endif")


def add_imr_narrative(doc, items: str, prompt: str) -> None:
    add_loop(doc, items)
    add_imr_gap(doc, items, prompt)


def add_imr_key_lines(doc) -> None:
    add_text(doc, "Key lines of enquiry:", keep_with_next=True)
    add_bullets(doc, "terms.key_lines_of_enquiry", var="line", empty="None recorded.")


def build_imr():
    doc = new_document("Individual Management Review")
    add_title(doc, "Individual Management Review", "{{ imr.agency }}", "{{ review.reference }}")
    add_text(doc, "{% if imr.final %}Final IMR{% else %}Draft for the author{% endif %}", bold=True)

    heading(doc, "1. Introduction")
    add_facts_table(doc, [
        ("Person subject to review", "{{ victim.name }}"),
        ("Date of death", "{{ review.date_of_death }}"),
        ("IMR author", "{{ imr.author_name }}"),
        ("Job title", "{{ imr.author_role }}"),
        ("Independence from the case and its line management (8.7)", "{{ imr.independence }}"),
        ("Commissioned on", "{{ imr.commissioned_on }}"),
        ("Date for completion", "{{ imr.due_on }}"),
    ])
    add_text(doc, "The terms of reference (section 2) ask this agency to review its involvement with the "
                  "victim, the perpetrator and their families from {{ terms.period_from }} to "
                  "{{ terms.period_to }}. This IMR is to be completed by {{ imr.due_on }}.")
    heading(doc, "Victim, perpetrator, family details", 2)
    add_table(doc, [
        ("Name", "{{ p.name }}", 3.5),
        ("Date of birth", "{{ p.date_of_birth }}", 2.4),
        ("Relationship", "{{ p.relationship }}", 3.0),
        ("Ethnic origin", "{{ p.ethnicity }}", 2.6),
        ("Address", "{{ p.address }}", 4.5),
    ], "p in people")

    heading(doc, "2. Terms of reference")
    add_text(doc, "The review covers the period from {{ terms.period_from }} to {{ terms.period_to }}.")
    add_imr_key_lines(doc)
    add_loop(doc, "terms.text")

    heading(doc, "3. Methodology")
    add_imr_narrative(doc, "imr.methodology", "Record the methodology used including extent of "
                      "document review and interviews undertaken.")

    heading(doc, "4. Details of parallel reviews/processes")
    add_imr_narrative(doc, "imr.parallel_processes", "Give details of any parallel reviews or "
                      "processes (for example criminal proceedings, an inquest, a safeguarding review, "
                      "disciplinary or complaints procedures) and how this IMR has taken them into account.")

    # The chronology is wide: it gets landscape pages of its own.
    start_section(doc, landscape=True)
    heading(doc, "5. Chronology of agency involvement")
    add_imr_gap(doc, "imr.chronology", "What was your agency\u2019s involvement with the victim? Construct "
                "a comprehensive chronology of involvement by your agency over the period of time set "
                "out in the review\u2019s terms of reference. State when the victim/child/family/"
                "perpetrator was seen including antecedent history where relevant.")
    add_table(doc, [
        ("Date", "{{ c.date }}", 2.9),
        ("What happened", "{{ c.description }}", 8.0),
        ("Who was seen", "{{ c.seen }}", 3.3),
        ("Views and wishes expressed", "{{ c.views_expressed }}", 5.0),
        ("Staff involved", "{{ c.staff }}", 3.5),
        ("Interviewed", "{{ c.interviewed }}", 3.0),
    ], "c in imr.chronology")
    heading(doc, "Staff involved", 2)
    add_imr_gap(doc, "imr.staff", "Identify the details of the professionals from within your agency "
                "who were involved with the victim, family, perpetrator and whether they were "
                "interviewed or not for the purposes of this IMR.")
    add_table(doc, [
        ("Name and role", "{{ s.name }}", 17.7),
        ("Interviewed for this IMR", "{{ s.interviewed }}", 8.0),
    ], "s in imr.staff")
    start_section(doc, landscape=False)

    heading(doc, "6. Analysis of involvement")
    add_imr_narrative(doc, "imr.analysis", "Consider the events that occurred, the decisions made, and "
                      "the actions taken or not. Assess practice against guidance and relevant legislation.")
    heading(doc, "Addressing terms of reference", 2)
    with only_if(doc, "not imr.final"):
        add_text(doc, "Consider further analysis in respect of key critical factors, which are not "
                      "otherwise covered by the sections above, and address each key line of enquiry.",
                 italic=True)
    add_imr_key_lines(doc)

    heading(doc, "7. Effective practice/lessons learnt")
    heading(doc, "Effective practice", 2)
    add_imr_narrative(doc, "imr.effective_practice", "Identify examples of effective practice in your "
                      "agency, and ways of working that could be passed on to other organisations or "
                      "individuals.")
    heading(doc, "Lessons learnt", 2)
    add_imr_narrative(doc, "imr.lessons", "Record the lessons to be learned from this case about the way "
                      "your agency works to safeguard victims and promote their welfare, and the way it "
                      "identifies, assesses and manages the risks posed by perpetrators.")

    heading(doc, "8. Recommendations")
    add_loop(doc, "imr.recommendations", var="r",
             text="{{ r.number }}. {{ r.text }}{% if r.scope %} (scope: {{ r.scope }}){% endif %}")
    add_imr_gap(doc, "imr.recommendations", "Recommendations should be focussed on the key findings of "
                "the IMR and be specific about the outcome which they are seeking.")
    return doc


# --------------------------------------------------------------------------------------------------
# 2-3. Overview Report (Appendices 3 and 4) and Executive Summary
# --------------------------------------------------------------------------------------------------

def add_restricted_notice(doc) -> None:
    with only_if(doc, RESTRICTED):
        add_text(doc, "To be anonymised for publication and dissemination", bold=True)


def add_executive_summary(doc, level: int) -> None:
    """The Appendix 4 executive summary; `level` is the heading level of its numbered sections."""
    add_restricted_notice(doc)
    heading(doc, "1. The review process", level)
    add_text(doc, "This summary outlines the process undertaken by {{ review.area }} domestic homicide "
                  "review panel in reviewing the death of {{ victim.name }}.")
    add_text(doc, "{{ review.criminal_proceedings }}")
    add_text(doc, "The process began with an initial meeting on {{ timescales.began_on }} of all agencies "
                  "that potentially had contact with {{ victim.name }} prior to the point of death.")
    add_text(doc, "Agencies participating in this case review are:", keep_with_next=True)
    add_bullets(doc, "agencies.participating", var="a", text="{{ a.name }}", empty="None recorded.")
    add_text(doc, "Agencies were asked to give chronological accounts of their contact with the victim "
                  "prior to the death. Where there was no involvement or insignificant involvement, "
                  "agencies advised accordingly. Each agency\u2019s report covers the following:",
             keep_with_next=True)
    for item in ("a chronology of interaction with the victim and/or their family;",
                 "what was done or agreed;",
                 "whether internal procedures were followed; and",
                 "conclusions and recommendations from the agency\u2019s point of view."):
        add_text(doc, item, "List Bullet")
    add_text(doc, "The accounts of involvement with this victim cover different periods of time prior to "
                  "the death. Some of the accounts have more significance than others. The extent to "
                  "which the key areas have been covered and the format in which they have been "
                  "presented varies between agencies.")
    with only_if(doc, "agencies.with_contact"):
        add_text(doc, "{{ agencies.with_contact_count }} of the {{ agencies.total }} agencies responded "
                      "with information indicating some level of involvement with the victim:",
                 keep_with_next=True)
        add_bullets(doc, "agencies.with_contact", var="a", text="{{ a.name }}")
    with only_if(doc, "agencies.no_contact"):
        add_text(doc, "In total, {{ agencies.no_contact_count }} of the {{ agencies.total }} agencies "
                      "responded as having had no contact with either the victim or the suspect or with "
                      "any children involved:", keep_with_next=True)
        add_bullets(doc, "agencies.no_contact", var="a", text="{{ a.name }}")
    with only_if(doc, "agencies.awaiting"):
        add_text(doc, "{{ agencies.awaiting_count }} of the {{ agencies.total }} agencies have not yet "
                      "reported:", keep_with_next=True)
        add_bullets(doc, "agencies.awaiting", var="a", text="{{ a.name }}")

    heading(doc, "2. Key issues arising from the review", level)
    add_loop(doc, "overview.key_issues", empty="None recorded.")
    heading(doc, "3. Conclusions and recommendations from the review", level)
    add_loop(doc, "overview.conclusions", empty="None recorded.")
    add_text(doc, "Recommendations", bold=True, keep_with_next=True)
    add_loop(doc, "recommendations", var="r", text="{{ r.number }}. {{ r.text }}",
             empty="No recommendations were made.")


def add_recommendations(doc) -> None:
    tag(doc, "for r in recommendations")
    add_text(doc, "{{ r.number }}. {{ r.text }}", keep_with_next=True)
    add_text(doc, "Scope: {{ r.scope }}. Source: {{ r.source }}.", italic=True)
    tag(doc, "else")
    add_text(doc, "No recommendations were made.")
    tag(doc, "endfor")


def add_combined_chronology(doc) -> None:
    """Staff names stay out of the published copy: two tables, one per variant."""
    date, agency = ("Date", "{{ c.date }}", 2.9), ("Agency", "{{ c.agency }}", 3.5)
    tag(doc, f"if {RESTRICTED}")
    add_table(doc, [date, agency,
                    ("What happened", "{{ c.description }}", 7.8),
                    ("Who was seen", "{{ c.seen }}", 3.3),
                    ("Views and wishes expressed", "{{ c.views_expressed }}", 4.7),
                    ("Staff involved", "{{ c.staff }}", 3.5)], "c in chronology")
    tag(doc, "else")
    add_table(doc, [date, agency,
                    ("What happened", "{{ c.description }}", 10.8),
                    ("Who was seen", "{{ c.seen }}", 3.5),
                    ("Views and wishes expressed", "{{ c.views_expressed }}", 5.0)], "c in chronology")
    tag(doc, "endif")
    with only_if(doc, "not chronology"):
        add_text(doc, "No contact was recorded.")


def build_overview_report():
    doc = new_document("Domestic Homicide Review Overview Report")
    # Appendix 3: the cover.
    add_restricted_notice(doc)
    cover = add_text(doc, "{{ partnership.name }}", "Subtitle")
    cover.paragraph_format.space_before = Pt(150)  # a cover page: the block sits a third of the way down
    add_text(doc, "REPORT INTO THE DEATH OF", "Title")
    add_text(doc, "{{ victim.name }}", "Subtitle")
    add_text(doc, "{{ review.reference }}", "Subtitle")
    add_labelled(doc, "Report produced by", "{{ panel.chair.name }}")
    add_labelled(doc, "Date", "{{ document.generated_on }}")

    # Appendix 4.
    heading(doc, "Introduction", new_page=True)
    add_text(doc, "This report of a domestic homicide review examines agency responses and support given "
                  "to {{ victim.name }}, a resident of {{ review.area }}, prior to the point of death on "
                  "{{ review.date_of_death }}.")
    add_text(doc, "The review will consider agencies\u2019 contact/involvement with {{ victim.name }} and "
                  "{{ perpetrator_names }} from {{ terms.period_from }} to {{ terms.period_to }}.")
    add_text(doc, "The key purpose for undertaking DHRs is to enable lessons to be learned from homicides "
                  "where a person is killed as a result of domestic violence. In order for these lessons "
                  "to be learned as widely and thoroughly as possible, professionals need to be able to "
                  "understand fully what happened in each homicide, and most importantly, what needs to "
                  "change in order to reduce the risk of such tragedies happening in the future.")
    add_loop(doc, "overview.introduction")

    # Appendix 3, "Introduction": state the terms of reference and the methodology.
    heading(doc, "Terms of reference", 2)
    add_text(doc, "The review examined the period from {{ terms.period_from }} to {{ terms.period_to }}. "
                  "Its key lines of enquiry were:", keep_with_next=True)
    add_bullets(doc, "terms.key_lines_of_enquiry", var="line", empty="None recorded.")
    add_loop(doc, "terms.text")
    add_labelled(doc, "Coercive and controlling behaviour addressed", "{{ terms.coercive_control }}")
    add_labelled(doc, "Equality and diversity addressed", "{{ terms.equality_and_diversity }}")
    tag(doc, "if terms.parallel_processes")
    heading(doc, "Parallel processes", 3)
    add_loop(doc, "terms.parallel_processes")
    tag(doc, "endif")
    tag(doc, "if terms.family_involvement")
    heading(doc, "Involvement of the family", 3)
    add_loop(doc, "terms.family_involvement")
    tag(doc, "endif")

    heading(doc, "Timescales")
    add_text(doc, "This review began on {{ timescales.began_on }}{% if timescales.concluded_on %} and was "
                  "concluded on {{ timescales.concluded_on }}{% endif %}. Reviews, including the overview "
                  "report, should be completed, where possible, within six months of the commencement of "
                  "the review.")
    tag(doc, "if timescales.extensions")
    add_text(doc, "The timescales were extended as follows:", keep_with_next=True)
    add_table(doc, [
        ("Deadline", "{{ e.deadline }}", 3.5),
        ("Original due date", "{{ e.original_due_on }}", 3.0),
        ("Extended to", "{{ e.new_due_on }}", 3.0),
        ("Reason", "{{ e.reason }}", 6.5),
    ], "e in timescales.extensions")
    tag(doc, "else")
    add_text(doc, "No extension was needed.")
    tag(doc, "endif")

    heading(doc, "Confidentiality")
    add_text(doc, "The findings of each review are confidential. Information is available only to "
                  "participating officers/professionals and their line managers.")

    heading(doc, "Dissemination")
    add_text(doc, "The following recipients have received copies of this report:", keep_with_next=True)
    add_bullets(doc, "dissemination", var="recipient", empty="None recorded.")

    heading(doc, "Executive Summary", new_page=True)
    add_executive_summary(doc, level=2)

    heading(doc, "{{ review.area }} Domestic Homicide Review Panel Concluding Report", new_page=True)
    heading(doc, "Introduction", 2)
    add_text(doc, "This review report is an anthology of information and facts from {{ agencies.total }} "
                  "agencies, all of which were potential support agencies for {{ victim.name }}. "
                  "Essentially, only {{ agencies.with_contact_count }} agencies had records of contact "
                  "with {{ victim.name }} prior to the death. They are:", keep_with_next=True)
    add_bullets(doc, "agencies.with_contact", var="a", text="{{ a.name }}", empty="None.")
    heading(doc, "The Facts", 2)
    add_loop(doc, "overview.facts", empty="None recorded.")
    heading(doc, "Analysis", 2)
    add_loop(doc, "overview.analysis", empty="None recorded.")
    heading(doc, "Equality and diversity", 3)
    add_loop(doc, "overview.equality_and_diversity", empty="None recorded.")
    heading(doc, "Contribution of the family", 3)
    add_loop(doc, "overview.family_contribution", empty="None recorded.")
    heading(doc, "Conclusion/Lessons Learnt", 2)
    add_loop(doc, "overview.conclusions", empty="None recorded.")
    heading(doc, "Lessons learnt", 3)
    add_loop(doc, "overview.lessons", empty="None recorded.")
    add_text(doc, "To note: It will not always be possible to arrive at a definitive judgement about what "
                  "intervention could have or would not have prevented the death.")
    heading(doc, "Recommendations", 2)
    add_recommendations(doc)
    heading(doc, "Review panel", 2)
    add_table(doc, [
        ("Name", "{{ m.name }}", 5.0),
        ("Agency", "{{ m.agency }}", 6.0),
        ("Role", "{{ m.role }}", 5.0),
    ], "m in panel.members",
        fixed_rows=[("{{ panel.chair.name }}", "{{ panel.chair.agency }}", "Independent chair")])
    add_loop(doc, "panel.chair.independence_statement")
    add_labelled(doc, "Author", "{{ panel.chair.name }}", "No Spacing")
    add_text(doc, "Independent chair of the review panel", "No Spacing")
    add_text(doc, "{{ document.generated_on }}", "No Spacing")

    start_section(doc, landscape=True)
    heading(doc, "Combined chronology")
    add_combined_chronology(doc)

    start_section(doc, landscape=False)
    heading(doc, "Appendix")
    add_text(doc, "Confirmation of no record of contact from:", keep_with_next=True)
    add_bullets(doc, "agencies.no_contact", var="a", text="{{ a.name }}", empty="None.")
    return doc


def build_executive_summary():
    doc = new_document("Domestic Homicide Review Executive Summary")
    add_title(doc, "Executive Summary", "{{ review.reference }}")
    add_executive_summary(doc, level=1)
    return doc


# --------------------------------------------------------------------------------------------------
# 4. Action Plan (Appendix 5)
# --------------------------------------------------------------------------------------------------

def build_action_plan():
    doc = new_document("Domestic Homicide Review Action Plan", landscape=True)
    add_title(doc, "Action Plan", "{{ review.reference }}")
    add_text(doc, "{{ partnership.name }}")
    add_table(doc, [
        ("Recommendation", "{{ row.recommendation }}", 4.2),
        ("Scope of recommendation (local, regional or national)", "{{ row.scope }}", 3.8),
        ("Action to take", "{{ row.action }}", 4.8),
        ("Lead agency", "{{ row.lead_agency }}", 3.0),
        ("Key milestones achieved in enacting recommendation", "{{ row.milestones }}", 3.9),
        ("Target date", "{{ row.target_date }}", 2.6),
        ("Date of completion and outcome", "{{ row.completion }}", 3.4),
    ], "row in action_plan", size=9)
    with only_if(doc, "not action_plan"):
        add_text(doc, "No actions recorded.")
    return doc


# --------------------------------------------------------------------------------------------------
# 5-6. Letters (guidance 4.6; 8.1, 8.4-8.8)
# --------------------------------------------------------------------------------------------------

def build_decision_letter():
    doc = new_document("Domestic Homicide Review decision", title_pt=18)
    add_letter_opening(doc, "Domestic Homicide Review: {{ review.reference }}", "Dear Sir or Madam,")
    add_text(doc, "As paragraph 4.6 of the statutory guidance for the conduct of Domestic Homicide Reviews "
                  "asks, I am writing to confirm the decision of {{ partnership.name }} on whether to hold "
                  "a Domestic Homicide Review into a death in {{ review.area }}.")
    add_facts_table(doc, [
        ("Date of death", "{{ review.date_of_death }}"),
        ("Date notified to the Community Safety Partnership",
         "{{ review.notified_on }}{% if review.notified_by %} by {{ review.notified_by }}{% endif %}"),
        ("Decision", "{{ review.decision_label }}"),
        ("Date of decision", "{{ review.decided_on }}"),
        ("Child safeguarding review considered", "{{ review.child_review_considered }}"),
        ("Independent chair of the review panel",
         "{% if panel.chair.name %}{{ panel.chair.name }}{% else %}Not appointed{% endif %}"),
    ])
    heading(doc, "Reasons for the decision", 3)
    add_loop(doc, "review.decision_rationale", empty="None recorded.")
    add_text(doc, "Please contact me if you need any further information.")
    add_signature(doc, "Yours faithfully,")
    return doc


def build_imr_commission_letter():
    doc = new_document("Request for an Individual Management Review", title_pt=18)
    add_letter_opening(doc, "Request for an Individual Management Review: {{ review.reference }}",
                       "Dear Colleague,")
    for text in (
        "On {{ review.decided_on }} {{ partnership.name }} decided to hold a Domestic Homicide Review "
        "into a death in {{ review.area }} on {{ review.date_of_death }}. As paragraph 8.1 of the "
        "statutory guidance asks, I am writing to you as senior manager to commission an Individual "
        "Management Review (IMR) from {{ imr.agency }}.",
        "Please secure your agency\u2019s records relating to the victim, the perpetrator and their "
        "families now, to guard against loss or interference, and begin work on a chronology of your "
        "agency\u2019s involvement (paragraphs 6.3 and 8.4).",
        "The IMR was commissioned on {{ imr.commissioned_on }} and is due by {{ imr.due_on }}. It "
        "should follow the Individual Management Review template at Appendix 2 of the guidance. "
        "Professionals outside the IMR process, such as GPs, should contribute reports of their "
        "involvement (paragraph 8.6).",
        "The author of the IMR must not have been directly involved with the victim, the perpetrator or "
        "either of their families, and must not have been the immediate line manager of any staff "
        "involved (paragraph 8.7). Where staff are interviewed, a written record should be made and "
        "shared with them; they should be reminded that the review is not part of a disciplinary "
        "investigation (paragraph 8.5).",
        "As senior manager you are asked to quality-assure the IMR and sign it off before it reaches the "
        "review panel, and to make sure that its recommendations, and those of the Overview Report for "
        "your agency, are acted on (paragraph 8.8).",
        "If your agency has no record of contact with the victim, the perpetrator or their families, "
        "please confirm in writing by the same date that there is no record of contact (paragraph 8.4).",
    ):
        add_text(doc, text)
    add_facts_table(doc, [
        ("Agency", "{{ imr.agency }}"),
        ("Commissioned on", "{{ imr.commissioned_on }}"),
        ("IMR due by", "{{ imr.due_on }}"),
        ("Period under review", "{{ terms.period_from }} to {{ terms.period_to }}"),
        ("Independent chair of the review panel", "{{ panel.chair.name }}"),
    ])
    heading(doc, "Terms of reference", 3)
    add_text(doc, "The review covers the period from {{ terms.period_from }} to {{ terms.period_to }}. "
                  "The key lines of enquiry are:", keep_with_next=True)
    add_bullets(doc, "terms.key_lines_of_enquiry", var="line", empty="None recorded.")
    add_text(doc, "Please direct any questions about this request to {{ panel.chair.name }}, independent "
                  "chair of the review panel.")
    add_signature(doc, "Yours sincerely,")
    return doc


def build_home_office_cover_letter():
    doc = new_document("Submission to the Home Office Quality Assurance Panel", title_pt=18)
    add_letter_opening(doc, "Domestic Homicide Review {{ review.reference }}: {{ submission.label }} to the Quality Assurance Panel",
                       "Dear Sir or Madam,")
    add_text(doc, "As paragraphs 8.19 and 11.1 of the statutory guidance ask, {{ partnership.name }} has signed off the "
                  "Overview Report of this Domestic Homicide Review and its supporting documents, and sends them to the "
                  "Home Office Quality Assurance Panel.")
    with only_if(doc, "submission.is_resubmission"):
        add_text(doc, "This is resubmission {{ submission.number }}. It answers the panel\u2019s findings on the version "
                      "submitted on {{ submission.previous_submitted_on }} (paragraph 11.2):", keep_with_next=True)
        add_loop(doc, "submission.feedback", empty="The findings were not recorded.")
        heading(doc, "What has changed", 3)
        add_loop(doc, "submission.what_changed")
        with only_if(doc, "submission.edits"):
            add_text(doc, "The review\u2019s record shows these parts edited since the last submission:", keep_with_next=True)
            add_bullets(doc, "submission.edits", var="edit")
    add_facts_table(doc, [
        ("Reference", "{{ review.reference }}"),
        ("Community Safety Partnership", "{{ partnership.name }}"),
        ("Date of death", "{{ review.date_of_death }}"),
        ("Decision to hold the review", "{{ review.decided_on }}"),
        ("Overview Report due", "{{ timescales.overview_due_on }}"),
        ("Overview Report completed", "{{ review.overview_approved_on }}"),
        ("Signed off by the partnership", "{% if review.signed_off_on %}{{ review.signed_off_on }}{% else %}{{ letter.date }}{% endif %}"),
        ("Agencies taking part", "{{ agencies.total }}, of which {{ agencies.with_contact_count }} had contact"),
        ("Independent chair of the review panel", "{% if panel.chair.name %}{{ panel.chair.name }}{% else %}Not appointed{% endif %}"),
        ("Criminal proceedings", "{{ review.criminal_proceedings }}"),
    ])
    with only_if(doc, "timescales.extensions"):
        add_text(doc, "The partnership agreed these extensions (paragraph 6.4):", keep_with_next=True)
        add_bullets(doc, "timescales.extensions", var="ext",
                    text="{{ ext.deadline }}: from {{ ext.original_due_on }} to {{ ext.new_due_on }}")
    heading(doc, "Enclosed", 3)
    add_bullets(doc, "submission.enclosures", var="enclosure", text="{{ enclosure.title }}")
    add_text(doc, "The reports are the versions agreed for publication, anonymised as paragraph 9.2 asks. They will not "
                  "be published until the panel\u2019s clearance is received (paragraph 8.19). Individual Management "
                  "Reviews are not enclosed: they are never published (paragraph 9.1). The package\u2019s manifest "
                  "lists each file with its SHA-256 checksum.")
    add_signature(doc, "Yours faithfully,")
    return doc


# --------------------------------------------------------------------------------------------------
# 8. The partnership board's quarterly report (not a statutory template; see app/reports/quarterly.py)
# --------------------------------------------------------------------------------------------------

def build_quarterly_report():
    doc = new_document("Domestic Homicide Reviews: quarterly report", footer_text="{{ partnership.code }} {{ report.quarter }}")
    add_title(doc, "Domestic Homicide Reviews", "Quarterly report to the partnership board",
              "{{ partnership.name }}", "{{ report.quarter_title }}")
    add_text(doc, "Figures as at {{ report.as_at }}. Reviews are named by reference only.")

    heading(doc, "1. Open reviews by stage")
    add_text(doc, "Red: a deadline of the review, its IMRs or its actions has passed. Amber: one falls due within "
                  "{{ report.amber_days }} days. Green: otherwise. Due dates include the extensions agreed (guidance 6.4).")
    add_table(doc, [
        ("Stage", "{{ row.title }}", 6.0), ("Reviews", "{{ row.total }}", 2.5),
        ("Red", "{{ row.red }}", 2.5), ("Amber", "{{ row.amber }}", 2.5), ("Green", "{{ row.green }}", 2.5),
    ], "row in open_reviews.by_stage")
    add_text(doc, "Open reviews in all: {{ open_reviews.total }} ({{ open_reviews.red }} red, {{ open_reviews.amber }} amber, "
                  "{{ open_reviews.green }} green).")
    with only_if(doc, "open_reviews.reviews"):
        add_table(doc, [
            ("Reference", "{{ row.reference }}", 4.5), ("Stage", "{{ row.stage }}", 4.0), ("Rating", "{{ row.rag }}", 2.0),
            ("Overdue", "{{ row.overdue }}", 3.0), ("Next due", "{{ row.next_due_on }}", 2.5),
        ], "row in open_reviews.reviews", size=9)

    heading(doc, "2. Timeliness")
    heading(doc, "Decisions (within one month of the notification, guidance 4.5)", 2)
    add_text(doc, "Decisions made in the quarter: {{ timeliness.decisions.total }}; within one month: "
                  "{{ timeliness.decisions.within_one_month }}; late: {{ timeliness.decisions.late }}.")
    with only_if(doc, "timeliness.decisions.reviews"):
        add_table(doc, [
            ("Reference", "{{ row.reference }}", 4.0), ("Notified", "{{ row.notified_on }}", 3.0), ("Decided", "{{ row.decided_on }}", 3.0),
            ("Due", "{{ row.due_on }}", 3.0), ("Within one month", "{{ row.within_one_month }}", 3.0),
        ], "row in timeliness.decisions.reviews", size=9)
    heading(doc, "Overview Reports (within six months of the decision, guidance 6.4)", 2)
    add_text(doc, "Overview Reports completed in the quarter: {{ timeliness.overview_reports.total }}; within six months: "
                  "{{ timeliness.overview_reports.within_six_months }}; within an agreed extension: "
                  "{{ timeliness.overview_reports.within_extension }}; late: {{ timeliness.overview_reports.late }}.")
    with only_if(doc, "timeliness.overview_reports.reviews"):
        add_table(doc, [
            ("Reference", "{{ row.reference }}", 3.0), ("Decided", "{{ row.decided_on }}", 2.6), ("Completed", "{{ row.completed_on }}", 2.6),
            ("Due", "{{ row.original_due_on }}", 2.6), ("Extended to", "{{ row.extended_due_on }}", 2.6), ("Result", "{{ row.result }}", 2.6),
        ], "row in timeliness.overview_reports.reviews", size=9)

    heading(doc, "3. Actions by lead agency (guidance 8.16-8.20)")
    add_table(doc, [
        ("Lead agency", "{{ row.agency }}", 7.0), ("Completed in the quarter", "{{ row.completed }}", 3.0),
        ("Open, not yet due", "{{ row.due }}", 3.0), ("Open, overdue", "{{ row.overdue }}", 3.0),
    ], "row in actions.by_lead_agency")
    add_text(doc, "In all: {{ actions.totals.completed }} completed in the quarter, {{ actions.totals.due }} open and not yet due, "
                  "{{ actions.totals.overdue }} overdue.")

    heading(doc, "4. Recurring themes")
    add_text(doc, "The national library flags and the learning themes of the partnership\u2019s reviews; a theme recurs when two "
                  "or more reviews share it.")
    with only_if(doc, "themes"):
        add_table(doc, [
            ("Theme", "{{ row.theme }}", 6.0), ("Reviews", "{{ row.reviews }}", 2.0), ("References", "{{ row.references }}", 8.0),
        ], "row in themes", size=9)
    with only_if(doc, "not themes"):
        add_text(doc, "No reviews have recurring themes recorded.")
    return doc


TEMPLATES: dict[str, Callable[[], object]] = {
    "imr.docx": build_imr,
    "overview_report.docx": build_overview_report,
    "executive_summary.docx": build_executive_summary,
    "action_plan.docx": build_action_plan,
    "decision_letter.docx": build_decision_letter,
    "imr_commission_letter.docx": build_imr_commission_letter,
    "home_office_cover_letter.docx": build_home_office_cover_letter,
    "quarterly_report.docx": build_quarterly_report,
}


def reproducible(doc) -> bytes:
    """The .docx with fixed zip timestamps, so an unchanged template rebuilds byte for byte."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, build in TEMPLATES.items():
        (OUT_DIR / name).write_bytes(reproducible(build()))
        print(f"wrote {OUT_DIR / name}")


if __name__ == "__main__":
    main()

"""The renderer's shortcut past docxtpl's table fix-up gives what docxtpl gives (app/documents/render.py).

docxtpl widens or narrows a table's grid when a {%tc %} tag changed its columns. The renderer skips
that walk when every table's rows already agree with its grid; these tests compare the two on tables
that need the fix and tables that do not, and on every statutory template rendered for real.
"""
from __future__ import annotations

import io

import pytest
from docxtpl import DocxTemplate
from lxml import etree

from app.documents import templates
from app.documents.context import build_context
from app.documents.models import DOCUMENT_KINDS
from app.documents.render import W, _grid_fits, _Template, jinja_env
from app.documents.sample import sample_facts

NS = f'xmlns:w="{W}"'


def cell(text: str = "x", span: int | None = None) -> str:
    props = f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span else ""
    return f"<w:tc>{props}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


def table(columns: int, rows: list[str]) -> str:
    grid = "".join(f'<w:gridCol w:w="{1200 * (i + 1)}"/>' for i in range(columns))
    return f"<w:tbl><w:tblPr/><w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def row(*cells: str) -> str:
    return f"<w:tr>{''.join(cells)}</w:tr>"


def document(*tables: str) -> str:
    return f"<w:document {NS}><w:body>{''.join(tables)}<w:p/></w:body></w:document>"


# (the document, whether docxtpl changes its grid)
CASES = {
    "rows fill the grid": (document(table(3, [row(cell(), cell(), cell())] * 4)), False),
    "a span fills the grid": (document(table(3, [row(cell(span=2), cell()), row(cell(span=3))])), False),
    "a row with more cells than columns (docxtpl widens)": (document(table(2, [row(cell(), cell()), row(cell(), cell(), cell())])), True),
    "a column removed by {%tc %} (docxtpl narrows)": (document(table(3, [row(cell(), cell())] * 3)), True),
    "an empty table": (document(table(2, [])), True),
    "a nested table that needs widening": (
        document(table(2, [row(cell(), "<w:tc>" + table(1, [row(cell(), cell())]) + "<w:p/></w:tc>")])), True),
    "two tables, the second narrowed": (document(table(2, [row(cell(), cell())]), table(4, [row(cell(span=2), cell())])), True),
}


def grids(tree) -> list[list[str]]:
    return [[col.get(f"{{{W}}}w") for col in grid] for grid in tree.iter(f"{{{W}}}tblGrid")]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_table_fix_up_is_docxtpl_s(case):
    xml, changes = CASES[case]
    ours = _Template.fix_tables(object.__new__(_Template), xml)
    docxtpl = DocxTemplate.fix_tables(object.__new__(DocxTemplate), xml)
    assert etree.tostring(ours) == etree.tostring(docxtpl)
    untouched = etree.fromstring(xml)
    # The cases that need the fix do change the grid, so the comparison above is not of two no-ops.
    assert (grids(docxtpl) != grids(untouched)) == changes
    assert all(_grid_fits(t) for t in untouched.iter(f"{{{W}}}tbl")) == (not changes)


class _DocxtplFixUp(_Template):
    fix_tables = DocxTemplate.fix_tables


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_every_statutory_template_renders_as_docxtpl_alone_renders_it(kind):
    context = build_context(sample_facts(), kind, "restricted", imr_id="i1", signatory=("Alex Signatory", "Chair"))
    rendered = []
    for cls in (_Template, _DocxtplFixUp):
        document = cls(io.BytesIO(templates.statutory(kind).content))
        document.render(context, jinja_env=jinja_env(), autoescape=True)
        rendered.append(etree.tostring(document.docx.element))
    assert rendered[0] == rendered[1]
    tables = list(etree.fromstring(rendered[0]).iter(f"{{{W}}}tbl"))
    # The shortcut is what renders the statutory templates (the tables they have fit their grids).
    assert all(_grid_fits(t) for t in tables)


def test_the_largest_tables_take_the_shortcut():
    """The Overview Report's chronology and action plan, the tables the shortcut is for, fit their grids."""
    context = build_context(sample_facts(), "overview_report", "restricted")
    document = _Template(io.BytesIO(templates.statutory("overview_report").content))
    document.render(context, jinja_env=jinja_env(), autoescape=True)
    tables = list(document.docx.element.iter(f"{{{W}}}tbl"))
    assert len(tables) >= 2
    assert all(_grid_fits(t) for t in tables)

"""Renders a docxtpl template with a context, escaping every value, and cleans what Word keeps.

A publication version leaves with no trace of who made it: empty author, last-modified-by and
comments, revision 1, no custom properties, no comments, no tracked changes and no revision ids
(guidance 9.2; Home Office QA returns reports whose properties still name people).
"""
from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import OrderedDict
from functools import lru_cache

import jinja2
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docxtpl import DocxTemplate
from lxml import etree

from app.core import clock

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PRODUCER = "DHR case management"
# Parts Word uses to remember who wrote what; none of them belongs in a generated document.
_DROPPED_PART_TYPES = (
    RT.COMMENTS,
    "http://schemas.microsoft.com/office/2011/relationships/commentsExtended",
    "http://schemas.microsoft.com/office/2016/09/relationships/commentsIds",
    "http://schemas.microsoft.com/office/2018/08/relationships/commentsExtensible",
    "http://schemas.microsoft.com/office/2011/relationships/people",
)


# Text (<w:t>, which holds no "<") with a character docxtpl's resolve_listing rewrites.
_LISTING_CHARACTERS = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\n\a\f]")
_TEMPLATE_RSID = re.compile(r'\sw:rsid\w*="[^"]*"')
# Distinct template parts (body, headers, footers of each kind and partnership) compiled and kept.
COMPILED_PARTS = 64


class _CompilingOnce(jinja2.Environment):
    """docxtpl compiles a template's XML afresh on every render (a third of a report's time, and of
    every readiness check). The same few templates are rendered over and over, so each part's
    compiled form is kept, keyed by a digest of its source. Rendering a compiled template from
    several threads at once is safe in Jinja."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self._compiled: OrderedDict[bytes, jinja2.Template] = OrderedDict()
        self._compiled_lock = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002 (Jinja's own names)
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        key = hashlib.blake2b(source.encode(), digest_size=16).digest()
        with self._compiled_lock:
            template = self._compiled.get(key)
            if template is not None:
                self._compiled.move_to_end(key)
                return template
        template = super().from_string(source)
        with self._compiled_lock:
            self._compiled[key] = template
            while len(self._compiled) > COMPILED_PARTS:
                self._compiled.popitem(last=False)
        return template


@lru_cache(maxsize=1)
def jinja_env() -> jinja2.Environment:
    """Strict: a name the context lacks is an error, never an empty gap in a statutory document."""
    return _CompilingOnce(undefined=jinja2.StrictUndefined, autoescape=True)


@lru_cache(maxsize=COMPILED_PARTS)
def _patched(xml: str) -> str:
    # Revision ids go from the template here, once, rather than from every copy a loop makes of its
    # paragraphs (_strip_revisions still removes any left, in parts docxtpl does not render).
    return DocxTemplate.patch_xml(None, _TEMPLATE_RSID.sub("", xml))


class _Template(DocxTemplate):
    """docxtpl's template, its XML clean-up (some thirty regular expressions, depending only on the
    XML) done once per distinct part."""

    def patch_xml(self, src_xml: str) -> str:
        return _patched(src_xml)

    def resolve_listing(self, xml: str) -> str:
        # docxtpl turns tabs, newlines, \a and \f inside text into Word's own markup, with a Python
        # callback for every paragraph and run (a sixth of a large report's time). Without any of
        # them in a text element it would give back the same XML: then skip it.
        if _LISTING_CHARACTERS.search(xml) is None:
            return xml
        return super().resolve_listing(xml)

    def fix_tables(self, xml: str):
        # docxtpl then walks every cell of every table, in Python, to widen or narrow a table's grid
        # where a {%tc %} tag changed its number of columns (a fifth of the largest report's time, with
        # its 2,000-row chronology). Where every table's rows agree with its grid, that walk changes
        # nothing: find so in XPath, and give back the parsed tree as docxtpl would.
        tree = etree.fromstring(xml, parser=etree.XMLParser(recover=True))
        if all(_grid_fits(table) for table in tree.iter(f"{{{W}}}tbl")):
            return tree
        return super().fix_tables(xml)


_NS = {"w": W}
# A row with more cells than the grid has columns: docxtpl would add columns.
_ROW_WIDER_THAN_GRID = etree.XPath(".//w:tr[count(w:tc) > $columns]", namespaces=_NS)
# A row spanning the whole grid (cells without a span count one): without one, docxtpl would drop columns.
_ROW_SPANNING_GRID = etree.XPath(
    "boolean(.//w:tr[count(w:tc[not(w:tcPr/w:gridSpan)]) + sum(w:tc/w:tcPr/w:gridSpan/@w:val) >= $columns])", namespaces=_NS)


def _grid_fits(table) -> bool:
    """True when docxtpl's fix_tables would leave this table as it is (see DocxTemplate.fix_tables):
    no row has more cells than the grid has columns, and some row fills the grid. Anything else
    (no grid at all, a span that is not a number) is left to docxtpl."""
    grid = table.find(f"{{{W}}}tblGrid")
    if grid is None:
        return False
    columns = len(grid.findall(f"{{{W}}}gridCol"))
    return not _ROW_WIDER_THAN_GRID(table, columns=columns) and _ROW_SPANNING_GRID(table, columns=columns)


def render_docx(template: bytes, context: dict, *, title: str, publication: bool) -> bytes:
    document = _Template(io.BytesIO(template))
    document.render(context, jinja_env=jinja_env(), autoescape=True)
    docx = document.docx
    _set_properties(docx, title=title, publication=publication)
    for part in _story_parts(docx):
        _strip_revisions(part.element)
    _drop_parts(docx)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _set_properties(docx, *, title: str, publication: bool) -> None:
    props = docx.core_properties
    now = clock.now().replace(tzinfo=None)
    for name in ("comments", "keywords", "subject", "category", "identifier", "content_status", "version", "language"):
        setattr(props, name, "")
    props.author = "" if publication else PRODUCER
    props.last_modified_by = "" if publication else PRODUCER
    props.title = title
    props.revision = 1
    props.created = now
    props.modified = now
    props.last_printed = now
    # Custom properties are free text a template's author may have filled with anything.
    package = docx.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype == RT.CUSTOM_PROPERTIES:
            _drop_rel(package.rels, rel_id)


def _story_parts(docx) -> list:
    parts = [docx.part]
    for rel in docx.part.rels.values():
        if rel.reltype in (RT.HEADER, RT.FOOTER, RT.FOOTNOTES, RT.ENDNOTES) and not rel.is_external:
            parts.append(rel.target_part)
    return parts


# Every revision-id attribute WordprocessingML defines (ECMA-376 Part 1, 17.3.1 and 17.4).
_RSID_ATTRIBUTES = [f"{{{W}}}{name}" for name in ("rsidR", "rsidRPr", "rsidRDefault", "rsidP", "rsidDel", "rsidSect", "rsidTr")]


def _strip_revisions(root: etree._Element) -> None:
    """Accepts tracked changes as they stand and removes the revision ids that link edits."""
    for deleted in list(root.iter(f"{{{W}}}del", f"{{{W}}}moveFrom")):
        deleted.getparent().remove(deleted)
    for inserted in list(root.iter(f"{{{W}}}ins", f"{{{W}}}moveTo")):
        parent = inserted.getparent()
        index = parent.index(inserted)
        for child in list(inserted):
            parent.insert(index, child)
            index += 1
        parent.remove(inserted)
    # In C: a large report has hundreds of thousands of elements.
    etree.strip_attributes(root, *_RSID_ATTRIBUTES)


def _drop_parts(docx) -> None:
    for rel_id, rel in list(docx.part.rels.items()):
        if rel.reltype in _DROPPED_PART_TYPES:
            _drop_rel(docx.part.rels, rel_id)
    for element in list(docx.part.element.iter(f"{{{W}}}commentRangeStart", f"{{{W}}}commentRangeEnd", f"{{{W}}}commentReference")):
        element.getparent().remove(element)
    settings = docx.settings.element
    for rsids in settings.findall(f"{{{W}}}rsids"):
        settings.remove(rsids)


def _drop_rel(rels, rel_id: str) -> None:
    """Unlinks a part; the package is written by walking relationships, so the part goes too."""
    rels.pop(rel_id)
    rels.related_parts.pop(rel_id, None)

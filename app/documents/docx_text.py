"""Every piece of text in a .docx, each with where a person would find it in Word.

The anonymisation check must see all the text a reader of the file could see, not only the body:
headers, footers, footnotes, endnotes, comments and their authors, text boxes, deleted tracked
changes (still in the file), picture descriptions and the document properties. python-docx skips
several of these, so the parts are read directly with zipfile and the hardened lxml parser.
Run `inspect_docx` on uploads first: this module trusts the ZIP's sizes.
"""
from __future__ import annotations

import io
import itertools
import posixpath
import re
import zipfile
from dataclasses import dataclass

from lxml import etree

from app.documents.docx_safety import UnsafeDocument, xml_parser

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
DOC_PR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# Never text: formatting, field codes, and mc:Fallback (an older copy of a text box already read).
SKIPPED = {W + "pPr", W + "rPr", W + "sectPr", W + "tblPr", W + "trPr", W + "tcPr", W + "tblGrid",
           W + "sdtPr", W + "sdtEndPr", W + "instrText", W + "delInstrText", MC_FALLBACK}
# The elements a paragraph's text is read from, and what each stands for when it has no text of its own.
_TEXT_ELEMENTS = {W + "t", W + "delText"}  # deleted tracked changes are still in the file
_TEXT_TAGS = {W + "t": "", W + "delText": "", W + "tab": " ", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}
CORE_PROPERTIES = {"title": "title", "subject": "subject", "creator": "author", "keywords": "keywords",
                   "description": "comments", "lastModifiedBy": "last modified by", "category": "category"}
APP_PROPERTIES = {"Company": "company", "Manager": "manager"}
NOTE_SEPARATORS = {"separator", "continuationSeparator", "continuationNotice"}


@dataclass(frozen=True)
class TextPart:
    where: str  # where a person finds it, e.g. "table 2, row 5, column 'What happened'"
    text: str


def plain_text(data: bytes) -> str:
    return "\n".join(part.text for part in text_parts(data))


def text_parts(data: bytes) -> list[TextPart]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _Reader(zf).read()
    except UnsafeDocument:
        raise
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:  # zipfile and lxml on a damaged file
        raise UnsafeDocument("The file is damaged, so its text cannot be read. Save it from Word as "
                             "'Word Document (*.docx)' and upload it again.") from exc


class _Reader:
    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.names = {name.lower(): name for name in zf.namelist()}
        self.out: list[TextPart] = []
        self.boxes: list[tuple[etree._Element, str]] = []  # text boxes found, with where they sit

    def read(self) -> list[TextPart]:
        self._body(self._xml("word/document.xml"))
        related = self._related_parts()
        for kind in ("header", "footer"):
            parts = sorted(set(related[kind]) | {n for n in self.names if re.fullmatch(rf"word/{kind}\d*\.xml", n)})
            for i, name in enumerate(parts, 1):
                self._whole(self._xml(name), kind if len(parts) == 1 else f"{kind} {i}")
        for kind in ("footnote", "endnote"):
            for name in sorted(set(related[kind + "s"]) | {f"word/{kind}s.xml"}):
                self._notes(self._xml(name), kind)
        for name in sorted(set(related["comments"]) | {"word/comments.xml"}):
            self._comments(self._xml(name))
        self._text_boxes()
        self._properties()
        return self.out

    def _xml(self, name: str) -> etree._Element | None:
        if name.lower() not in self.names:
            return None
        return etree.fromstring(self.zf.read(self.names[name.lower()]), xml_parser())

    def _related_parts(self) -> dict[str, list[str]]:
        """Parts the body names by relationship: Word finds headers this way, whatever the file names."""
        found: dict[str, list[str]] = {k: [] for k in ("header", "footer", "footnotes", "endnotes", "comments")}
        rels = self._xml("word/_rels/document.xml.rels")
        for rel in rels.iterchildren(REL) if rels is not None else []:
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            target = rel.get("Target") or ""
            if kind in found and (rel.get("TargetMode") or "").lower() != "external":
                name = target.lstrip("/") if target.startswith("/") else "word/" + target
                found[kind].append(posixpath.normpath(name).lower())
        return found

    def _add(self, where: str, text: str) -> None:
        if text.strip():
            self.out.append(TextPart(where, text))

    # The body: paragraphs under their headings, and tables by row and column.

    def _body(self, root: etree._Element | None) -> None:
        body = root.find(W + "body") if root is not None else None
        if body is None:
            return
        heading, number, tables = None, 0, 0
        for el in _blocks(body):
            if el.tag == W + "p":
                where = f"body, under '{_short(heading)}'" if heading else "body"
                text = self._paragraph(el, where)
                if not text.strip():
                    continue
                if _is_heading(el):
                    heading, number = text, 0
                    self._add(f"body, heading '{_short(text)}'", text)
                else:
                    number += 1
                    self._add(f"{where}, paragraph {number}", text)
            elif el.tag == W + "tbl":
                tables += 1
                self._table(el, f"table {tables}")
        self._picture_descriptions(root, "body")

    def _table(self, tbl: etree._Element, label: str) -> None:
        rows = [_cells(tr) for tr in _blocks(tbl) if tr.tag == W + "tr"]
        header: dict[int, str] = {}
        if rows and _looks_like_header(rows[0]):
            found = len(self.boxes)
            header = {col: "\n".join(self._paragraphs(tc, label)) for col, tc in rows[0]}
            del self.boxes[found:]  # the header row's text boxes are found again with its cells below
        for r, row in enumerate(rows, 1):
            for col, tc in row:
                column = f"column '{_short(header[col])}'" if col in header else f"column {col + 1}"
                where = f"{label}, row {r}, {column}"
                self._add(where, "\n".join(self._paragraphs(tc, where)))

    # Paragraphs and their text.

    def _paragraphs(self, container: etree._Element, where: str) -> list[str]:
        """The texts of the paragraphs in a cell, note, comment, header or text box, tables included."""
        texts = []
        for el in _blocks(container):
            if el.tag == W + "p":
                texts.append(self._paragraph(el, where))
            elif el.tag == W + "tbl":
                for tr in _blocks(el):
                    if tr.tag == W + "tr":
                        texts.extend(t for _, tc in _cells(tr) for t in self._paragraphs(tc, where))
        return [t for t in texts if t.strip()]

    def _paragraph(self, p: etree._Element, where: str) -> str:
        """A paragraph's text, joined across runs (a name is often split between them)."""
        if next(p.iter(W + "txbxContent", MC_FALLBACK), None) is None:
            return _plain_paragraph(p)
        out: list[str] = []

        def walk(el: etree._Element) -> None:
            for child in el:
                tag = child.tag
                if tag in SKIPPED:
                    continue  # formatting, field codes, and the duplicate copy of a text box
                if tag == W + "txbxContent":
                    self.boxes.append((child, where))  # reported on its own, after the body
                elif tag in (W + "t", W + "delText"):  # deleted tracked changes are still in the file
                    out.append(child.text or "")
                elif tag == W + "tab":
                    out.append(" ")
                elif tag in (W + "br", W + "cr"):
                    out.append("\n")
                elif tag == W + "noBreakHyphen":
                    out.append("-")
                else:
                    walk(child)

        walk(p)
        return "".join(out)

    # The other parts.

    def _whole(self, root: etree._Element | None, label: str) -> None:
        if root is not None:
            self._add(label, "\n".join(self._paragraphs(root, label)))
            self._picture_descriptions(root, label)

    def _notes(self, root: etree._Element | None, kind: str) -> None:
        notes = [] if root is None else root.iterchildren(W + kind)
        for i, note in enumerate((n for n in notes if n.get(W + "type") not in NOTE_SEPARATORS), 1):
            self._add(f"{kind} {i}", "\n".join(self._paragraphs(note, f"{kind} {i}")))

    def _comments(self, root: etree._Element | None) -> None:
        for i, comment in enumerate([] if root is None else root.iterchildren(W + "comment"), 1):
            author = comment.get(W + "author") or ""
            label = f"comment {i} by {author}" if author.strip() else f"comment {i}"
            self._add(label, "\n".join(self._paragraphs(comment, label)))
            self._add(f"comment {i}: author", author)  # an author's name is an identifier too

    def _text_boxes(self) -> None:
        # A text box may hold another: the list grows while it is read.
        for i, (box, where) in enumerate(self.boxes, 1):
            label = f"text box {i} ({where})"
            self._add(label, "\n".join(self._paragraphs(box, label)))

    def _picture_descriptions(self, root: etree._Element, where: str) -> None:
        for pr in root.iter(DOC_PR):
            for attribute, label in (("title", "title"), ("descr", "alt text")):
                self._add(f"picture {label} ({where})", pr.get(attribute) or "")

    def _properties(self) -> None:
        for name, labels in (("docProps/core.xml", CORE_PROPERTIES), ("docProps/app.xml", APP_PROPERTIES)):
            root = self._xml(name)
            for el in [] if root is None else root:
                if isinstance(el.tag, str) and etree.QName(el).localname in labels:
                    self._add(f"document properties: {labels[etree.QName(el).localname]}", "".join(el.itertext()))
        custom = self._xml("docProps/custom.xml")
        for prop in [] if custom is None else custom:
            if isinstance(prop.tag, str):
                self._add(f"document properties: custom '{_short(prop.get('name') or '')}'", "".join(prop.itertext()))


def _plain_paragraph(p: etree._Element) -> str:
    """The text of a paragraph without text boxes: the same as walking it (the general case above),
    but its text elements are found by lxml in C rather than by visiting every element in Python (a
    large report has tens of thousands of paragraphs)."""
    out: list[str] = []
    for el in p.iter(*_TEXT_TAGS):
        if any(a.tag in SKIPPED for a in _ancestors_within_paragraph(el)):
            continue
        out.append((el.text or "") if el.tag in _TEXT_ELEMENTS else _TEXT_TAGS[el.tag])
    return "".join(out)


def _ancestors_within_paragraph(el: etree._Element):
    for ancestor in el.iterancestors():
        if ancestor.tag == W + "p":
            return
        yield ancestor


def _blocks(container: etree._Element):
    """The container's paragraphs, tables, rows and cells, seen through content controls and the like."""
    for el in container:
        if not isinstance(el.tag, str) or el.tag in SKIPPED:
            continue
        if el.tag in (W + "p", W + "tbl", W + "tr", W + "tc"):
            yield el
        else:  # w:sdt, w:sdtContent, w:customXml, mc:AlternateContent, mc:Choice, w:ins ...
            yield from _blocks(el)


def _cells(tr: etree._Element) -> list[tuple[int, etree._Element]]:
    """A row's cells with the grid column each starts at (merged cells span several)."""
    col = _int(tr.find(f"{W}trPr/{W}gridBefore"))
    cells = []
    for tc in _blocks(tr):
        if tc.tag == W + "tc":
            cells.append((col, tc))
            col += max(_int(tc.find(f"{W}tcPr/{W}gridSpan")), 1)
    return cells


def _looks_like_header(row: list[tuple[int, etree._Element]]) -> bool:
    """Marked to repeat as a header row, or bold all along: a first row that is only bold in its first
    cell starts a table of labels and values instead."""
    if not row:
        return False
    tr = row[0][1].getparent()
    if _on(tr.find(f"{W}trPr/{W}tblHeader")):
        return True
    for _, tc in row:
        runs = list(_own_runs(tc))
        if not runs or not all(_on(r.find(f"{W}rPr/{W}b")) for r in runs):
            return False
    return True


def _own_runs(tc: etree._Element):
    """The cell's runs with text, leaving out those of text boxes inside it."""
    for r in tc.iter(W + "r"):
        between = itertools.takewhile(lambda el: el is not tc, r.iterancestors())
        if r.find(W + "t") is not None and not any(el.tag in (W + "txbxContent", MC_FALLBACK) for el in between):
            yield r


def _on(el: etree._Element | None) -> bool:
    """A Word on/off property: present and not switched off."""
    return el is not None and (el.get(W + "val") or "true").lower() not in ("0", "false", "off")


def _int(el: etree._Element | None) -> int:
    value = el.get(W + "val") if el is not None else None
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 6 else 0


def _is_heading(p: etree._Element) -> bool:
    style = p.find(f"{W}pPr/{W}pStyle")
    style_id = (style.get(W + "val") or "") if style is not None else ""
    return style_id.startswith("Heading") or style_id == "Title"


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"

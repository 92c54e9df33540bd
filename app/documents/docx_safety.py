"""Checks an uploaded .docx before anything else opens it.

An agency's Individual Management Review arrives as a Word file from outside the service, so it is
untrusted: it may be a zip bomb, carry macros, fetch a remote template when opened, or hold XML
built to attack a parser. `inspect_docx` refuses all of these with a message the uploader can act
on. It reads the ZIP structure itself and unpacks every entry in small chunks, so memory stays
bounded whatever the archive claims about itself.
"""
from __future__ import annotations

import io
import math
import posixpath
import re
import struct
import zipfile
import zlib
from typing import Iterator

from lxml import etree

MiB = 1024 * 1024
CHUNK = 64 * 1024
# Below this many unpacked bytes a high compression ratio is harmless (a page of blank table cells
# compresses very well), so the ratio test only applies to entries larger than this.
RATIO_FLOOR = MiB

MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_MAIN = "application/vnd.ms-word.document.macroenabled.main+xml"
TEMPLATES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
}
VBA_TYPE = "application/vnd.ms-office.vbaproject"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
W_DOCUMENT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}document"
TEXT_KINDS = {"header", "footer", "footnotes", "endnotes", "comments"}  # relationship types docx_text reads
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# External relationships Word follows by itself when the document opens; hyperlinks wait for a click.
EXTERNAL_KINDS = {
    "attachedTemplate": "an attached template",
    "subDocument": "a linked sub-document",
    "oleObject": "a linked object",
    "frame": "a linked web frame",
    "externalLinkPath": "a linked data source",
    "package": "a linked package",
    # A linked picture is fetched from its server when the file opens, telling it who read the IMR.
    "image": "a linked picture",
}

SAVE_AGAIN = "Save it from Word as 'Word Document (*.docx)' and upload it again."
REMOVE_PASSWORD = ("Remove any password (in Word: File > Info > Protect Document > Encrypt with Password), "
                   "save it as 'Word Document (*.docx)' and upload it again.")
TAMPERED = ("Word never writes this, so the file may have been tampered with. Open the document in "
            "Word, save it as 'Word Document (*.docx)' and upload the new copy.")


class UnsafeDocument(Exception):
    """The upload was refused; `message` says what is wrong and what to do, in plain English."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def xml_parser() -> etree.XMLParser:
    """A parser that never fetches anything, never expands entities and refuses giant trees."""
    return etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False,
                           load_dtd=False, huge_tree=False)


def inspect_docx(data: bytes, *, max_bytes: int = 20 * MiB, max_unpacked: int = 200 * MiB,
                 max_entries: int = 2000, max_ratio: int = 200) -> None:
    """Raise UnsafeDocument unless `data` is a plain Word document that is safe to open."""
    _check_container(data, max_bytes, max_entries)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_entries(infos, max_entries, max_unpacked, max_ratio)
            types, rels = _unpack_all(data, infos, max_unpacked)
    except UnsafeDocument:
        raise
    except Exception as exc:
        # zipfile, zlib and lxml raise many kinds of error on damaged input (BadZipFile, EOFError,
        # struct.error, ValueError, ...); to the uploader they all mean the same thing.
        raise UnsafeDocument(
            "The file is damaged: its ZIP package is incomplete or corrupt, so it cannot be checked. "
            + SAVE_AGAIN) from exc
    _check_word(types, rels)


def _check_container(data: bytes, max_bytes: int, max_entries: int) -> None:
    if not data:
        raise UnsafeDocument("The file is empty. Check you chose the right file and upload it again.")
    if len(data) > max_bytes:
        raise UnsafeDocument(
            f"The file is {_size(len(data))}; the limit is {_size(max_bytes)}. Make it smaller (in Word: "
            "File > Compress Pictures, or remove large pictures) and upload it again.")
    if data.startswith(OLE_MAGIC):
        raise UnsafeDocument(
            "The file is password-protected or an old .doc (Word 97-2003) file, which cannot be "
            "checked. " + REMOVE_PASSWORD)
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeDocument("The file is not a Word document (.docx): it is not a ZIP package. " + SAVE_AGAIN)
    # zipfile builds an object per directory entry before we can count them, so bound the count
    # first by the directory signatures present (a 20 MB file could otherwise claim ~400,000).
    directory_entries = data.count(b"PK\x01\x02")
    if directory_entries > max_entries:
        raise _too_many(directory_entries, max_entries)


def _check_entries(infos: list[zipfile.ZipInfo], max_entries: int, max_unpacked: int,
                   max_ratio: int) -> None:
    """Everything that can be judged from the ZIP directory alone, before unpacking anything."""
    if len(infos) > max_entries:
        raise _too_many(len(infos), max_entries)
    seen: set[str] = set()
    for info in infos:
        name = info.orig_filename  # before zipfile cuts the name at a NUL
        reason = _unsafe_path(name)
        if reason:
            raise UnsafeDocument(f"The file contains an entry named {_show(name)}, which {reason}. {TAMPERED}")
        # Part names are case-insensitive in Word, so 'A.xml' and 'a.xml' are the same part: two of them
        # would let different programs show different content.
        if name.lower() in seen:
            raise UnsafeDocument(f"The file contains two entries named {_show(name)}. {TAMPERED}")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise UnsafeDocument("The file contains encrypted parts, which cannot be checked. " + REMOVE_PASSWORD)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeDocument(f"The file packs {_show(name)} with a compression method Word does not use. {TAMPERED}")
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            raise _bomb(f"{_show(name)} claims to unpack to over {max_ratio} times its packed size")
        basename = posixpath.basename(name).lower()
        if basename in ("vbaproject.bin", "vbadata.xml"):
            raise _macro()
        if name.lower().startswith("word/activex/") or (
                name.lower().startswith("word/embeddings/") and basename.endswith(".bin")):
            raise UnsafeDocument(
                "The file contains an embedded object or ActiveX control, which can run code when the "
                "document is opened. Remove it (paste it as a picture instead) and upload the file again.")
    claimed = sum(info.file_size for info in infos)
    if claimed > max_unpacked:
        raise _bomb(f"it claims to unpack to {_size(claimed)}, over the {_size(max_unpacked)} limit")
    names = {info.orig_filename.lower() for info in infos}
    for needed in ("[Content_Types].xml", "word/document.xml"):
        if needed.lower() not in names:
            raise _not_word(f"it has no {needed}")


def _unsafe_path(name: str) -> str | None:
    if not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "uses backslashes"
    if name.startswith("/"):
        return "is an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "starts with a drive letter"
    if ".." in name.split("/"):
        return "points outside the package with '..'"
    return None


def _unpack_all(data: bytes, infos: list[zipfile.ZipInfo], max_unpacked: int):
    """Unpack every entry for real, parsing the XML ones; return the content types and relationships."""
    total = 0
    types: dict[str, str] = {}  # part name (lower case, no leading slash) or '.ext' -> content type
    rels: dict[str, etree._Element] = {}  # .rels part name -> root
    # The content types come first: they say which of the other parts are XML.
    for info in sorted(infos, key=lambda i: i.orig_filename.lower() != "[content_types].xml"):
        name = info.orig_filename
        parser = xml_parser() if _is_xml(name, types) else None
        size, crc, previous = 0, 0, b""
        for chunk in _unpacked_chunks(data, info):
            size += len(chunk)
            total += len(chunk)
            # The directory's sizes can lie, so count the bytes that really come out and stop early.
            # Checked against the declared size, real bytes also keep to the total and ratio limits
            # already checked on declared sizes; the running total is kept as a second line anyway.
            if size > info.file_size:
                raise _bomb(f"its index says {_show(name)} unpacks to {_size(info.file_size)}, but it unpacks "
                            "to more (this is how zip bombs hide)")
            if total > max_unpacked:
                raise _bomb(f"it unpacks to over the {_size(max_unpacked)} limit")
            crc = zlib.crc32(chunk, crc)
            if parser is not None:
                # Refuse a DOCTYPE before the parser reads its declarations (chunks overlap by 8 bytes).
                if b"<!DOCTYPE" in previous[-8:] + chunk:
                    raise _doctype(name)
                previous = chunk
                try:
                    parser.feed(chunk)
                except etree.XMLSyntaxError as exc:
                    raise _bad_xml(name) from exc
        if size != info.file_size or crc != info.CRC:
            raise ValueError(f"{name}: size or CRC does not match the directory")  # reported as damaged
        if parser is not None:
            root = _close(parser, name)
            if name.lower() == "[content_types].xml":
                types = _content_types(root)
            elif name.lower().endswith(".rels"):
                rels[name.lower()] = root
            elif name.lower() == "word/document.xml" and root.tag != W_DOCUMENT:
                raise UnsafeDocument("The file is saved in a format this service cannot check (such as "
                                     "'Strict Open XML Document'). " + SAVE_AGAIN)
    return types, rels


def _unpacked_chunks(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's real content, at most CHUNK bytes at a time, read from its local header on."""
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ValueError("bad local header")
    flags, method = struct.unpack_from("<HH", header, 6)
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    local_name = data[offset + 30:offset + 30 + name_len].decode("utf-8" if flags & 0x800 else "cp437")
    # Readers that go by the local header must see the same entry as readers that go by the directory.
    if local_name != info.orig_filename or method != info.compress_type:
        raise ValueError("local header does not match the directory")
    start = offset + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        raise ValueError("truncated entry")
    if info.compress_type == zipfile.ZIP_STORED:
        for i in range(0, len(raw), CHUNK):
            yield bytes(raw[i:i + CHUNK])
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for i in range(0, len(raw), CHUNK):
        out = inflater.decompress(raw[i:i + CHUNK], CHUNK)
        while out:  # never ask zlib for more than CHUNK bytes at once
            yield out
            out = inflater.decompress(inflater.unconsumed_tail, CHUNK)
    if not inflater.eof:
        raise ValueError("deflate stream does not end")


def _close(parser: etree.XMLParser, name: str) -> etree._Element:
    try:
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise _bad_xml(name) from exc
    # The byte scan misses a DOCTYPE in UTF-16; the parser's own record of it does not.
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.system_url or info.public_id:
        raise _doctype(name)
    return root


def _is_xml(name: str, types: dict[str, str]) -> bool:
    lower = name.lower()
    if lower.endswith((".xml", ".rels")):
        return True
    kind = types.get(lower) or types.get(posixpath.splitext(lower)[1], "")
    return kind.endswith(("/xml", "+xml"))


def _content_types(root: etree._Element) -> dict[str, str]:
    types = {}
    for el in root.iterchildren(CT + "Default"):
        types["." + (el.get("Extension") or "").lower()] = (el.get("ContentType") or "").strip().lower()
    for el in root.iterchildren(CT + "Override"):
        types[(el.get("PartName") or "").lower().lstrip("/")] = (el.get("ContentType") or "").strip().lower()
    return types


def _check_word(types: dict[str, str], rels: dict[str, etree._Element]) -> None:
    """What the parts say about themselves: the main part's type, macros, templates, external links."""
    kinds = set(types.values())
    if MACRO_MAIN in kinds or VBA_TYPE in kinds:
        raise _macro()
    if kinds & TEMPLATES:
        raise UnsafeDocument("The file is a Word template (.dotx or .dotm), not a document. Open it in Word, "
                             "save it as 'Word Document (*.docx)' and upload it again.")
    if (types.get("word/document.xml") or types.get(".xml")) != MAIN:
        raise _not_word("its main part is not a Word document body")
    # Word opens whichever part the package relationship names, so it must be the one we check.
    package_rels = rels["_rels/.rels"].iterchildren(REL) if "_rels/.rels" in rels else []
    targets = [posixpath.normpath((rel.get("Target") or "").lstrip("/")).lower() for rel in package_rels
               if (rel.get("Type") or "").endswith("/officeDocument")]
    if targets != ["word/document.xml"]:
        raise _not_word("its main part is not word/document.xml")
    for root in rels.values():
        for rel in root.iterchildren(REL):
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            target = rel.get("Target") or ""
            external = (rel.get("TargetMode") or "").lower() == "external"
            if external and kind in EXTERNAL_KINDS:
                raise UnsafeDocument(
                    f"The file links to {EXTERNAL_KINDS[kind]} outside the document ({_show(target)}), which "
                    "Word would fetch when the file is opened. Remove the link (for a template: File > Options > "
                    "Add-ins > Templates, clear 'Document template'), save the document and upload it again.")
            # Parts with text must be .xml, so they were parsed above and the text reader can read them.
            if not external and kind in TEXT_KINDS and not target.lower().endswith(".xml"):
                raise UnsafeDocument(f"The file's {kind} part {_show(target)} is not stored as XML. {TAMPERED}")


def _too_many(count: int, limit: int) -> UnsafeDocument:
    return UnsafeDocument(f"The file has {count} parts; the limit is {limit}, far more than a Word document "
                          f"needs. {TAMPERED}")


def _bomb(reason: str) -> UnsafeDocument:
    return UnsafeDocument(f"The file looks like a 'zip bomb': {reason}, so it was not opened. {TAMPERED}")


def _doctype(name: str) -> UnsafeDocument:
    # Entities and external DTDs can only be declared in a DOCTYPE, and Word never writes one.
    return UnsafeDocument(
        f"The file's part {_show(name)} contains a <!DOCTYPE> declaration, which is used in attacks on XML "
        "readers (entity expansion, 'billion laughs', fetching outside files). If it is a picture, replace it "
        "with a PNG or JPEG copy; otherwise open the document in Word, save it as 'Word Document (*.docx)' "
        "and upload the new copy.")


def _bad_xml(name: str) -> UnsafeDocument:
    return UnsafeDocument(f"The file's part {_show(name)} is not well-formed XML. {TAMPERED}")


def _macro() -> UnsafeDocument:
    return UnsafeDocument("The file is a macro-enabled Word document (.docm); macros can run harmful code. "
                          "Save it from Word as 'Word Document (*.docx)', which removes the macros, and upload "
                          "it again.")


def _not_word(reason: str) -> UnsafeDocument:
    return UnsafeDocument(f"The file is a ZIP package but not a Word document: {reason}. " + SAVE_AGAIN)


def _size(n: int) -> str:
    # Rounded up, so a file just over the limit never reads as equal to it.
    if n < MiB:
        return f"{math.ceil(n / 1024)} KB"
    return f"{math.ceil(n / MiB * 10) / 10:g} MB"


def _show(name: str) -> str:
    """An attacker-chosen name, made printable and short enough to put in a message."""
    shown = ascii(name)
    return shown if len(shown) <= 80 else shown[:77] + "...'"

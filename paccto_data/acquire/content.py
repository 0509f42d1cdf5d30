"""Is this file the kind the catalogue promises, and within its limits? Checked on every live
download before it replaces the last good one, and (for workbooks) again before a reader
opens the file.

- any format: not empty, not an HTML page (also behind a BOM, whitespace, an XML
  declaration or comments), and a `Content-Type` that does not contradict the format;
- csv: UTF-8 text, not markup, and shaped like a table: at least two lines share a field
  count of two or more (a one-line or prose error page is not);
- zip / xlsx: a ZIP (not a text page) whose members stay within `decompressed_bytes`, alone
  and together, and within `compression_ratio`, checked on the sizes the archive declares
  before anything is inflated (reading through `zipfile` never yields more than declared);
  then every member's CRC;
- xlsx: an Excel package whose every worksheet stays within `sheet_rows`, `sheet_columns`
  and `sheet_cells`: the declared `<dimension ref=...>` and the cells actually present,
  read from the sheet XML as a bounded stream, without calamine (which allocates the whole
  area at once: a 2 kB sheet with a cell at XFD1048576 asks for 512 GiB and aborts);
- json: valid JSON and not the World Bank API's error answer.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from paccto_data.errors import PacctoError, SourceDataError, SourceFileError
from paccto_data.fileio import decode_text
from paccto_data.limits import DEFAULT, LimitExceeded, Limits

HEAD_BYTES = 64 * 1024  # how much of a file the markup check looks at
CSV_SAMPLE_LINES = 200  # records the CSV shape check parses
XML_PART_BYTES = 16 << 20  # workbook.xml and its relationships: small parts, read whole
SCAN_CHUNK = 1 << 20
SCAN_CARRY = 16 << 20  # the longest stretch of sheet XML without a '>' the scan accepts

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HTML_TAGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title",
              b"<script", b"<style", b"<link", b"<div", b"<p>", b"<p ", b"<h1", b"<table",
              b"<pre", b"<center", b"<br", b"<iframe", b"<form")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


# --- what a body looks like ----------------------------------------------------------------

def _head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def markup_kind(head: bytes) -> str | None:
    """"an HTML page" or "markup (XML)" when the bytes, past a BOM, whitespace, an XML
    declaration and comments, open with a tag; None otherwise."""
    text = head
    for bom in _BOMS:
        if text.startswith(bom):
            text = text[len(bom):]
            break
    text = text.lstrip().lower()
    xml = False
    while text.startswith((b"<!--", b"<?")):
        xml = xml or text.startswith(b"<?xml")
        end = text.find(b"-->" if text.startswith(b"<!--") else b"?>")
        if end < 0:
            return "markup (an unterminated comment)"
        text = text[end + (3 if text.startswith(b"<!--") else 2):].lstrip()
    if text.startswith(_HTML_TAGS) or (xml and b"<html" in text):
        return "an HTML page"
    if text.startswith(b"<"):
        return "markup (XML)" if xml or text[1:2].isalpha() else None
    return None


def _first_line(head: bytes) -> str:
    line = head.lstrip(b"".join(_BOMS) + b" \t\r\n").split(b"\n", 1)[0].strip()
    text = line.decode("utf-8", "replace")
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(head: bytes) -> str:
    """What a body that is not the promised kind appears to be."""
    kind = markup_kind(head)
    if kind:
        return kind
    if not head.strip():
        return "empty"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not only a character cut at the end of the head
            return f"binary data starting {head[:8]!r}"
    return f"a text page: {_first_line(head)!r}"


# --- Content-Type ---------------------------------------------------------------------------

_TYPE_FAMILIES = {
    "html": {"text/html", "application/xhtml+xml"},
    "text": {"text/plain", "text/csv", "application/csv", "text/comma-separated-values",
             "text/tab-separated-values"},
    "json": {"application/json", "text/json"},
    "xml": {"application/xml", "text/xml"},
    "zip": {"application/zip", "application/x-zip-compressed", "application/x-zip"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
# The families of Content-Type that say a response is NOT the promised format. Anything
# else (application/octet-stream, application/vnd.ms-excel, which servers send for CSV
# and workbooks alike, an unknown type, none) says nothing and is let through to the
# content check.
_CONTRADICTS = {
    "csv": {"html", "json", "xml", "zip", "xlsx"},
    "xlsx": {"html", "text", "json", "xml"},
    "zip": {"html", "text", "json", "xml", "xlsx"},
    "json": {"html", "text", "xml", "zip", "xlsx"},
}


def _type_family(media_type: str) -> str | None:
    if media_type.endswith("+json"):
        return "json"
    if media_type.endswith("+xml") and media_type != "application/xhtml+xml":
        return "xml"
    return next((f for f, types in _TYPE_FAMILIES.items() if media_type in types), None)


def check_content_type(content_type: str | None, fmt: str, label: str) -> None:
    """Fail when the response's Content-Type contradicts the promised format."""
    if not content_type:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    family = _type_family(media_type)
    if family in _CONTRADICTS.get(fmt, ()):
        raise SourceFileError(f"{label}: the response says Content-Type {content_type!r} "
                              f"({family}), which contradicts the expected {fmt}")


# --- ZIP archives ---------------------------------------------------------------------------

def check_members(archive: zipfile.ZipFile, limits: Limits, label: str) -> None:
    """Every member within `decompressed_bytes` (alone and together) and within
    `compression_ratio`, judged on the sizes the archive declares."""
    total = 0
    for info in archive.infolist():
        name = f"{label} (member {info.filename})"
        if info.file_size > limits.decompressed_bytes:
            raise LimitExceeded(name, "decompressed_bytes", limits.decompressed_bytes,
                                f"it inflates to {info.file_size:,} bytes")
        if limits.ratio_exceeded(info.file_size, info.compress_size):
            ratio = info.file_size / max(info.compress_size, 1)
            raise LimitExceeded(name, "compression_ratio", limits.compression_ratio,
                                f"it inflates {ratio:,.0f} times ({info.compress_size:,} "
                                f"bytes to {info.file_size:,})")
        total += info.file_size
    if total > limits.decompressed_bytes:
        raise LimitExceeded(label, "decompressed_bytes", limits.decompressed_bytes,
                            f"its {len(archive.infolist())} members inflate to {total:,} "
                            "bytes together")


def _open_zip(path: Path, fmt: str, label: str) -> zipfile.ZipFile:
    head = _head(path, HEAD_BYTES)
    if not head.startswith(_ZIP_MAGIC):
        raise SourceFileError(f"{label}: {_describe(head)}, not a {fmt} file (a ZIP)")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError) as exc:
        raise SourceFileError(f"{label}: not a complete {fmt} file ({exc})") from exc


def check_zip(path: Path, fmt: str, label: str, limits: Limits = DEFAULT) -> list[str]:
    """A complete ZIP within its limits, every member's CRC right; its member names."""
    with _open_zip(path, fmt, label) as archive:
        if not archive.infolist():
            raise SourceFileError(f"{label}: an empty ZIP, not a {fmt} file")
        check_members(archive, limits, label)
        try:
            broken = archive.testzip()
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, ValueError,
                NotImplementedError) as exc:
            raise SourceFileError(f"{label}: not a complete {fmt} file ({exc})") from exc
        if broken:
            raise SourceFileError(f"{label}: member {broken} of the {fmt} is corrupt")
        return archive.namelist()


# --- workbooks ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SheetExtent:
    """The area a reader allocates for a worksheet: its last row and column, from the
    declared dimension and the cells present, whichever reaches further."""

    name: str
    part: str
    rows: int
    columns: int
    declared: str | None  # the <dimension ref=...>, as written

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def area(self) -> str:
        return f"A1:{column_letters(self.columns)}{self.rows}" if self.cells else "nothing"


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters or "A"


_CELL_REF = re.compile(rb"\$?([A-Za-z]{1,12})\$?([0-9]{1,12})")
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c|dimension)(?=[\s/>])([^>]*)>")
_ATTRIBUTE = re.compile(rb"""(?:^|\s)(r|ref)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _cell(ref: bytes) -> tuple[int, int] | None:
    """(row, column) of `B12`-style text, None when it is not one."""
    match = _CELL_REF.fullmatch(ref.strip())
    if not match:
        return None
    column = 0
    for ch in match.group(1).upper():
        column = column * 26 + ch - 64
    return int(match.group(2)), column


def _attribute(attrs: bytes, name: bytes) -> bytes | None:
    for match in _ATTRIBUTE.finditer(attrs):
        if match.group(1) == name:
            return match.group(2) if match.group(2) is not None else match.group(3)
    return None


def _scan_exact(stream, name: str, label: str) -> tuple[int, int, str | None]:
    """(last row, last column, declared dimension) of a worksheet XML stream, tag by tag:
    cells without `r` continue their row, rows without `r` follow the previous one, as
    the readers count them."""
    declared, max_row, max_col, row, col = None, 0, 0, 0, 0
    carry = b""
    while True:
        chunk = stream.read(SCAN_CHUNK)
        buffer = carry + chunk
        end = buffer.rfind(b">") + 1 if chunk else len(buffer)
        for match in _TAG.finditer(buffer, 0, end):
            tag, attrs = match.group(1), match.group(2)
            if tag == b"c":
                ref = _attribute(attrs, b"r")
                position = _cell(ref) if ref is not None else None
                if position is None:
                    position = (max(row, 1), col + 1)
                col = position[1]
                max_row, max_col = max(max_row, position[0]), max(max_col, position[1])
            elif tag == b"row":
                ref = _attribute(attrs, b"r")
                row = int(ref) if ref is not None and ref.strip().isdigit() else row + 1
                col = 0
            else:
                ref = _attribute(attrs, b"ref")
                if ref is not None:
                    declared = ref.decode("ascii", "replace")
                    corner = _cell(ref.split(b":")[-1])
                    if corner:
                        max_row, max_col = max(max_row, corner[0]), max(max_col, corner[1])
        if not chunk:
            break
        carry = buffer[end:]
        if len(carry) > SCAN_CARRY:
            raise SourceDataError(label, f"{len(carry):,} bytes of the sheet XML without a "
                                  "tag end", sheet=name, expected="a well-formed worksheet")
    return max_row, max_col, declared


# The usual layout, as Excel and the common libraries write it: every cell opens with
# `<c r="B12"`. Chunks in that layout are measured with a few C-speed passes; anything else
# (a prefixed element, a cell without `r`, a reference beyond XFD / 9,999,999) sends the
# whole sheet through `_scan_exact`.
_FAST_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"')
_FAST_DIGITS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_OTHER_OPENING = re.compile(rb"<c[>/\t\n\r]")
_PREFIXED = re.compile(rb":(?:c[\s>/]|row\b|dimension\b)")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)")


def _longest_max(values: list[bytes]) -> bytes:
    """The largest of equal-alphabet numerals (column letters, row digits): longest first.
    Compared once each: a sheet names every row once per cell, every column once per row."""
    distinct = set(values)
    longest = len(max(distinct, key=len))
    return max(v for v in distinct if len(v) == longest)


def _scan_fast(stream) -> tuple[int, int, str | None] | None:
    declared, max_row, max_col, carry, first = None, 0, 0, b"", True
    while True:
        chunk = stream.read(SCAN_CHUNK)
        buffer = carry + chunk
        end = buffer.rfind(b">") + 1 if chunk else len(buffer)
        if len(buffer) - end > SCAN_CARRY:
            return None
        view, carry = buffer[:end], buffer[end:]
        if first or declared is None:
            match = _DIMENSION.search(view)
            if match:
                declared = match.group(1).decode("ascii", "replace")
        first = False
        if _PREFIXED.search(view):
            return None
        letters = _FAST_LETTERS.findall(view)
        if len(letters) != view.count(b"<c ") or _OTHER_OPENING.search(view):
            return None
        if letters:
            max_col = max(max_col, _cell(_longest_max(letters) + b"1")[1])
            max_row = max(max_row, int(_longest_max(_FAST_DIGITS.findall(view))))
        if not chunk:
            break
    if declared is not None:
        corner = _cell(declared.encode().split(b":")[-1])
        if corner:
            max_row, max_col = max(max_row, corner[0]), max(max_col, corner[1])
    return max_row, max_col, declared


def scan_sheet(open_part, name: str, part: str, label: str) -> SheetExtent:
    """The extent of one worksheet, its XML read as a stream of chunks from `open_part()`
    (memory stays at a chunk and its carry-over)."""
    with open_part() as stream:
        found = _scan_fast(stream)
    if found is None:
        with open_part() as stream:
            found = _scan_exact(stream, name, label)
    return SheetExtent(name, part, *found)


def check_extent(extent: SheetExtent, limits: Limits, label: str) -> None:
    what = (f"sheet {extent.name!r} spans {extent.area} ({extent.rows:,} rows × "
            f"{extent.columns:,} columns = {extent.cells:,} cells"
            + (f"; it declares {extent.declared}" if extent.declared else "") + ")")
    for limit, seen in (("sheet_rows", extent.rows), ("sheet_columns", extent.columns),
                        ("sheet_cells", extent.cells)):
        if seen > getattr(limits, limit):
            raise LimitExceeded(label, limit, getattr(limits, limit), what)


def _read_part(archive: zipfile.ZipFile, name: str, label: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > XML_PART_BYTES:
        raise SourceFileError(f"{label}: the part {name} declares {info.file_size:,} bytes; "
                              f"a workbook's index is never above {XML_PART_BYTES:,}")
    with archive.open(info) as fh:
        return fh.read(XML_PART_BYTES + 1)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_parts(archive: zipfile.ZipFile, label: str) -> dict[str, str]:
    """Worksheet name -> its part in the package (from xl/workbook.xml and its
    relationships); without them, every xl/worksheets/*.xml under its own name."""
    parts = {}
    try:
        workbook = _read_part(archive, "xl/workbook.xml", label)
        rels = _read_part(archive, "xl/_rels/workbook.xml.rels", label)
        if workbook and rels:
            targets = {r.get("Id"): r.get("Target", "") for r in ElementTree.fromstring(rels)
                       if _local(r.tag) == "Relationship"}
            for element in ElementTree.fromstring(workbook).iter():
                if _local(element.tag) != "sheet":
                    continue
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
                target = targets.get(rid)
                if target:
                    part = target.lstrip("/") if target.startswith("/") \
                        else posixpath.normpath(posixpath.join("xl", target))
                    parts[element.get("name", part)] = part
    except ElementTree.ParseError as exc:
        raise SourceFileError(f"{label}: the workbook index is not well-formed XML "
                              f"({exc})") from exc
    names = set(archive.namelist())
    parts = {n: p for n, p in parts.items() if p in names}
    if not parts:
        parts = {n: n for n in sorted(names)
                 if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)}
    return parts


def check_workbook(path: Path, limits: Limits = DEFAULT, label: str | None = None,
                   sheet: str | None = None) -> dict[str, SheetExtent]:
    """The extent of each worksheet (or of `sheet` only), refusing a package or a sheet
    beyond `limits` before any reader sees it."""
    label = label or str(path)
    with _open_zip(path, "xlsx", label) as archive:
        check_members(archive, limits, label)
        parts = sheet_parts(archive, label)
        if sheet in parts:  # otherwise every sheet: the reader may name them differently
            parts = {sheet: parts[sheet]}
        extents = {}
        for name, part in parts.items():
            try:
                extent = scan_sheet(lambda: archive.open(part), name, part, label)
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise SourceFileError(f"{label}: the part {part} of sheet {name!r} is "
                                      f"corrupt ({exc})") from exc
            check_extent(extent, limits, label)
            extents[name] = extent
        return extents


def locate_xml_error(path: Path, sheet: str) -> tuple[int | None, str | None]:
    """Where the XML of worksheet `sheet` stops being well-formed: (the row open there, or
    None; "line L, column C: what"), or (None, None) when it parses (or cannot be found)."""
    from xml.parsers import expat

    open_row: list[int | None] = [None]
    last_row = [0]

    def start(tag: str, attrs: dict) -> None:
        if tag.rsplit(":", 1)[-1] == "row":
            ref = attrs.get("r", "")
            last_row[0] = int(ref) if ref.isdigit() else last_row[0] + 1
            open_row[0] = last_row[0]

    def end(tag: str) -> None:
        if tag.rsplit(":", 1)[-1] == "row":
            open_row[0] = None

    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_parts(archive, str(path)).get(sheet)
            if part is None:
                return None, None
            parser = expat.ParserCreate()
            parser.StartElementHandler, parser.EndElementHandler = start, end
            with archive.open(part) as stream:
                for chunk in iter(lambda: stream.read(SCAN_CHUNK), b""):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
    except expat.ExpatError as exc:
        where = f"line {exc.lineno}, column {exc.offset + 1}: {expat.ErrorString(exc.code)}"
        if open_row[0] is None and last_row[0]:
            where += f", after row {last_row[0]}"
        return open_row[0], where
    except (PacctoError, zipfile.BadZipFile, OSError, EOFError, zlib.error):
        pass
    return None, None


# --- text -----------------------------------------------------------------------------------

def check_csv(path: Path, label: str) -> None:
    try:
        text = decode_text(path)
    except PacctoError as exc:
        raise SourceFileError(f"{label}: {exc}") from exc
    if not text.strip():
        raise SourceFileError(f"{label}: an empty file ({path.stat().st_size} bytes), not a "
                              "CSV with a header and rows")
    records = []
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if record and any(field.strip() for field in record):
                records.append(len(record))
            if len(records) >= CSV_SAMPLE_LINES:
                break
    except csv.Error as exc:
        raise SourceFileError(f"{label}: not a CSV ({exc})") from exc
    counts = Counter(n for n in records if n >= 2)
    if not counts or counts.most_common(1)[0][1] < 2:
        raise SourceFileError(
            f"{label}: not a CSV table: {_describe(text[:HEAD_BYTES].encode())} "
            f"({len(records)} line(s), no two of them with the same two or more fields)")


def check_json(path: Path, label: str) -> None:
    try:
        payload = json.loads(path.read_bytes())
    except ValueError as exc:
        raise SourceFileError(f"{label}: not valid JSON ({exc})") from exc
    # The World Bank API reports errors with HTTP 200 and a one-element "message" array.
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) \
            and "message" in payload[0]:
        raise SourceFileError(f"{label}: the API answered with an error: {payload[0]['message']}")


def check_content(path: Path, fmt: str, label: str, limits: Limits = DEFAULT) -> None:
    """Fail when `path` is not the kind of file the catalogue promises (`label` names it)."""
    head = _head(path)
    if not head.strip(b"".join(_BOMS) + b" \t\r\n\f\v\x00"):
        raise SourceFileError(f"{label}: an empty file ({path.stat().st_size} bytes), "
                              f"not {fmt}")
    kind = markup_kind(head)
    if kind == "an HTML page" or (kind and fmt == "csv"):
        raise SourceFileError(f"{label} returned {kind}, not {fmt}")
    if fmt in ("xlsx", "zip"):
        names = check_zip(path, fmt, label, limits)
        if fmt == "xlsx":
            if "[Content_Types].xml" not in names:
                raise SourceFileError(f"{label}: a ZIP, but not an Excel workbook")
            check_workbook(path, limits, label)
    elif fmt == "json":
        check_json(path, label)
    elif fmt == "csv":
        check_csv(path, label)

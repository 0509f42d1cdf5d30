"""Hostile files, made in the test's tmp_path (or in memory when small): workbooks whose cells
run to XFD1048576, ZIP and gzip bombs built from repeated deflate blocks (1 GiB of zeros in
about 1 MB, made in a fraction of a second), error pages, and a minimal source YAML to point
them at."""

from __future__ import annotations

import struct
import zipfile
import zlib
from functools import cache
from pathlib import Path

import yaml

MiB = 1 << 20

GOOD_CSV = b"code,year,value\nMEX,2020,1.5\nBRA,2020,2.5\nARG,2021,3.5\n"
TEXT_PAGE = (b"Service Unavailable\n\nThe server is temporarily unable to service your request "
             b"due to maintenance downtime or capacity problems. Please try again later.\n")
HTML_WITH_COMMENT = (b"\xef\xbb\xbf \n<!-- served by the maintenance proxy -->\n"
                     b"<HTML><head><title>Down</title></head><body>Back soon</body></HTML>\n")


# --- workbooks ------------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
    'workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
    'sheet1.xml"/></Relationships>')


def cell(ref: str, value) -> str:
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: list[str], dimension: str | None = None) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main">'
            + (f'<dimension ref="{dimension}"/>' if dimension else "")
            + "<sheetData>" + "".join(rows) + "</sheetData></worksheet>")


def xlsx_bytes(path: Path, rows: list[str], dimension: str | None = None) -> bytes:
    """A one-sheet workbook ("Data") with the given <row> elements."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml(rows, dimension))
    return path.read_bytes()


def table_rows(first: int = 1) -> list[str]:
    header = f'<row r="{first}">' + cell(f"A{first}", "code") + cell(f"B{first}", "value") \
        + "</row>"
    body = [f'<row r="{r}">' + cell(f"A{r}", f"C{r}") + cell(f"B{r}", r * 1.5) + "</row>"
            for r in range(first + 1, first + 4)]
    return [header, *body]


def good_xlsx(path: Path) -> bytes:
    return xlsx_bytes(path, table_rows())


def far_cells_xlsx(path: Path) -> bytes:
    """About 1.5 kB: a header, and one cell at XFD1048576 (calamine would allocate the
    whole A1:XFD1048576, 512 GiB, and abort)."""
    return xlsx_bytes(path, [*table_rows(),
                             '<row r="1048576">' + cell("XFD1048576", 1) + "</row>"])


def malformed_xlsx(path: Path) -> bytes:
    """Rows 1-4 fine, row 5 with a mismatched end tag."""
    return xlsx_bytes(path, [*table_rows(), '<row r="5"><c r="A5"><v>1</x></c></row>'])


# --- bombs ----------------------------------------------------------------------------------

def _gf2_times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from those of A and B (zlib's crc32_combine), so that the CRC of
    1 GiB of zeros costs microseconds rather than a pass over 1 GiB."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while length2:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
    return crc1 ^ crc2


@cache
def zeros_crc(mib: int) -> int:
    crc, block, size = 0, zlib.crc32(bytes(MiB)), MiB
    while mib:
        if mib & 1:
            crc = crc32_combine(crc, block, size)
        block, size, mib = crc32_combine(block, block, size), size * 2, mib >> 1
    return crc


@cache
def _zeros_deflate(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `mib` MiB of zeros, and its CRC-32. One MiB is compressed
    once and the block repeated: a full flush byte-aligns the output and resets the history,
    so every repetition is the same bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(bytes(MiB)) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush(zlib.Z_FINISH)
    return block * mib + tail, zeros_crc(mib)


def zip_bomb(member: str, mib: int, declared: int | None = None) -> bytes:
    """A ZIP whose one member inflates to `mib` MiB of zeros (about 1 kB per MiB). With
    `declared`, the archive lies about the inflated size (and the CRC is of the real data)."""
    data, crc = _zeros_deflate(mib)
    size = mib * MiB if declared is None else declared
    name = member.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                        len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                          len(data), size, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def gzip_bomb(mib: int) -> bytes:
    """A gzip body that inflates to `mib` MiB of zeros."""
    data, crc = _zeros_deflate(mib)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + data + struct.pack("<II", crc, (mib * MiB) & 0xFFFFFFFF)


def zip_of(members: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def endless(mib: int, piece: bytes = b"x" * MiB):
    """A body of `mib` MiB, one reused MiB at a time (never held whole)."""
    return lambda: (piece for _ in range(mib))


# --- a source pointing at them --------------------------------------------------------------

SOURCE_ID = "hostile"


def source_yaml(folder: Path, fmt: str, name: str, *, limits: dict | None = None,
                member: str | None = None, file_limits: dict | None = None) -> Path:
    """assets/sources/hostile.yaml as a maintainer would write it: one file, the limits
    overridden where given (the YAML override, through the schema)."""
    spec = {"id": "data", "name": name, "url": f"https://example.org/{name}",
            "sha256": "0" * 64, "bytes": 1, "format": fmt}
    if member:
        spec["member"] = member
    if file_limits:
        spec["limits"] = file_limits
    record = {
        "id": SOURCE_ID, "title": "A hostile upstream", "publisher": "Nobody",
        "producer": "Nobody", "homepage": "https://example.org/",
        "licence": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        "redistribution": "open", "citation": "Nobody (2024), a hostile upstream.",
        "vintage": "2024", "retrieved": "2024-01-01", "files": [spec],
        "release": {"cadence": "annual", "expected_month": 6, "grace_days": 60},
    }
    if limits:
        record["limits"] = limits
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SOURCE_ID}.yaml"
    path.write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    return path

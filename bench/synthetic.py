"""A synthetic N× copy of the project's sources, in the sources' own formats, for bench/scale.py.

`make_project(target, factor)` copies what a build reads (paccto_data/, assets/, expectations/,
pyproject.toml, workspace.yaml) into `target` and replaces the bundled snapshots with N× files
made from the real ones, so the real acquire and tidy functions run on them:

- **more years**: every data row of a long file (a `year` column) is repeated N times, copy k
  with its year moved k × span years later (span: the file's own year range, so copies never
  collide with each other or with the real years); a wide file (World Bank bulk CSV: a column
  per year) gets N − 1 more blocks of year columns the same way. Every value is one the real
  file holds for that country, indicator and category: the values follow the real
  distributions exactly, per country.
- **CSV** files are rewritten as CSV (the bytes before the header row kept as they are);
  **workbooks** are rewritten as .xlsx with every sheet's cell values (calamine reads values
  only; formatting, comments and formulas are not copied). A sheet holds at most Excel's
  1,048,576 rows, so a workbook's copies stop there: at 100× the WGI workbook (32,100 rows)
  reaches 32×, GLOTIP (46,559) 22×, CTS corruption (22,757) 46×, IAFQ (15,471) 67× and the
  drug seizures (11,015) 95× — the rows per stage that scale.py prints are what was built.
- **not scaled** (copied byte for byte): the reference files (UN M49, country codes, the World
  Bank's metadata files), the programme's activity register, and the TI CPI workbooks (their
  reader refuses a year after the workbook's edition, by design).

So that every suite applies to the larger tables, the copy's suites get row-count upper
bounds × 4N (a country × year mart grows faster than N: shifted year ranges no longer
overlap) and no upper bound on `year`; its limits (paccto_data/limits.py and the source
YAMLs) are × N, and its source YAMLs record the new files' sha256. Nothing else changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from paccto_data.sources._common import column_letter

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("paccto_data", "assets", "expectations", "pyproject.toml", "workspace.yaml")
EXCEL_ROWS = 1_048_576
YEAR_HEADERS = ("year", "reference year")
NOT_SCALED = ("un_m49", "paccto_activities", "ti_cpi")
# A country × year mart grows faster than N: the sources' year ranges, once shifted, no longer
# overlap as the real ones do. Row-count upper bounds are multiplied by this × N.
ROW_BOUND = 4


# --- which cells are years --------------------------------------------------------------------


def _is_year(cell) -> bool:
    text = str(cell).strip()
    text = text[:-2] if text.endswith(".0") else text
    return len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2100


def _header(grid: list[list]) -> tuple[int, list[int], int | None] | None:
    """(header row index, wide year columns, long year column) of a grid, or None."""
    for i, row in enumerate(grid[:30]):
        cells = [str(c).strip().lower() for c in row]
        long = next((j for j, c in enumerate(cells) if c in YEAR_HEADERS), None)
        wide = [j for j, c in enumerate(row) if _is_year(c)]
        if long is not None or len(wide) >= 5:
            return i, wide, long
    return None


def _shift(value, by: int):
    if isinstance(value, float):
        return value + by
    if isinstance(value, int):
        return value + by
    text = str(value).strip()
    return str(int(float(text)) + by) if text else value


def scale_grid(grid: list[list], factor: int, max_rows: int | None = None) -> list[list] | None:
    """The grid N× larger (None when it has no year column or header of years)."""
    found = _header(grid)
    if found is None or factor == 1:
        return None if found is None else grid
    head, wide, long = found
    body = grid[head + 1:]
    if long is not None:
        years = [int(float(r[long])) for r in body if len(r) > long and _is_year(r[long])]
        if not years:
            return None
        span = max(years) - min(years) + 1
        keyed = [str(c).strip().lower() for c in grid[head]]
        code = keyed.index("codeindyr") if "codeindyr" in keyed else None  # WGI's own key
        out = list(grid)
        for k in range(1, factor):
            for row in body:
                if max_rows and len(out) >= max_rows:
                    return out
                if len(row) <= long or not _is_year(row[long]):
                    continue
                new = list(row)
                new[long] = _shift(row[long], k * span)
                if code is not None:
                    new[code] = re.sub(r"\d{4}$", str(int(float(new[long]))), str(row[code]))
                out.append(new)
        return out
    years = [int(float(grid[head][j])) for j in wide]
    span = max(years) - min(years) + 1
    out = []
    for i, row in enumerate(grid):
        if i < head or len(row) <= max(wide):
            out.append(row)
            continue
        extra = []
        for k in range(1, factor):
            for j, year in zip(wide, years):
                extra.append(str(year + k * span) if i == head else row[j])
        tail = len(row)
        while tail > 0 and row[tail - 1] in ("", None) and tail - 1 > max(wide):
            tail -= 1  # the WB files end each line with an empty field: keep it last
        out.append(list(row[:tail]) + extra + list(row[tail:]))
    return out


# --- CSV -------------------------------------------------------------------------------------


def scale_csv(data: bytes, factor: int) -> bytes | None:
    """An N× CSV, or None when the file has no years. Bytes before the header row are kept."""
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "latin-1", data.decode("latin-1")
    lines = text.splitlines(keepends=True)
    grid = list(csv.reader(io.StringIO(text)))
    found = _header(grid)
    if found is None:
        return None
    scaled = scale_grid(grid, factor)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    quoting = csv.QUOTE_ALL if lines[found[0]].lstrip("\ufeff").startswith('"') else \
        csv.QUOTE_MINIMAL
    # csv.reader joins no physical lines before the header in these files: keep them verbatim
    prefix = "".join(lines[:found[0]])
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator=newline)
    writer.writerows(r for r in scaled[found[0]:] if r)
    body = prefix + out.getvalue()
    if encoding == "utf-8-sig":
        return body.encode("utf-8-sig")
    return body.encode(encoding)


# --- workbooks --------------------------------------------------------------------------------


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _row_cells(row: list) -> list[str]:
    """The cells of one row as XML, "\0" standing for the row number."""
    return [_cell(f"{column_letter(c)}\0", v) for c, v in enumerate(row)]


def sheet_rows(grid: list[list], factor: int, max_rows: int) -> tuple[int, int, object]:
    """(rows, columns, an iterator of <row> XML strings) of the grid N× larger: a long sheet
    (a year column) streamed copy by copy, with one XML template per real row."""
    width = max((len(r) for r in grid), default=1)
    found = _header(grid)
    if found is None or found[2] is None or factor == 1:
        scaled = scale_grid(grid, factor, max_rows) if found is not None else None
        rows = scaled if scaled is not None else grid
        return len(rows), width, (
            f'<row r="{r}">' + "".join(_row_cells(row)).replace("\0", str(r)) + "</row>"
            for r, row in enumerate(rows, 1))
    head, _, long = found
    keyed = [str(c).strip().lower() for c in grid[head]]
    code = keyed.index("codeindyr") if "codeindyr" in keyed else None  # WGI's own key
    body = [row for row in grid[head + 1:] if len(row) > long and _is_year(row[long])]
    years = [int(float(row[long])) for row in body]
    span = max(years) - min(years) + 1
    total = min(max_rows, len(grid) + (factor - 1) * len(body))

    def rows():
        for r, row in enumerate(grid, 1):
            yield f'<row r="{r}">' + "".join(_row_cells(row)).replace("\0", str(r)) + "</row>"
        r = len(grid)
        templates = [(_row_cells(row), year) for row, year in zip(body, years)]
        for k in range(1, factor):
            for (cells, year), row in zip(templates, body):
                r += 1
                if r > total:
                    return
                cells = list(cells)
                cells[long] = _cell(f"{column_letter(long)}\0", year + k * span)
                if code is not None:
                    cells[code] = _cell(f"{column_letter(code)}\0",
                                        re.sub(r"\d{4}$", str(year + k * span), str(row[code])))
                yield f'<row r="{r}">' + "".join(cells).replace("\0", str(r)) + "</row>"

    return total, width, rows()


def write_xlsx(path: Path, sheets: dict[str, tuple[int, int, object]]) -> None:
    """A minimal .xlsx (values only, inline strings), streamed sheet by sheet."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1))
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>"))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        entries = "".join(f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" '
                          f'r:id="rId{i}"/>' for i, name in enumerate(sheets, 1))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            f"<sheets>{entries}</sheets></workbook>"))
        links = "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" '
                        f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            f'openxmlformats.org/package/2006/relationships">{links}</Relationships>'))
        for i, (count, width, rows) in enumerate(sheets.values(), 1):
            with z.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                part.write((f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">'
                            f'<dimension ref="A1:{column_letter(max(width, 1) - 1)}{max(count, 1)}"'
                            '/><sheetData>').encode())
                chunk = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) >= 2000:
                        part.write("".join(chunk).encode())
                        chunk = []
                part.write("".join(chunk).encode())
                part.write(b"</sheetData></worksheet>")


def scale_xlsx(source: Path, target: Path, factor: int) -> bool:
    """Write an N× copy of workbook `source` to `target`; False when no sheet has years."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(source))
    sheets, scaled_any = {}, False
    for name in book.sheet_names:
        grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        grid = [["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v)
                 for v in row] for row in grid]
        scaled_any |= _header(grid) is not None
        sheets[name] = sheet_rows(grid, factor, EXCEL_ROWS)
    if not scaled_any:
        return False
    write_xlsx(target, sheets)
    return True


# --- the project copy -------------------------------------------------------------------------


def _ignore(_, names):
    return [n for n in names if n in ("__pycache__", ".pytest_cache") or n.endswith(".egg-info")]


def _scale_suites(folder: Path, factor: int) -> None:
    for path in folder.glob("*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for e in suite.get("expectations", []):
            kwargs = e.get("kwargs", {})
            if e["type"] == "expect_table_row_count_to_be_between" and \
                    isinstance(kwargs.get("max_value"), int):
                kwargs["max_value"] *= ROW_BOUND * factor
            elif kwargs.get("column") == "year" and "max_value" in kwargs:
                kwargs["max_value"] = None
        path.write_text(json.dumps(suite, indent=2, ensure_ascii=False), encoding="utf-8")


def _scale_limits(project: Path, factor: int) -> None:
    limits = project / "paccto_data" / "limits.py"
    text = limits.read_text(encoding="utf-8")
    for name in ("download_bytes", "decompressed_bytes", "sheet_cells"):
        text = re.sub(rf"(\n    {name}: \w+ = )([^#\n]+?)(\s+#)", rf"\g<1>(\g<2>) * {factor}\3",
                      text)
    limits.write_text(text, encoding="utf-8")
    for spec in (project / "assets" / "sources").glob("*.yaml"):
        text = spec.read_text(encoding="utf-8")
        text = re.sub(r"(\b(?:download_bytes|decompressed_bytes|sheet_cells): )(\d+)",
                      lambda m: f"{m.group(1)}{int(m.group(2)) * factor}", text)
        spec.write_text(text, encoding="utf-8")


def make_project(target: Path, factor: int) -> dict:
    """Copy the project to `target` with N× snapshots; {file: (rows before, rows after)}."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=_ignore)
        else:
            shutil.copy2(source, target / name)
    _scale_suites(target / "expectations", factor)
    _scale_limits(target, factor)
    snapshots = target / "assets" / "snapshots"
    hashes, scaled = {}, {}
    for path in sorted(snapshots.glob("*/*")):
        if path.parent.name in NOT_SCALED or factor == 1:
            continue
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.suffix == ".csv":
            data = scale_csv(path.read_bytes(), factor)
            if data is None:
                continue
            path.write_bytes(data)
        elif path.suffix == ".xlsx":
            temporary = path.with_suffix(".scaled.xlsx")
            if not scale_xlsx(path, temporary, factor):
                continue
            temporary.replace(path)
        else:
            continue
        hashes[before] = hashlib.sha256(path.read_bytes()).hexdigest()
        scaled[f"{path.parent.name}/{path.name}"] = path.stat().st_size
    for spec in (target / "assets" / "sources").glob("*.yaml"):
        text = spec.read_text(encoding="utf-8")
        for old, new in hashes.items():
            text = text.replace(old, new)
        spec.write_text(text, encoding="utf-8")
    return scaled

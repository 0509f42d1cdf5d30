"""Bad input made from the real workbooks: trimmed, editable copies of a bundled sheet.

xlsx files are ZIPs of XML; no xlsx writer is installed, so the tests edit the sheet XML of
a copy of the real file (each kept row keeps its row number, so errors cite real rows).
"""

import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape


def cell_xml(ref, value):
    """One cell of sheet XML: an inline string or a number."""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


class WorkbookCopy:
    """Copies of a bundled workbook whose sheet holds only the `keep` rows (each keeps its
    row number), with cells overwritten and rows written or moved: bad input made from the
    real file that reads in a fraction of a second."""

    ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)

    def __init__(self, path: Path, keep=None, sheet_xml: str = "xl/worksheets/sheet1.xml",
                 file_id: str = "data"):
        """keep: the row numbers to keep (None: every row); sheet_xml: the sheet's part in the
        ZIP; file_id: the key of the copy in what `make` returns."""
        self.path, self.sheet_xml, self.file_id = path, sheet_xml, file_id
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(sheet_xml).decode("utf-8")
        if keep is not None:
            keep = set(keep)
            xml = self.ROW.sub(lambda m: m.group(0) if int(m.group(1)) in keep else "", xml)
        self.xml = xml

    @staticmethod
    def cell(ref, value):
        return cell_xml(ref, escape(value) if isinstance(value, str) else value)

    def make(self, folder: Path, cells=None, rows=None, moves=None) -> dict:
        """cells: {"L1052": -5}; rows: {7: ["Iso3_code", …]} writes (or replaces) row 7
        with those values from column A on ([] empties it); moves: {2: 19} renumbers row 2
        (its cells as they are) as row 19. Returns {file_id: the copy in `folder`}."""
        xml = self.xml
        for ref, value in (cells or {}).items():
            xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', self.cell(ref, value), xml,
                             count=1)
            assert n == 1, f"no cell {ref} in the copy"
        for old, new in (moves or {}).items():
            row = re.search(rf'<row r="{old}"[^>]*?(?:/>|>.*?</row>)', xml, re.S)
            assert row, f"no row {old} in the copy"
            xml = xml[:row.start()] + xml[row.end():]
            moved = re.sub(rf'(<c r="[A-Z]+){old}"', rf'\g<1>{new}"',
                           row.group(0).replace(f'<row r="{old}"', f'<row r="{new}"', 1))
            xml = self._insert(xml, new, moved)
        for number, values in sorted((rows or {}).items()):
            xml = re.sub(rf'<row r="{number}"[^>]*?(?:/>|>.*?</row>)', "", xml, flags=re.S)
            row = f'<row r="{number}">' + "".join(
                self.cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values)) + "</row>"
            xml = self._insert(xml, number, row)
        target = folder / self.path.name
        with zipfile.ZipFile(self.path) as source, \
                zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in source.infolist():
                data = xml.encode("utf-8") if item.filename == self.sheet_xml \
                    else source.read(item.filename)
                copy.writestr(item, data)
        return {self.file_id: target}

    def _insert(self, xml: str, number: int, row: str) -> str:
        """`row` put in front of the first row numbered above `number`."""
        later = next((m for m in self.ROW.finditer(xml) if int(m.group(1)) > number), None)
        at = later.start() if later else xml.index("</sheetData>")
        return xml[:at] + row + xml[at:]

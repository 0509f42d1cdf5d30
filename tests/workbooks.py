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
    """Copies of a bundled one-sheet workbook holding only the `keep` rows (each keeps its
    row number), with cells overwritten and rows written: bad input made from the real file
    that reads in a fraction of a second."""

    SHEET_XML = "xl/worksheets/sheet1.xml"
    ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)

    def __init__(self, path: Path, keep):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(self.SHEET_XML).decode("utf-8")
        keep = set(keep)
        self.xml = self.ROW.sub(lambda m: m.group(0) if int(m.group(1)) in keep else "", xml)

    @staticmethod
    def cell(ref, value):
        return cell_xml(ref, escape(value) if isinstance(value, str) else value)

    def make(self, folder: Path, cells=None, rows=None) -> dict:
        """cells: {"L1052": -5}; rows: {7: ["Iso3_code", …]} writes (or replaces) row 7
        with those values from column A on ([] empties it)."""
        xml = self.xml
        for ref, value in (cells or {}).items():
            xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', self.cell(ref, value), xml,
                             count=1)
            assert n == 1, f"no cell {ref} in the trimmed copy"
        for number, values in sorted((rows or {}).items()):
            xml = re.sub(rf'<row r="{number}"[^>]*?(?:/>|>.*?</row>)', "", xml, flags=re.S)
            row = f'<row r="{number}">' + "".join(
                self.cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values)) + "</row>"
            later = next((m for m in self.ROW.finditer(xml) if int(m.group(1)) > number), None)
            at = later.start() if later else xml.index("</sheetData>")
            xml = xml[:at] + row + xml[at:]
        target = folder / self.path.name
        with zipfile.ZipFile(self.path) as source, \
                zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in source.infolist():
                data = xml.encode("utf-8") if item.filename == self.SHEET_XML \
                    else source.read(item.filename)
                copy.writestr(item, data)
        return {"data": target}

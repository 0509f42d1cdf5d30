"""Readers facing hostile workbooks and broken text: a sheet beyond its limits is refused
before calamine allocates it (the process survives, its memory stays small), and every
parser's objection is a SourceDataError naming file, sheet and row where known."""

from __future__ import annotations

import csv

import pytest

from paccto_data.errors import SourceDataError
from paccto_data.limits import DEFAULT, LimitExceeded
from paccto_data.sources._common import read_csv_table, read_sheet, read_wb_bulk_csv

from .hostile import (
    cell,
    far_cells_xlsx,
    good_xlsx,
    malformed_xlsx,
    source_yaml,
    table_rows,
    xlsx_bytes,
)

GIB = 1024  # MiB


def test_reading_a_workbook_with_a_cell_at_xfd1048576_is_refused_not_aborted(tmp_path,
                                                                             outcome):
    path = tmp_path / "far.xlsx"
    far_cells_xlsx(path)
    result = outcome({"action": "read_sheet", "path": str(path), "required": ["code"]},
                     "read_sheet of the XFD1048576 xlsx (calamine alone: SIGABRT)", child=True)
    assert (result.ok, result.returncode, result.error, result.limit) == \
        (False, 0, "LimitExceeded", "sheet_cells")
    assert "far.xlsx: refused, sheet 'Data' spans A1:XFD1048576" in result.message
    assert f"limits.sheet_cells = {DEFAULT.sheet_cells}" in result.message
    assert result.peak_mib < GIB


def test_a_declared_dimension_beyond_the_limits_is_refused(tmp_path):
    path = tmp_path / "declared.xlsx"
    xlsx_bytes(path, table_rows(), dimension="A1:XFD1048576")
    with pytest.raises(LimitExceeded, match=r"spans A1:XFD1048576 .*it declares A1:XFD1048576"):
        read_sheet(path, ["code"])


def test_cells_without_references_are_counted_as_the_reader_counts_them(tmp_path):
    """No `r` on the cells: the exact scan counts them along the row (20,000 columns)."""
    path = tmp_path / "wide.xlsx"
    xlsx_bytes(path, ['<row r="1">' + "<c><v>1</v></c>" * 20_000 + "</row>"])
    with pytest.raises(LimitExceeded, match=r"A1:ACOF1 \(1 rows × 20,000 columns") as error:
        read_sheet(path, ["code"])
    assert error.value.limit == "sheet_columns"


def test_sheet_limits_from_the_source_yaml_apply_when_reading(tmp_path, outcome):
    path = tmp_path / "data.xlsx"
    good_xlsx(path)  # 4 rows
    yaml_path = source_yaml(tmp_path / "sources", "xlsx", "data.xlsx",
                            file_limits={"sheet_rows": 3})
    result = outcome({"action": "read_sheet", "path": str(path), "required": ["code"],
                      "source": str(yaml_path)}, "read_sheet of 4 rows, sheet_rows: 3 (YAML)")
    assert (result.error, result.limit) == ("LimitExceeded", "sheet_rows")
    assert "limits.sheet_rows = 3" in result.message
    assert outcome({"action": "read_sheet", "path": str(path), "required": ["code"]},
                   "the same workbook at the default limits").ok


def test_malformed_sheet_xml_names_file_sheet_and_row(tmp_path, outcome):
    path = tmp_path / "broken.xlsx"
    malformed_xlsx(path)
    result = outcome({"action": "read_sheet", "path": str(path), "required": ["code"]},
                     "malformed sheet XML (mismatched end tag in row 5)")
    assert result.error == "SourceDataError"
    assert result.message.startswith("broken.xlsx, sheet 'Data', row 5: cannot read the "
                                     "sheet: XmlError: ")
    assert "(the XML breaks at line 1, column" in result.message
    assert "mismatched tag" in result.message


def test_an_unknown_entity_in_the_sheet_names_its_row(tmp_path):
    path = tmp_path / "entity.xlsx"
    xlsx_bytes(path, [*table_rows(), '<row r="5">' + cell("A5", "a &bogus; b") + "</row>"])
    with pytest.raises(SourceDataError, match=r"^entity.xlsx, sheet 'Data', row 5: cannot read "
                                              r"the sheet: XmlError: .*undefined entity"):
        read_sheet(path, ["code"])


def test_an_impossible_cell_reference_names_the_sheet(tmp_path):
    path = tmp_path / "ref.xlsx"
    xlsx_bytes(path, [*table_rows(), '<row r="5"><c r="5A"><v>1</v></c></row>'])
    with pytest.raises(SourceDataError, match=r"^ref.xlsx, sheet 'Data': cannot read the "
                                              r"sheet: CalamineError: "):
        read_sheet(path, ["code"])


def test_a_csv_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("code,name\nMEX,México\nPER,Perú\n".encode("latin-1"))
    with pytest.raises(SourceDataError, match=r"^latin1.csv, row 2: not UTF-8 text"):
        read_csv_table(path)


def test_a_csv_field_the_csv_module_refuses_names_the_line(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text('code,note\nMEX,ok\nPER,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    # the csv module's own limit: importing frictionless (another test in this worker, under
    # pytest-xdist) raises it for the whole process
    saved = csv.field_size_limit(131_072)
    try:
        with pytest.raises(SourceDataError, match=r"^huge.csv, row 3: cannot parse the CSV: "
                                                  r"field larger than field limit"):
            read_csv_table(path)
    finally:
        csv.field_size_limit(saved)


def test_a_pandas_parser_error_names_the_line(tmp_path):
    path = tmp_path / "API_X.csv"
    preamble = '"Data Source","WDI",\n\n"Last Updated Date","2024-06-28",\n\n'
    header = '"Country Name","Country Code","Indicator Name","Indicator Code","2020",\n'
    rows = '"Mexico","MEX","X","X.Y","1",\n"Peru","PER","X","X.Y","2","3","4",\n'
    path.write_text(preamble + header + rows, encoding="utf-8")
    with pytest.raises(SourceDataError, match=r"^API_X.csv, row 7: cannot parse the CSV: Error "
                                              r"tokenizing data. C error: Expected 6 fields "
                                              r"in line 7, saw 8"):
        read_wb_bulk_csv(path, "X.Y")

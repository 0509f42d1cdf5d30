"""Hostile downloads over real HTTP on 127.0.0.1: each is refused with the exact limit or
check, before it replaces the last good download, which stays byte for byte; the bombs run
in a child process whose peak memory stays under 1 GiB and which is never aborted."""

from __future__ import annotations

import pytest
from loopback import Reply

from paccto_data.acquire import fetch, records
from paccto_data.limits import DEFAULT, MiB
from paccto_data.settings import Settings

from .conftest import run_here
from .hostile import (
    GOOD_CSV,
    HTML_WITH_COMMENT,
    TEXT_PAGE,
    endless,
    far_cells_xlsx,
    good_xlsx,
    gzip_bomb,
    source_yaml,
    zip_bomb,
    zip_of,
)

GIB = 1024  # MiB
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Upstream:
    """One source file served from the loopback server: first a good body (downloaded here,
    the last good file), then the hostile reply."""

    def __init__(self, loopback, tmp_path, fmt: str, name: str, good: bytes, hostile: Reply,
                 *, good_type: str = "application/octet-stream", **yaml_options):
        self.yaml = source_yaml(tmp_path / "sources", fmt, name, **yaml_options)
        self.source = records.load_source(self.yaml)
        self.raw = tmp_path / "raw"
        self.settings = Settings(source_mode="live", warehouse=tmp_path / "w.duckdb",
                                 build_db=tmp_path / "b.duckdb", raw_dir=self.raw,
                                 publish_dir=tmp_path / "p")
        self.url = loopback.route(f"/{name}", Reply(body=good, content_type=good_type), hostile)
        self.job = {"action": "acquire", "source": str(self.yaml), "raw_dir": str(self.raw),
                    "url": self.url}
        self.kept = self.raw / "hostile" / name
        assert run_here(self.job).ok, "the good download"
        self.before = self.kept.read_bytes()
        self.manifest = (self.raw / "hostile" / "manifest.json").read_bytes()

    def assert_last_good_file_intact(self) -> None:
        assert self.kept.read_bytes() == self.before
        assert (self.raw / "hostile" / "manifest.json").read_bytes() == self.manifest
        assert fetch.local_files(self.source, self.settings) == {"data": self.kept}
        assert not [p.name for p in self.kept.parent.iterdir() if p.name.endswith(".part")]


def refused(result, error: str, limit: str | None, *words: str) -> None:
    assert not result.ok, result
    assert result.returncode == 0, result.message  # the process was never aborted
    assert (result.error, result.limit) == (error, limit), result.message
    for word in words:
        assert word in result.message, (word, result.message)


# --- bounded inputs, at the real defaults (in a child: peak memory measured) ----------------

def test_workbook_with_a_cell_at_xfd1048576_is_refused_before_calamine(loopback, tmp_path,
                                                                      outcome):
    bomb = far_cells_xlsx(tmp_path / "far.xlsx")
    assert len(bomb) < 2000
    up = Upstream(loopback, tmp_path, "xlsx", "data.xlsx", good_xlsx(tmp_path / "good.xlsx"),
                  Reply(body=bomb, content_type=XLSX_TYPE))
    result = outcome(up.job, "xlsx whose cells run to XFD1048576 (1.5 kB)", child=True)
    refused(result, "LimitExceeded", "sheet_cells", "data.xlsx", "sheet 'Data' spans "
            "A1:XFD1048576 (1,048,576 rows × 16,384 columns = 17,179,869,184 cells)",
            f"limits.sheet_cells = {DEFAULT.sheet_cells}")
    assert result.peak_mib < GIB
    up.assert_last_good_file_intact()


def test_zip_member_of_1_gib_of_zeros_is_refused_unread(loopback, tmp_path, outcome):
    bomb = zip_bomb("API_data.csv", 1024)
    assert len(bomb) < 1.1 * MiB
    up = Upstream(loopback, tmp_path, "csv", "data.csv", zip_of({"API_data.csv": GOOD_CSV}),
                  Reply(body=bomb, content_type="application/zip"), member="API_*.csv")
    result = outcome(up.job, "ZIP member: 1 GiB of zeros in 1 MB", child=True)
    refused(result, "LimitExceeded", "decompressed_bytes", "(member API_data.csv)",
            "it inflates to 1,073,741,824 bytes", f"= {DEFAULT.decompressed_bytes}")
    assert result.peak_mib < GIB and result.seconds < 3
    up.assert_last_good_file_intact()


def test_zip_member_that_lies_about_its_size_is_corrupt_and_never_inflated(loopback, tmp_path,
                                                                          outcome):
    bomb = zip_bomb("API_data.csv", 1024, declared=1000)  # says 1000 bytes, holds 1 GiB
    up = Upstream(loopback, tmp_path, "csv", "data.csv", zip_of({"API_data.csv": GOOD_CSV}),
                  Reply(body=bomb, content_type="application/zip"), member="API_*.csv")
    result = outcome(up.job, "ZIP member lying about its size (1 GiB declared as 1 kB)",
                     child=True)
    refused(result, "SourceFileError", None, "member API_data.csv of the zip is corrupt")
    assert result.peak_mib < GIB
    up.assert_last_good_file_intact()


def test_gzip_content_encoding_bomb_is_stopped_after_a_mebibyte(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(body=gzip_bomb(1024), headers={"Content-Encoding": "gzip"},
                        content_type="text/csv"))
    result = outcome(up.job, "gzip Content-Encoding: 1 GiB of zeros in 1 MB", child=True)
    refused(result, "LimitExceeded", "compression_ratio", "data.csv (http://127.0.0.1:",
            "its gzip Content-Encoding inflated", f"= {DEFAULT.compression_ratio}")
    assert result.peak_mib < GIB and result.seconds < 3
    up.assert_last_good_file_intact()


def test_a_300_mib_body_without_a_length_is_cut_at_download_bytes(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(stream=endless(300), framing="close", content_type="text/csv"))
    result = outcome(up.job, "300 MiB body, no Content-Length (streamed)", child=True)
    refused(result, "LimitExceeded", "download_bytes", "data.csv (http://127.0.0.1:",
            "the body reached 67,", "bytes and was cut there",
            f"= {DEFAULT.download_bytes}")
    assert result.peak_mib < GIB
    up.assert_last_good_file_intact()


def test_a_300_mib_content_length_is_refused_before_the_body(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(stream=endless(300), length=300 * MiB, content_type="text/csv"))
    result = outcome(up.job, "300 MiB body, declared in Content-Length")
    refused(result, "LimitExceeded", "download_bytes",
            "the response declares Content-Length 314,572,800")
    assert result.seconds < 1
    up.assert_last_good_file_intact()


# --- bounded inputs, small limits through the YAML override ---------------------------------

def test_download_bytes_from_the_source_yaml(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(body=GOOD_CSV * 100, framing="chunked", content_type="text/csv"),
                  limits={"download_bytes": 1000})
    result = outcome(up.job, "5.6 kB body, download_bytes: 1000 in the YAML")
    refused(result, "LimitExceeded", "download_bytes", "limits.download_bytes = 1000")
    up.assert_last_good_file_intact()


def test_zip_member_limits_from_the_file_entry_of_the_yaml(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", zip_of({"API_data.csv": GOOD_CSV}),
                  Reply(body=zip_bomb("API_data.csv", 20)), member="API_*.csv",
                  file_limits={"decompressed_bytes": 10 * MiB})
    result = outcome(up.job, "ZIP member of 20 MiB, decompressed_bytes: 10 MiB (file entry)")
    refused(result, "LimitExceeded", "decompressed_bytes", "inflates to 20,971,520 bytes",
            f"limits.decompressed_bytes = {10 * MiB}")
    up.assert_last_good_file_intact()


def test_zip_member_compression_ratio_from_the_yaml(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", zip_of({"API_data.csv": GOOD_CSV}),
                  Reply(body=zip_bomb("API_data.csv", 5)), member="API_*.csv",
                  limits={"compression_ratio": 50})
    result = outcome(up.job, "ZIP member inflating 1,000 times, compression_ratio: 50")
    refused(result, "LimitExceeded", "compression_ratio", "it inflates 1,0",
            "limits.compression_ratio = 50")
    up.assert_last_good_file_intact()


def test_content_encoding_decompressed_bytes_from_the_yaml(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(body=gzip_bomb(8), headers={"Content-Encoding": "gzip"}),
                  limits={"decompressed_bytes": 2 * MiB, "compression_ratio": 100000})
    result = outcome(up.job, "gzip body of 8 MiB, decompressed_bytes: 2 MiB")
    refused(result, "LimitExceeded", "decompressed_bytes", "inflated past 2,",
            f"limits.decompressed_bytes = {2 * MiB}")
    up.assert_last_good_file_intact()


def test_sheet_rows_from_the_yaml(loopback, tmp_path, outcome):
    up = Upstream(loopback, tmp_path, "xlsx", "data.xlsx", good_xlsx(tmp_path / "good.xlsx"),
                  Reply(body=far_cells_xlsx(tmp_path / "far.xlsx")),
                  limits={"sheet_rows": 100})
    result = outcome(up.job, "xlsx of 1,048,576 rows, sheet_rows: 100 in the YAML")
    refused(result, "LimitExceeded", "sheet_rows", "limits.sheet_rows = 100")
    up.assert_last_good_file_intact()


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_dripping_server_is_cut_at_the_deadline(loopback, tmp_path, outcome, headers_too):
    """A byte every 0.2 s never trips the 2 s read timeout; the 1 s deadline stops it."""
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV,
                  Reply(body=GOOD_CSV * 3, drip=0.2, drip_headers=headers_too),
                  limits={"download_seconds": 1})
    result = outcome(up.job, "server dripping a byte every 0.2 s "
                     f"({'status line and headers' if headers_too else 'body'}), "
                     "read timeout 2 s, download_seconds: 1")
    refused(result, "LimitExceeded", "download_seconds", "limits.download_seconds = 1",
            "after 1.")
    assert 0.9 < result.seconds < 2.0
    up.assert_last_good_file_intact()


# --- content checks: the wrong kind of file -------------------------------------------------

@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf \r\n\n"], ids=["empty", "bom-only"])
def test_an_empty_csv_is_refused(loopback, tmp_path, outcome, body):
    up = Upstream(loopback, tmp_path, "csv", "data.csv", GOOD_CSV, Reply(body=body))
    result = outcome(up.job, f"empty CSV ({len(body)} bytes)")
    refused(result, "SourceFileError", None, "an empty file", "not csv", "data.csv is unchanged")
    up.assert_last_good_file_intact()


@pytest.mark.parametrize("fmt, name", [("csv", "data.csv"), ("xlsx", "data.xlsx"),
                                       ("zip", "data.zip")])
def test_html_behind_a_bom_whitespace_and_a_comment_is_refused(loopback, tmp_path, outcome,
                                                               fmt, name):
    good = {"csv": GOOD_CSV, "zip": zip_of({"a.csv": GOOD_CSV}),
            "xlsx": good_xlsx(tmp_path / "good.xlsx")}[fmt]
    up = Upstream(loopback, tmp_path, fmt, name, good, Reply(body=HTML_WITH_COMMENT))
    result = outcome(up.job, f"HTML with a BOM and a leading comment, for {fmt}")
    refused(result, "SourceFileError", None, f"returned an HTML page, not {fmt}")
    assert (up.kept.parent / f"{name}.rejected").read_bytes() == HTML_WITH_COMMENT
    up.assert_last_good_file_intact()


@pytest.mark.parametrize("fmt, name", [("csv", "data.csv"), ("xlsx", "data.xlsx"),
                                       ("zip", "data.zip")])
def test_a_plain_text_error_page_is_refused(loopback, tmp_path, outcome, fmt, name):
    good = {"csv": GOOD_CSV, "zip": zip_of({"a.csv": GOOD_CSV}),
            "xlsx": good_xlsx(tmp_path / "good.xlsx")}[fmt]
    up = Upstream(loopback, tmp_path, fmt, name, good, Reply(body=TEXT_PAGE))
    result = outcome(up.job, f"plain-text error page, for {fmt}")
    refused(result, "SourceFileError", None, "a text page: 'Service Unavailable'")
    up.assert_last_good_file_intact()


@pytest.mark.parametrize("fmt, name, content_type", [
    ("csv", "data.csv", "text/html; charset=utf-8"),
    ("xlsx", "data.xlsx", "text/plain"),
    ("zip", "data.zip", "application/json"),
])
def test_a_content_type_contradicting_the_format_is_refused(loopback, tmp_path, outcome, fmt,
                                                            name, content_type):
    """The body itself is fine: only the Content-Type says it is not what was asked for."""
    good = {"csv": GOOD_CSV, "zip": zip_of({"a.csv": GOOD_CSV}),
            "xlsx": good_xlsx(tmp_path / "good.xlsx")}[fmt]
    up = Upstream(loopback, tmp_path, fmt, name, good,
                  Reply(body=good.replace(b"1.5", b"9.5") if fmt == "csv" else good,
                        content_type=content_type))
    result = outcome(up.job, f"Content-Type {content_type.split(';')[0]} for {fmt}")
    refused(result, "SourceFileError", None, f"Content-Type {content_type!r}",
            f"contradicts the expected {fmt}")
    up.assert_last_good_file_intact()


def test_content_types_that_say_nothing_are_accepted(loopback, tmp_path, outcome):
    """octet-stream, vnd.ms-excel (sent for CSV by many servers) and text/csv are fine."""
    for content_type in ("application/octet-stream", "application/vnd.ms-excel",
                         "text/csv; charset=utf-8"):
        up = Upstream(loopback, tmp_path / content_type.split(";")[0].replace("/", "-"),
                      "csv", "data.csv", GOOD_CSV,
                      Reply(body=GOOD_CSV + b"CHL,2022,4.5\n", content_type=content_type))
        result = outcome(up.job, f"a good CSV sent as {content_type}")
        assert result.ok, result.message
        assert up.kept.read_bytes().endswith(b"CHL,2022,4.5\n")

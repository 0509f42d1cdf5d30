"""The maintainers' refresh (paccto_data/refresh/) over real HTTP on 127.0.0.1.

The loopback server serves the real snapshot bytes, or a copy changed in a few cited places:
- unodc_homicide, assets/snapshots/unodc_homicide/homicide-rate-unodc.csv (header = line 1):
  line 2740 `Mexico,MEX,2023,24.858995,North America` revised to 24.9; line 942
  `Chile,CHL,2023,6.348291,South America` removed; a row `Chile,CHL,2024,6.1,...` added.
- wb_population, the bulk ZIP rebuilt in tmp_path from the three bundled CSVs with
  API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv changed: line 231 (Sint Maarten (Dutch part), SXM,
  65 years 1960–2024, 1960 = 2715) removed; line 160 (Mexico) column 2020 126799054 ->
  126800000.
Promotion always runs on a copy of the project's assets (`--assets-root`); a fixture proves
that /work/main/assets is never written.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from loopback import Reply

from paccto_data import refresh
from paccto_data.acquire import records
from paccto_data.acquire.promote import PromotionError
from paccto_data.acquire.records import load_source
from paccto_data.acquire.source_yaml import RecordEditError, edit_source_yaml
from paccto_data.refresh.compare import compare_tables
from paccto_data.settings import ASSETS_DIR, PROJECT_ROOT

HOMICIDE = "homicide-rate-unodc.csv"
POP_DATA = "API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv"
MEX_2023 = b"Mexico,MEX,2023,24.858995,North America\n"       # line 2740
CHL_2023 = b"Chile,CHL,2023,6.348291,South America\n"         # line 942
CHL_2024 = b"Chile,CHL,2024,6.1,South America\n"              # new


# --- helpers ------------------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): sha256(p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


def project_state() -> dict[str, str]:
    """The project's YAML and snapshot files of the sources these tests refresh (other
    sources' files may be edited by others while the tests run)."""
    files = {}
    for source_id in ("unodc_homicide", "wb_population"):
        files |= {f"sources/{source_id}.yaml": sha256((ASSETS_DIR / "sources" /
                                                       f"{source_id}.yaml").read_bytes())}
        files |= {f"snapshots/{source_id}/{k}": v
                  for k, v in state(ASSETS_DIR / "snapshots" / source_id).items()}
    return files


@pytest.fixture(autouse=True)
def project_assets_untouched():
    """Every test here must leave /work/main/assets exactly as it was."""
    before = project_state()
    yield
    assert project_state() == before


@pytest.fixture
def no_tty(monkeypatch):
    """A real, non-terminal stdin (pytest -s would otherwise hand over the terminal)."""
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)
        yield


def assets_copy(tmp_path: Path, source_id: str) -> Path:
    """A copy of the project's assets holding `source_id`'s YAML and snapshot folder."""
    root = tmp_path / "assets"
    (root / "sources").mkdir(parents=True)
    shutil.copy2(ASSETS_DIR / "sources" / f"{source_id}.yaml", root / "sources")
    shutil.copytree(ASSETS_DIR / "snapshots" / source_id, root / "snapshots" / source_id)
    return root


def snapshot_bytes(source_id: str, name: str) -> bytes:
    return (ASSETS_DIR / "snapshots" / source_id / name).read_bytes()


def changed_homicide() -> bytes:
    data = snapshot_bytes("unodc_homicide", HOMICIDE)
    assert data.count(MEX_2023) == 1 and data.count(CHL_2023) == 1
    data = data.replace(MEX_2023, MEX_2023.replace(b"24.858995", b"24.9"))
    return data.replace(CHL_2023, b"").replace(b"Chile,CHL,2022,6.8020124,South America\n",
                                               b"Chile,CHL,2022,6.8020124,South America\n"
                                               + CHL_2024)


def serve_homicide(loopback, monkeypatch, body: bytes) -> str:
    url = loopback.route("/grapher/homicide-rate-unodc.csv", Reply(body=body))
    monkeypatch.setenv("PACCTO_URL_UNODC_HOMICIDE", url)
    return url


def changed_population_csv() -> bytes:
    lines = snapshot_bytes("wb_population", POP_DATA).split(b"\n")
    sxm = [i for i, line in enumerate(lines) if line.startswith(b'"Sint Maarten (Dutch part)"')]
    mex = [i for i, line in enumerate(lines) if line.startswith(b'"Mexico","MEX"')]
    assert [i + 1 for i in sxm] == [231] and [i + 1 for i in mex] == [160]
    assert lines[mex[0]].count(b'"126799054"') == 1
    lines[mex[0]] = lines[mex[0]].replace(b'"126799054"', b'"126800000"')
    del lines[sxm[0]]
    return b"\n".join(lines)


def serve_population(loopback, monkeypatch, tmp_path: Path, data: bytes) -> str:
    """The World Bank bulk ZIP (one download holding the three CSVs), built in tmp_path."""
    source = records.source("wb_population")
    archive = tmp_path / "API_SP.POP.TOTL_DS2_en_csv_v2.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for spec in source.files:
            out.writestr(spec.name, data if spec.id == "data"
                         else snapshot_bytes("wb_population", spec.name))
    url = loopback.serve_file("/v2/en/indicator/SP.POP.TOTL", archive)
    for spec in source.files:
        monkeypatch.setenv(f"PACCTO_URL_WB_POPULATION__{spec.id.upper()}", url)
    return url


def utc_dates_around(call):
    before = datetime.now(UTC).date()
    result = call()
    after = datetime.now(UTC).date()
    return result, {before.isoformat(), after.isoformat()}


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(old line, new line) pairs of an edit that keeps the line count; '' for a deletion."""
    pairs = []
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = old.splitlines()[i1:i2], new.splitlines()[j1:j2]
        pairs += list(zip(a, b)) if len(a) == len(b) else [(x, "") for x in a] + b
    return pairs


# --- the report ---------------------------------------------------------------------------

def test_report_lists_exactly_the_changes_and_refuses_without_a_terminal(
        loopback, monkeypatch, tmp_path, capsys, no_tty):
    served = changed_homicide()
    serve_homicide(loopback, monkeypatch, served)
    root = assets_copy(tmp_path, "unodc_homicide")
    before = state(root)

    code = refresh.main(["unodc_homicide", "--assets-root", str(root)])

    out = capsys.readouterr().out
    assert code == 1
    assert before == state(root)  # nothing promoted
    old = snapshot_bytes("unodc_homicide", HOMICIDE)
    assert f"  changed    data  {HOMICIDE}" in out
    assert f"snapshot  sha256 {sha256(old)}  179,803 bytes" in out
    assert f"upstream  sha256 {sha256(served)}  {len(served):,} bytes" in out
    # 1,121 LAC rows before and after: one removed, one added
    assert ("unodc_homicide: 1,121 -> 1,121 rows: 1 added, 1 removed, 1 revised "
            "(key: iso3, year, indicator_id)") in out
    assert "by country: CHL 1 added (2024), 1 removed (2023); MEX 1 revised (2023)" in out
    listed = re.findall(r"^ {8}(added|removed|revised) +(.*)$", out, re.MULTILINE)
    assert listed == [
        ("removed", "CHL 2023 homicide_rate  value=6.348291 unit=victims per 100,000 population"),
        ("added", "CHL 2024 homicide_rate  value=6.1 unit=victims per 100,000 population"),
        ("revised", "MEX 2023 homicide_rate  value 24.858995 -> 24.9"),
    ]
    assert "Not promoted: no terminal to confirm on; run again with --yes" in out


def test_report_of_the_world_bank_zip(loopback, monkeypatch, tmp_path):
    serve_population(loopback, monkeypatch, tmp_path, changed_population_csv())
    source = refresh.load("wb_population")

    raws = refresh.download(source, tmp_path / "raw")
    report = refresh.compare(source, refresh.snapshot_dir("wb_population"),
                             {i: r.path for i, r in raws.items()})

    assert [(f.file_id, f.changed) for f in report.files] == [
        ("data", True), ("country_metadata", False), ("indicator_metadata", False)]
    tables = {t.table: t for t in report.tables}
    assert tables["wb_population_countries"].identical
    population = tables["wb_population"]
    assert (population.old_rows, population.new_rows) == (2730, 2665)
    assert population.counts == (0, 65, 1)
    removed = population.removed.to_pandas()  # the one table diff gives Arrow tables
    assert set(removed["iso3"]) == {"SXM"}
    assert sorted(removed["year"]) == list(range(1960, 2025))
    assert removed.loc[removed["year"] == 1960, "value"].item() == 2715.0
    # revised values come as text (warehouse/diff.py), shown as numbers in the report below
    assert population.revised.select(["iso3", "year", "column", "old", "new"]).to_pylist() == [
        {"iso3": "MEX", "year": 2020, "column": "value", "old": "126799054.0",
         "new": "126800000.0"}]

    text = refresh.format_report(report, limit=3)
    assert "by country: MEX 1 revised (2020); SXM 65 removed (1960–2024)" in text
    assert "first 3 of 66 differences:" in text
    assert re.findall(r"^ {8}(\w+) +(.*)$", text, re.MULTILINE) == [
        ("revised", "MEX 2020 population  value 126799054 -> 126800000"),
        ("removed", "SXM 1960 population  value=2715 unit=persons"),
        ("removed", "SXM 1961 population  value=2970 unit=persons"),
    ]
    assert "wb_population_countries: identical (215 -> 215 rows)" in text
    assert "Summary: 1 of 3 files changed; 1 of 2 tables differ." in text


def test_a_table_without_year_is_compared_on_its_own_key(tmp_path):
    # un_m49 has no year nor value: its rows match on iso3 and the other columns are values.
    # UNSD-Methodology.csv line 95: ...;013;Central America;Mexico;484;MX;MEX;;;
    source = records.source("un_m49")
    downloaded = {}
    for spec in source.files:
        downloaded[spec.id] = tmp_path / spec.name
        shutil.copyfile(ASSETS_DIR / "snapshots" / "un_m49" / spec.name, downloaded[spec.id])
    methodology = downloaded["methodology"]
    data = methodology.read_bytes()
    line = data[:data.index(b";Mexico;484;MX;MEX;")].count(b"\n") + 1
    assert line == 95 and data.count(b";Mexico;484;") == 1
    methodology.write_bytes(data.replace(b";Mexico;484;", b";United Mexican States;484;"))

    report = refresh.compare(source, refresh.snapshot_dir("un_m49"), downloaded)

    [table] = report.tables
    assert (table.key, table.counts) == (["iso3"], (0, 0, 1))
    assert table.differences() == [
        ("revised", {"iso3": "MEX"}, "name_en Mexico -> United Mexican States")]
    assert [f.changed for f in report.files] == [True, False]


def test_a_key_with_one_null_is_still_unique():
    # un_m49's Sark (m49 680) has no ISO3: one null iso3 must not push m49 into the key
    old = pd.DataFrame({"iso3": ["MEX", None], "m49": ["484", "680"], "name_en": ["Mexico",
                                                                                  "Sark"]})
    new = old.assign(name_en=["United Mexican States", "Sark"])
    table = compare_tables("un_m49", old, new)
    assert (table.key, table.counts) == (["iso3"], (0, 0, 1))


def test_a_change_outside_lac_changes_bytes_not_tables(loopback, monkeypatch, tmp_path,
                                                       capsys, no_tty):
    # line 2: Afghanistan,AFG,2009,4.05955,Asia — not a LAC row, so no staging row moves
    data = snapshot_bytes("unodc_homicide", HOMICIDE)
    serve_homicide(loopback, monkeypatch, data.replace(b"AFG,2009,4.05955,", b"AFG,2009,4.1,"))
    code = refresh.main(["unodc_homicide", "--assets-root", str(assets_copy(tmp_path,
                                                                          "unodc_homicide"))])
    out = capsys.readouterr().out
    assert code == 1
    assert "unodc_homicide: identical (1,121 -> 1,121 rows)" in out
    assert "Summary: 1 of 1 files changed; 0 of 1 tables differ." in out


def test_unchanged_upstream_is_reported_and_nothing_is_asked(loopback, monkeypatch, tmp_path,
                                                            capsys, no_tty):
    serve_homicide(loopback, monkeypatch, snapshot_bytes("unodc_homicide", HOMICIDE))
    root = assets_copy(tmp_path, "unodc_homicide")
    before = state(root)
    assert refresh.main(["unodc_homicide", "--assets-root", str(root), "--yes",
                         "--vintage", "2026"]) == 0
    out = capsys.readouterr().out
    assert "  unchanged  data  homicide-rate-unodc.csv" in out
    assert "unodc_homicide: identical (the files are unchanged; not rebuilt)" in out
    assert "No change: the upstream files are byte for byte the bundled snapshot." in out
    assert state(root) == before


# --- promotion ----------------------------------------------------------------------------

def test_yes_promotes_the_files_and_edits_the_yaml_in_place(loopback, monkeypatch, tmp_path,
                                                            capsys):
    served = changed_homicide()
    url = serve_homicide(loopback, monkeypatch, served)
    root = assets_copy(tmp_path, "unodc_homicide")
    path = root / "sources" / "unodc_homicide.yaml"
    old_text = path.read_text()

    code, today = utc_dates_around(lambda: refresh.main(
        ["unodc_homicide", "--yes", "--vintage", "2026-03", "--assets-root", str(root)]))

    assert code == 0
    assert (root / "snapshots" / "unodc_homicide" / HOMICIDE).read_bytes() == served
    assert sorted(p.name for p in (root / "snapshots" / "unodc_homicide").iterdir()) == [HOMICIDE]
    new_text = path.read_text()
    [retrieved] = [d for d in today if f'retrieved: "{d}"' in new_text]
    # exactly these lines changed, in place; everything else (folded text, order) is kept
    assert changed_lines(old_text, new_text) == [
        ('vintage: "2025"', 'vintage: "2026-03"'),
        ('retrieved: "2026-11-01"', f'retrieved: "{retrieved}"'),
        ("    sha256: 5715fa1a32419df2c2ede152a8c7aea966791250024aab6f49baa235bd82a249",
         f"    sha256: {sha256(served)}"),
        ("    bytes: 179803", f"    bytes: {len(served)}"),
        ('    taken_from: "yuru108/Vis-Project1, data/homicide-rate-unodc.csv, commit '
         'b1aea0d2665cad52293da40779cfa4224c464e2c"', f'    taken_from: "{url}"'),
    ]
    record = load_source(path)  # valid against the schema
    assert (record.vintage, record.retrieved) == ("2026-03", retrieved)
    assert (record.files[0].sha256, record.files[0].bytes) == (sha256(served), len(served))
    out = capsys.readouterr().out
    assert "Promoted data into" in out and "vintage 2026-03" in out

    # a second refresh finds the promoted file current
    assert refresh.main(["unodc_homicide", "--yes", "--assets-root", str(root)]) == 0
    assert "No change" in capsys.readouterr().out
    assert path.read_text() == new_text


def test_yes_without_vintage_keeps_it_and_replaces_only_changed_members(
        loopback, monkeypatch, tmp_path, capsys):
    data = changed_population_csv()
    serve_population(loopback, monkeypatch, tmp_path, data)
    root = assets_copy(tmp_path, "wb_population")
    folder = root / "snapshots" / "wb_population"
    untouched = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name != POP_DATA}
    path = root / "sources" / "wb_population.yaml"
    old_text = path.read_text()

    assert refresh.main(["wb_population", "--yes", "--assets-root", str(root)]) == 0

    assert "Vintage left at '2025-07-01' (no --vintage given)." in capsys.readouterr().out
    assert (folder / POP_DATA).read_bytes() == data
    assert {n: (folder / n).stat().st_mtime_ns for n in untouched} == untouched
    changed = changed_lines(old_text, path.read_text())
    assert [old.split(":")[0].strip() for old, _ in changed] == [
        "retrieved", "sha256", "bytes", "taken_from"]
    assert changed[3] == ('    taken_from: "MAHESH10g/PRODIGY_DS_01, commit '
                          '450fd1507d87dd563f26b9ad37db0a95267fa941"',
                          f'    taken_from: "{loopback.url("/v2/en/indicator/SP.POP.TOTL")}"')
    record = load_source(path)
    assert record.vintage == "2025-07-01"
    assert record.file("data").sha256 == sha256(data)
    assert record.file("country_metadata") == records.source("wb_population").file(
        "country_metadata")


def test_taken_from_is_dropped_when_the_catalogue_url_was_used(tmp_path):
    root = assets_copy(tmp_path, "unodc_homicide")
    new = tmp_path / "new.csv"
    new.write_bytes(changed_homicide())
    source = records.source("unodc_homicide")
    assert refresh.promote("unodc_homicide", {"data": new}, retrieved="2026-12-01",
                           vintage="2026", urls={"data": source.files[0].url},
                           assets_root=root) == ["data"]
    text = (root / "sources" / "unodc_homicide.yaml").read_text()
    assert "taken_from" not in text
    assert load_source(root / "sources" / "unodc_homicide.yaml").files[0].taken_from is None


def test_only_the_bytes_the_report_showed_are_promoted(tmp_path):
    root = assets_copy(tmp_path, "unodc_homicide")
    before = state(root)
    new = tmp_path / "new.csv"
    new.write_bytes(changed_homicide())
    shown = sha256(changed_homicide().replace(b"24.9", b"25.0"))  # the file changed since
    with pytest.raises(PromotionError, match="not the one the report showed"):
        refresh.promote("unodc_homicide", {"data": new}, retrieved="2026-12-01",
                        vintage="2026", reviewed={"data": shown}, assets_root=root)
    assert state(root) == before


def _interact(args: list[str], answers: list[bytes], prompts: list[bytes]) -> tuple[int, str]:
    """Run the command on a real pseudo-terminal, answering each prompt in turn."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "paccto_data.refresh", *args],
                               stdin=slave, stdout=slave, stderr=subprocess.STDOUT,
                               cwd=PROJECT_ROOT)
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 60
    pending = list(zip(prompts, answers))
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if pending and pending[0][0] in seen.split(b"\n")[-1]:
                os.write(master, pending.pop(0)[1])
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), seen.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.parametrize("answer", ["y", "n"])
def test_interactive_confirmation_on_a_terminal(loopback, monkeypatch, tmp_path, answer):
    served = changed_homicide()
    serve_homicide(loopback, monkeypatch, served)
    root = assets_copy(tmp_path, "unodc_homicide")
    before = state(root)

    code, out = _interact(["unodc_homicide", "--assets-root", str(root)],
                          [f"{answer}\n".encode(), b"2026-02-15\n"],
                          [b"[y/N] ", b"[2025]: "])

    assert "revised  MEX 2023 homicide_rate  value 24.858995 -> 24.9" in out
    assert "Promote the new files into" in out
    if answer == "n":
        assert code == 1, out
        assert "Not promoted; nothing changed." in out
        assert state(root) == before
    else:
        assert code == 0, out
        assert (root / "snapshots" / "unodc_homicide" / HOMICIDE).read_bytes() == served
        record = load_source(root / "sources" / "unodc_homicide.yaml")
        assert (record.vintage, record.files[0].sha256) == ("2026-02-15", sha256(served))


# --- refusals -----------------------------------------------------------------------------

def test_an_internal_source_is_refused(loopback, monkeypatch, tmp_path, capsys):
    root = assets_copy(tmp_path, "unodc_homicide")
    path = root / "sources" / "unodc_homicide.yaml"
    path.write_text(path.read_text().replace("redistribution: open\n",
                                             "redistribution: internal\n"))
    before = state(root)
    serve_homicide(loopback, monkeypatch, changed_homicide())

    assert refresh.main(["unodc_homicide", "--yes", "--assets-root", str(root)]) == 2
    assert "redistribution is 'internal', so its files are never bundled" in \
        capsys.readouterr().err
    assert loopback.requests == []  # refused before downloading anything
    new = tmp_path / "new.csv"
    new.write_bytes(changed_homicide())
    with pytest.raises(PromotionError, match="redistribution is 'internal'"):
        refresh.promote("unodc_homicide", {"data": new}, retrieved="2026-12-01",
                        vintage="2026", assets_root=root)
    assert state(root) == before


def test_files_the_tidy_function_rejects_are_not_promoted(loopback, monkeypatch, tmp_path,
                                                          capsys):
    # a row without a code whose name no resolver knows: tidy_homicide must raise on it
    # (the file's last line, 4886, has no line end: add one first)
    data = snapshot_bytes("unodc_homicide", HOMICIDE)
    assert not data.endswith(b"\n")
    data += b"\nAtlantis,,2023,1.5,South America\n"
    serve_homicide(loopback, monkeypatch, data)
    root = assets_copy(tmp_path, "unodc_homicide")
    before = state(root)

    assert refresh.main(["unodc_homicide", "--yes", "--assets-root", str(root)]) == 2

    out = capsys.readouterr().out
    assert "unodc_homicide: not compared" in out
    assert f"downloaded files: SourceDataError: {HOMICIDE}, row 4887, column 'Entity'" in out
    assert "'Atlantis'" in out
    assert "Not promoted: the source's tidy functions reject the downloaded files" in out
    assert state(root) == before


def test_unknown_source_and_bad_vintage(capsys):
    assert refresh.main(["no_such_source"]) == 2
    assert "no source 'no_such_source'" in capsys.readouterr().err
    assert refresh.main(["unodc_homicide", "--vintage", "May 2026"]) == 2
    assert "is not YYYY, YYYY-MM or YYYY-MM-DD" in capsys.readouterr().err


def test_downloads_never_go_under_the_assets(tmp_path):
    source = records.source("unodc_homicide")
    for raw_dir in (ASSETS_DIR / "snapshots", ASSETS_DIR):
        with pytest.raises(refresh.RefreshError, match="downloads never go under"):
            refresh.download(source, raw_dir)
    root = assets_copy(tmp_path, "unodc_homicide")
    with pytest.raises(refresh.RefreshError, match="downloads never go under"):
        refresh.download(source, root / "snapshots", assets_root=root)


def test_a_failure_while_staging_leaves_everything_as_it_was(tmp_path):
    root = assets_copy(tmp_path, "wb_population")
    before = state(root)
    new = tmp_path / "data.csv"
    new.write_bytes(changed_population_csv())
    downloaded = {"data": new, "country_metadata": tmp_path / "gone.csv",
                  "indicator_metadata": tmp_path / "gone.csv"}
    with pytest.raises(FileNotFoundError):
        refresh.promote("wb_population", downloaded, retrieved="2026-12-01",
                        vintage="2026", assets_root=root)
    assert state(root) == before  # the staged copy of data.csv was removed


# --- the in-place YAML edit ---------------------------------------------------------------

@pytest.mark.parametrize("source_id", sorted(records.sources()))
def test_yaml_edit_touches_only_the_edited_values(source_id):
    path = ASSETS_DIR / "sources" / f"{source_id}.yaml"
    text = path.read_text()
    # a comment after a value, as a maintainer might write one, must survive
    text = re.sub(r"^(retrieved: .*)$", r"\1  # when the snapshot was taken", text,
                  flags=re.MULTILINE)
    source = records.source(source_id)
    spec = source.files[-1]
    new = edit_source_yaml(text, path, {spec.id: ("a" * 64, 12345, None)},
                                   retrieved="2027-01-02", vintage="2026")
    changed = changed_lines(text, new)
    assert (f'retrieved: "{source.retrieved}"  # when the snapshot was taken',
            'retrieved: "2027-01-02"  # when the snapshot was taken') in changed
    assert (f"    sha256: {spec.sha256}", f"    sha256: {'a' * 64}") in changed
    assert (f"    bytes: {spec.bytes}", "    bytes: 12345") in changed
    expected = 4 + (spec.taken_from is not None) - (source.vintage == "2026")
    assert len(changed) == expected
    record = yaml.safe_load(new)
    assert record["vintage"] == "2026" and record["retrieved"] == "2027-01-02"
    others = [f for f in record["files"] if f["id"] != spec.id]
    assert others == [f for f in yaml.safe_load(text)["files"] if f["id"] != spec.id]


def test_yaml_edit_refuses_a_layout_it_cannot_edit_in_place(tmp_path):
    path = ASSETS_DIR / "sources" / "unodc_homicide.yaml"
    text = path.read_text().replace('vintage: "2025"', 'vintage: >\n  2025')
    with pytest.raises(RecordEditError, match="one plain `vintage: value` line"):
        edit_source_yaml(text, path, {}, retrieved="2027-01-02", vintage="2026")


"""Live mode end to end over real HTTP on 127.0.0.1: `acquire` downloads every catalogue
source from a loopback replay of its real files (PACCTO_URL_* overrides), never touching the
bundled snapshots, never the internet."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest
from loopback import Reply

from paccto_data.acquire import fetch, records
from paccto_data.acquire.records import Source, SourceFile
from paccto_data.errors import SourceFileError
from paccto_data.http import HttpClient
from paccto_data.settings import SNAPSHOTS_DIR, Settings

WB_API_ERROR = (b'[{"message":[{"id":"120","key":"Invalid value",'
                b'"value":"The provided parameter value is not valid"}]}]')
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Site maintenance</title></head>"
             b"<body><p>We'll be back soon.</p></body></html>\n")


# --- helpers ------------------------------------------------------------------------------

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def live_settings(tmp_path: Path) -> Settings:
    return Settings(source_mode="live", warehouse=tmp_path / "warehouse.duckdb",
                    build_db=tmp_path / "build" / "warehouse.duckdb",
                    raw_dir=tmp_path / "raw", publish_dir=tmp_path / "published")


def fast_client() -> HttpClient:
    return HttpClient(connect_timeout=1.0, read_timeout=1.0, attempts=2, backoff=0.01)


def env_name(source: Source, spec: SourceFile) -> str:
    if len(source.files) == 1:
        return f"PACCTO_URL_{source.id.upper()}"
    return f"PACCTO_URL_{source.id.upper()}__{spec.id.upper()}"


def snapshot_state() -> dict[str, tuple[int, str]]:
    return {str(p.relative_to(SNAPSHOTS_DIR)): (p.stat().st_mtime_ns, sha256(p.read_bytes()))
            for p in sorted(SNAPSHOTS_DIR.rglob("*")) if p.is_file()}


def has_snapshots(source: Source) -> bool:
    return all((source.snapshot_dir / f.name).is_file() for f in source.files)


def build_zip(path: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path.read_bytes()


def zip_groups(source: Source) -> dict[str, list[SourceFile]]:
    """The files of `source` that are ZIP members, by the URL of their archive."""
    groups = defaultdict(list)
    for spec in source.files:
        if spec.member:
            groups[spec.url].append(spec)
    return dict(groups)


def serve_source(loopback, monkeypatch, tmp_path: Path, source: Source,
                 members: dict[str, dict[str, bytes]] | None = None,
                 **reply) -> dict[str, str]:
    """Serve every file of `source` from the loopback server (the snapshot bytes; ZIP
    members packed into one archive per upstream URL, built in tmp_path) and point the
    PACCTO_URL_* overrides at it. `members` replaces an archive's content, by URL.
    Returns the served path of each file id."""
    paths = {}
    for n, (url, specs) in enumerate(zip_groups(source).items()):
        content = (members or {}).get(url) or {
            s.name: (source.snapshot_dir / s.name).read_bytes() for s in specs}
        body = build_zip(tmp_path / f"{source.id}-{n}.zip", content)
        path = f"/{source.id}/bulk-{n}.zip"
        loopback.route(path, Reply(body=body, content_type="application/zip", **reply))
        for spec in specs:
            paths[spec.id] = path
    for spec in source.files:
        if not spec.member:
            path = f"/{source.id}/{spec.name}"
            loopback.route(path, Reply(body=(source.snapshot_dir / spec.name).read_bytes(),
                                       **reply))
            paths[spec.id] = path
    for spec in source.files:
        monkeypatch.setenv(env_name(source, spec), loopback.url(paths[spec.id]))
    return paths


def one_file_source(fmt: str, name: str, source_id: str = "test_live") -> Source:
    """A catalogue-shaped source with one file of `fmt`, for kinds no bundled source has."""
    template = next(iter(records.sources().values()))
    spec = SourceFile(id="data", name=name, url=f"https://example.org/{name}",
                      sha256="0" * 64, bytes=1, format=fmt)
    return dataclasses.replace(template, id=source_id, files=(spec,))


def workbook_bytes(tmp_path: Path) -> bytes:
    """A real workbook: the bundled WGI one if there is one, else a minimal xlsx package."""
    wgi = records.sources().get("wb_wgi")
    if wgi is not None:
        for spec in wgi.files:
            if spec.format == "xlsx" and (wgi.snapshot_dir / spec.name).is_file():
                return (wgi.snapshot_dir / spec.name).read_bytes()
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 2000))
    return build_zip(tmp_path / "small.xlsx", {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.'
                               b'openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": b"<workbook/>",
        "xl/worksheets/sheet1.xml": f"<worksheet><sheetData>{rows}</sheetData></worksheet>"
        .encode(),
    })


@pytest.fixture
def untouched_snapshots():
    """Fails the test if it changed anything under assets/snapshots."""
    before = snapshot_state()
    yield
    assert snapshot_state() == before, "live mode changed the bundled snapshots"


def wb_population() -> Source:
    source = records.sources().get("wb_population")
    if source is None or not zip_groups(source) or not has_snapshots(source):
        pytest.skip("needs the wb_population source with its bundled snapshots")
    return source


# --- every source, live, from the loopback server -----------------------------------------

@pytest.mark.parametrize("source_id", sorted(records.sources()))
def test_live_acquire_downloads_every_source(loopback, monkeypatch, tmp_path,
                                             untouched_snapshots, source_id):
    source = records.source(source_id)
    if not has_snapshots(source):
        pytest.skip(f"{source_id} has no bundled snapshot to replay")
    paths = serve_source(loopback, monkeypatch, tmp_path, source, etag=f'"{source_id}-v1"')
    settings = live_settings(tmp_path)

    raw_files = fetch.acquire(source, settings, fast_client())

    folder = settings.raw_dir / source_id
    assert [f.file_id for f in raw_files] == [f.id for f in source.files]
    manifest = json.loads((folder / "manifest.json").read_text())
    for raw, spec in zip(raw_files, source.files):
        assert raw.path == folder / spec.name
        assert raw.path.read_bytes() == (source.snapshot_dir / spec.name).read_bytes()
        assert (raw.mode, raw.sha256, raw.bytes) == ("live", spec.sha256, spec.bytes)
        assert raw.matches_snapshot and not raw.not_modified
        assert raw.url == loopback.url(paths[spec.id])
        entry = manifest[spec.id]
        assert (entry["sha256"], entry["bytes"], entry["url"]) == (spec.sha256, spec.bytes,
                                                                   raw.url)
        assert entry["retrieved"] == raw.retrieved and entry["retrieved"][:2] == "20"
        assert entry["etag"] == f'"{source_id}-v1"'
    # every distinct URL was fetched exactly once
    for path in set(paths.values()):
        assert len(loopback.requests_to(path)) == 1, path
    assert fetch.local_files(source, settings) == {f.id: folder / f.name for f in source.files}
    assert not [p for p in folder.iterdir() if p.name.endswith((".part", ".rejected"))]
    assert not (SNAPSHOTS_DIR / source_id / "manifest.json").exists()


@pytest.mark.parametrize("source_id", sorted(records.sources()))
def test_unchanged_upstream_answers_304(loopback, monkeypatch, tmp_path, untouched_snapshots,
                                        source_id):
    source = records.source(source_id)
    if not has_snapshots(source):
        pytest.skip(f"{source_id} has no bundled snapshot to replay")
    paths = serve_source(loopback, monkeypatch, tmp_path, source, etag='"same"')
    settings = live_settings(tmp_path)
    first = fetch.acquire(source, settings, fast_client())
    mtimes = {f.file_id: f.path.stat().st_mtime_ns for f in first}
    loopback.clear_log()

    second = fetch.acquire(source, settings, fast_client())

    for path in set(paths.values()):
        [request] = loopback.requests_to(path)
        assert request.header("If-None-Match") == '"same"'
    for before, after in zip(first, second):
        assert after.not_modified
        assert (after.sha256, after.bytes, after.retrieved) == (before.sha256, before.bytes,
                                                               before.retrieved)
        if not source.file(after.file_id).member:  # a plain download is not even rewritten
            assert after.path.stat().st_mtime_ns == mtimes[after.file_id]
    assert fetch.local_files(source, settings) == {f.file_id: f.path for f in first}


# --- ZIP downloads ------------------------------------------------------------------------

def test_zip_members_come_from_one_download_per_acquire(loopback, monkeypatch, tmp_path,
                                                        untouched_snapshots):
    source = wb_population()
    paths = serve_source(loopback, monkeypatch, tmp_path, source, etag='"zip-v1"')
    zip_paths = {paths[s.id] for s in source.files if s.member}
    settings = live_settings(tmp_path)

    fetch.acquire(source, settings, fast_client())
    assert {p: len(loopback.requests_to(p)) for p in zip_paths} == dict.fromkeys(zip_paths, 1)

    raw_files = fetch.acquire(source, settings, fast_client())
    assert {p: len(loopback.requests_to(p)) for p in zip_paths} == dict.fromkeys(zip_paths, 2)
    assert all(f.not_modified and f.matches_snapshot for f in raw_files)


def test_zip_without_the_expected_member_fails_clearly(loopback, monkeypatch, tmp_path,
                                                       untouched_snapshots):
    source = wb_population()
    url, specs = next(iter(zip_groups(source).items()))
    missing = specs[0]
    content = {s.name: (source.snapshot_dir / s.name).read_bytes() for s in specs[1:]}
    content["README.txt"] = b"not the data"
    serve_source(loopback, monkeypatch, tmp_path, source, members={url: content})
    settings = live_settings(tmp_path)

    with pytest.raises(SourceFileError) as failure:
        fetch.acquire(source, settings, fast_client())
    message = str(failure.value)
    assert f"matching {missing.member!r}" in message and "found none" in message
    assert "README.txt" in message
    folder = settings.raw_dir / source.id
    assert not any((folder / s.name).exists() for s in source.files)  # nothing half-done
    assert not (folder / "manifest.json").exists()


@pytest.mark.parametrize("prefix", ["../../", "ABSOLUTE"])
def test_zip_member_cannot_escape_the_source_folder(loopback, monkeypatch, tmp_path,
                                                    untouched_snapshots, prefix):
    source = wb_population()
    url, specs = next(iter(zip_groups(source).items()))
    evil_spec = specs[0]
    settings = live_settings(tmp_path)
    folder = settings.raw_dir / source.id
    # a member whose file name matches the pattern, behind a path that climbs out of
    # <raw_dir>/<id>/ ("../../" lands in tmp_path) or is absolute
    prefix = f"{tmp_path}/escaped/" if prefix == "ABSOLUTE" else prefix
    evil_name = prefix + evil_spec.member.replace("*", "evil")
    content = {evil_name if s is evil_spec else s.name:
               (source.snapshot_dir / s.name).read_bytes() for s in specs}
    serve_source(loopback, monkeypatch, tmp_path, source, members={url: content})
    outside = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(settings.raw_dir))

    fetch.acquire(source, settings, fast_client())

    # the member's bytes went to the catalogue's file name, and only there
    assert (folder / evil_spec.name).read_bytes() == \
        (source.snapshot_dir / evil_spec.name).read_bytes()
    assert not (folder / evil_name).resolve().exists()
    assert sorted(p for p in tmp_path.rglob("*")
                  if not p.is_relative_to(settings.raw_dir)) == outside
    assert not list(tmp_path.rglob(evil_spec.member.replace("*", "evil")))


# --- the wrong kind of file ---------------------------------------------------------------

def test_html_page_instead_of_csv_fails_clearly(loopback, monkeypatch, tmp_path,
                                                untouched_snapshots):
    source = next((s for s in records.sources().values()
                   if any(f.format == "csv" and not f.member for f in s.files)), None)
    if source is None:
        pytest.skip("no source with a plain CSV file")
    spec = next(f for f in source.files if f.format == "csv" and not f.member)
    serve_source(loopback, monkeypatch, tmp_path, source)
    url = loopback.route(f"/{source.id}/{spec.name}",
                         Reply(body=HTML_PAGE, content_type="text/html"))
    settings = live_settings(tmp_path)

    with pytest.raises(SourceFileError, match=f"{url} returned an HTML page, not csv"):
        fetch.acquire(source, settings, fast_client())
    assert not (settings.raw_dir / source.id / spec.name).exists()
    assert (settings.raw_dir / source.id / f"{spec.name}.rejected").read_bytes() == HTML_PAGE


@pytest.mark.parametrize("fmt, name", [("xlsx", "data.xlsx"), ("zip", "data.zip"),
                                       ("json", "data.json")])
def test_html_page_instead_of_a_binary_or_json_fails_clearly(loopback, monkeypatch, tmp_path,
                                                             fmt, name):
    source = one_file_source(fmt, name)
    url = loopback.route("/page", Reply(body=HTML_PAGE, content_type="text/html"))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    with pytest.raises(SourceFileError, match=f"returned an HTML page, not {fmt}"):
        fetch.acquire(source, live_settings(tmp_path), fast_client())


def test_world_bank_api_error_with_http_200_fails_clearly(loopback, monkeypatch, tmp_path):
    source = one_file_source("json", "population.json")
    url = loopback.route("/v2/country/ZZ/indicator/SP.POP.TOTL",
                         Reply(body=WB_API_ERROR, content_type="application/json"))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url + "?format=json")
    settings = live_settings(tmp_path)
    with pytest.raises(SourceFileError, match="API answered with an error.*Invalid value"):
        fetch.acquire(source, settings, fast_client())
    assert not (settings.raw_dir / source.id / "population.json").exists()
    [request] = loopback.requests_to("/v2/country/ZZ/indicator/SP.POP.TOTL")
    assert request.path.endswith("?format=json")


def test_close_delimited_truncated_workbook_fails_check_content(loopback, monkeypatch,
                                                                tmp_path):
    """Without Content-Length the client cannot see the cut; the content check must."""
    workbook = workbook_bytes(tmp_path)
    source = one_file_source("xlsx", "workbook.xlsx")
    settings = live_settings(tmp_path)
    url = loopback.route("/wb.xlsx", Reply(body=workbook, framing="close"),
                         Reply(body=workbook, framing="close", truncate=len(workbook) * 2 // 3))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    [good] = fetch.acquire(source, settings, fast_client())  # a complete first download
    assert good.path.read_bytes() == workbook

    with pytest.raises(SourceFileError, match=f"{url}: not a complete xlsx file"):
        fetch.acquire(source, settings, fast_client())
    # the cut body was rejected whole: the last good download is still there and valid
    assert good.path.read_bytes() == workbook
    assert fetch.local_files(source, settings) == {"data": good.path}
    fetch.check_content(good.path, "xlsx", url)


def test_server_error_then_success_in_live_mode(loopback, monkeypatch, tmp_path):
    source = one_file_source("csv", "data.csv")
    url = loopback.route("/data.csv", Reply(status=503), Reply(body=b"iso3,value\nMEX,1\n"))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    [raw] = fetch.acquire(source, live_settings(tmp_path), fast_client())
    assert raw.path.read_bytes() == b"iso3,value\nMEX,1\n" and not raw.matches_snapshot
    assert len(loopback.requests_to("/data.csv")) == 2


# --- local_files --------------------------------------------------------------------------

def test_local_files_in_live_mode(loopback, monkeypatch, tmp_path, untouched_snapshots):
    source = next((s for s in records.sources().values() if has_snapshots(s)), None)
    if source is None:
        pytest.skip("no source with bundled snapshots")
    paths = serve_source(loopback, monkeypatch, tmp_path, source, etag='"v1"')
    settings = live_settings(tmp_path)
    with pytest.raises(SourceFileError, match="no live download"):
        fetch.local_files(source, settings)

    raw_files = fetch.acquire(source, settings, fast_client())
    files = fetch.local_files(source, settings)
    assert files == {f.file_id: f.path for f in raw_files}
    assert all(p.is_relative_to(settings.raw_dir / source.id) for p in files.values())

    tampered = raw_files[0].path
    tampered.write_bytes(tampered.read_bytes() + b"\n")
    with pytest.raises(SourceFileError, match=f"{tampered.name}: changed since it was"):
        fetch.local_files(source, settings)

    # the next acquire must not let a 304 bless the changed file: it downloads it again
    loopback.clear_log()
    fetch.acquire(source, settings, fast_client())
    if not source.files[0].member:  # (a ZIP member is re-extracted from the kept archive)
        [request] = loopback.requests_to(paths[source.files[0].id])
        assert request.header("If-None-Match") is None
    assert fetch.local_files(source, settings) == files
    assert tampered.read_bytes() == (source.snapshot_dir / tampered.name).read_bytes()


def test_local_files_with_a_broken_manifest_fails_clearly(tmp_path):
    source = next(iter(records.sources().values()))
    settings = live_settings(tmp_path)
    (settings.raw_dir / source.id).mkdir(parents=True)
    (settings.raw_dir / source.id / "manifest.json").write_text("{not json")
    with pytest.raises(SourceFileError, match="unreadable download manifest"):
        fetch.local_files(source, settings)


# --- end to end: Dagster materialises raw -> staging -> core from live downloads ----------

@pytest.mark.e2e
def test_live_build_with_dagster(loopback, monkeypatch, tmp_path, untouched_snapshots):
    import dagster as dg
    import duckdb

    from paccto_data.definitions import build_definitions

    sources = {sid: records.sources().get(sid) for sid in ("un_m49", "wb_population")}
    if not all(s is not None and has_snapshots(s) for s in sources.values()):
        pytest.skip("needs un_m49 and wb_population with their bundled snapshots")
    served = {sid: serve_source(loopback, monkeypatch, tmp_path, s, etag=f'"{sid}"')
              for sid, s in sources.items()}
    settings = live_settings(tmp_path)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    staging = {t for t in ("un_m49", "wb_population", "wb_population_countries")
               if dg.AssetKey(["staging", t]) in keys}
    selection = [dg.AssetKey(["raw", sid]) for sid in sources]
    selection += [dg.AssetKey(["staging", t]) for t in sorted(staging)]
    dim_country = dg.AssetKey(["core", "dim_country"])
    if dim_country in keys and graph.get(dim_country).parent_keys <= set(selection):
        selection.append(dim_country)

    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=selection,
                                        raise_on_error=False)
    failures = [e.message for e in result.all_events if e.is_failure]
    assert result.success, failures

    for sid, paths in served.items():  # one download per distinct URL
        for path in set(paths.values()):
            assert len(loopback.requests_to(path)) == 1, path
        assert not (SNAPSHOTS_DIR / sid / "manifest.json").exists()
        assert (settings.raw_dir / sid / "manifest.json").exists()
    with duckdb.connect(str(settings.build_db), read_only=True) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
        for table in staging:
            assert f"staging.{table}" in tables
            assert conn.execute(f"SELECT count(*) FROM staging.{table}").fetchone()[0] > 0
        if "staging.un_m49" in tables:
            assert conn.execute("SELECT count(*) FROM staging.un_m49").fetchone()[0] == 249
        if dim_country in selection:
            assert conn.execute(
                "SELECT count(*) FROM core.dim_country WHERE is_lac").fetchone()[0] > 30
    assert not settings.warehouse.exists()  # no release was selected


def test_workbook_corrupted_in_transit_fails_check_content(loopback, monkeypatch, tmp_path):
    """Complete length, damaged bytes inside a compressed member: the ZIP test must say so
    (and not leak a bare zlib error)."""
    workbook = bytearray(workbook_bytes(tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(workbook))) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 64
    workbook[start:start + 256] = b"\xff" * 256
    source = one_file_source("xlsx", "workbook.xlsx")
    url = loopback.route("/bad.xlsx", Reply(body=bytes(workbook)))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    with pytest.raises(SourceFileError, match=f"{url}: (not a complete xlsx file|member .* is "
                                              "corrupt)"):
        fetch.acquire(source, live_settings(tmp_path), fast_client())


# --- a source's step tries a failed download again (defs/sources.py) -----------------------

def _materialise_raw(source: Source, tmp_path: Path):
    import dagster as dg

    from paccto_data.defs.resources import PacctoConfig
    from paccto_data.defs.sources import raw_asset

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([raw_asset(source)], instance=instance, raise_on_error=False,
                                resources={"paccto": PacctoConfig.from_settings(
                                    live_settings(tmp_path))})
        return result, [e.user_message for e in instance.all_logs(result.run_id)]


def test_a_download_failing_for_want_of_the_network_is_tried_again_in_its_step(
        loopback, monkeypatch, tmp_path):
    from paccto_data.defs import sources

    monkeypatch.setattr(sources, "RETRY_DELAYS", (0.01,))
    source = one_file_source("csv", "data.csv")
    # the client's own four attempts all answered 503, then the step's second try succeeds
    url = loopback.route("/data.csv", *[Reply(status=503)] * 4,
                         Reply(body=b"iso3,value\nMEX,1\n"))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    result, logs = _materialise_raw(source, tmp_path)
    assert result.success
    assert len(loopback.requests_to("/data.csv")) == 5
    assert any(m.startswith("test_live: attempt 1 of 2 failed (SourceFileError: ") and "503" in m
               for m in logs), logs
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_download_refused_for_any_other_reason_fails_at_once(loopback, monkeypatch, tmp_path):
    from paccto_data.defs import sources

    monkeypatch.setattr(sources, "RETRY_DELAYS", (0.01,))
    source = one_file_source("csv", "data.csv")
    url = loopback.route("/data.csv", Reply(status=404), Reply(body=b"iso3,value\nMEX,1\n"))
    monkeypatch.setenv("PACCTO_URL_TEST_LIVE", url)
    result, logs = _materialise_raw(source, tmp_path)
    assert not result.success
    assert not any("attempt 1 of 2 failed" in m for m in logs)
    assert len(loopback.requests_to("/data.csv")) == 1
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "404" in failure.step_failure_data.error.message

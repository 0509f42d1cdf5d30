"""Shared pytest fixtures. Each block belongs to one area; add yours as a separate block."""

from __future__ import annotations

import os
from functools import partial

import pytest

from tests import sources, support
from tests.workbooks import WorkbookCopy

# --- isolation: each test process (each pytest-xdist worker) has its own DAGSTER_HOME ---


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory):
    """A DAGSTER_HOME of this test process's own (`make test` points it at data/dagster), so
    that workers running side by side never share Dagster's storage or logs."""
    saved = os.environ.get("DAGSTER_HOME")
    home = tmp_path_factory.mktemp("dagster_home")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if saved is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = saved

# --- end of isolation block ---

# --- loopback HTTP server (tests/loopback.py): real HTTP on 127.0.0.1, never the internet ---

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@pytest.fixture
def loopback(monkeypatch):
    """A started `loopback.Loopback` replay server, stopped after the test."""
    from loopback import Loopback

    for name in _PROXY_VARIABLES:  # a proxy from the environment must not see loopback calls
        monkeypatch.delenv(name, raising=False)
    with Loopback() as server:
        yield server

# --- end of loopback block ---

# --- source modules (tests/test_source_*.py): each names its source once, as SOURCE_ID ---


@pytest.fixture(scope="module")
def files(request):
    """The bundled files of the module's source, by file id."""
    return sources.local_files(request.module.SOURCE_ID)


@pytest.fixture(scope="module")
def tidy(request):
    """The module's source's staging table (named like the source), from the bundled files."""
    return sources.tidy_table(request.module.SOURCE_ID)


@pytest.fixture(scope="module")
def long(request):
    """The dataUNODC long sheet of the module's source (unodc_cts_corruption, …)."""
    return sources.long_sheet(request.module.SOURCE_ID)


@pytest.fixture(scope="module")
def error_of(request):
    """error_of(files) -> the SourceDataError the source's tidy function raises on them."""
    return partial(sources.error_of, sources.tidy_function(request.module.SOURCE_ID))


@pytest.fixture(scope="module")
def run_suite(request):
    """run_suite(frame) -> the outcome of the source's staging suite on `frame`."""
    return partial(sources.run_suite, suite=f"staging.{request.module.SOURCE_ID}")


@pytest.fixture(scope="module")
def workbook(request, files):
    """A copy of the source's bundled workbook that holds only the module's KEEP rows."""
    return WorkbookCopy(files["data"], request.module.KEEP)


@pytest.fixture
def broken(workbook, tmp_path):
    """broken(cells, rows, moves) -> files of an edited copy of `workbook` in tmp_path
    (see WorkbookCopy.make)."""
    return partial(workbook.make, tmp_path)

# --- end of source modules block ---

# --- the built warehouse: one full offline build per test process, shared by every test that
# only reads a built warehouse (each pytest-xdist worker is a process of its own) ---


@pytest.fixture(scope="session")
def warehouse_build(tmp_path_factory) -> support.Build:
    """Every asset, check and release built offline (support.full_build). Read it, never
    change it: a test that changes a build (fault injection) takes `warehouse_build_copy`."""
    build = support.full_build(tmp_path_factory.mktemp("warehouse_build"))
    yield build
    build.instance.dispose()


@pytest.fixture
def warehouse_build_copy(warehouse_build, tmp_path) -> support.Build:
    """A private copy of the session's build, files and Dagster instance (run history, check
    results) alike, in tmp_path."""
    copy = warehouse_build.copy(tmp_path / "build")
    yield copy
    copy.instance.dispose()

# --- end of built warehouse block ---

# --- one cold `make run` through the command line, in a copy of the project, made once per
# test run and shared by every worker (support.shared_build): test_incremental.py and the kill
# suite start from copies of it ---


@pytest.fixture(scope="session")
def cold_cli(tmp_path_factory) -> support.ColdRun:
    """support.cold_cli_build, once for the whole run: the copy's folder and what `make run`
    printed. Copy it (shutil.copytree), never change it."""
    return support.ColdRun.read(
        support.shared_build(tmp_path_factory, "cold-cli", support.cold_cli_build))

# --- end of cold command-line build block ---

# --- pytest-xdist (`make test` runs `-n auto --dist loadgroup --no-loadscope-reorder`):
# tests that share a costly fixture share a worker, and the longest work starts first ---

# Started first, longest first (`--durations` of a whole run), so that no worker is left with
# one of them at the end: the tests of the session's build (one work unit: the build, then
# test_bad_input.py's command-line builds, test_publish.py, test_published.py, …); the kill
# suite's five points (each a work unit of its own: five killed and five recovering builds);
# then the other end-to-end modules.
LONGEST_FIRST = ("warehouse_build", "tests/reliability/test_kills.py",
                 "tests/test_incremental.py", "tests/test_adding_a_source.py",
                 "tests/test_ui_browser.py",
                 "tests/test_profiles_browser.py", "tests/test_team_instance.py", "sources")


# Made once per run whichever worker asks first (support.shared_build): they do not tie the
# tests that use them to one worker.
ACROSS_WORKERS = ("cold_cli", "cold_live")


def _group(item) -> str | None:
    """The tests that read the session's build run in one worker, so that it is built once;
    the source tests share the tidy tables of tests/sources.py; the tests of a module with a
    module- or session-scoped fixture stay together, so that it is made once. Any other test
    goes wherever a worker is free."""
    module = item.nodeid.split("::")[0]
    if "warehouse_build" in item.fixturenames:
        return "warehouse_build"
    if module.startswith("tests/test_source"):
        return "sources"
    shared = [name for name, defs in item._fixtureinfo.name2fixturedefs.items()
              if defs[-1].baseid  # ours, not pytest's
              and name not in ("dagster_home", *ACROSS_WORKERS)
              and defs[-1].scope in ("module", "session")]
    return module if shared else None


def _name_group(item, group: str) -> None:
    """Name the group in the test's id (`<id>@<group>`), the one thing `--dist loadgroup`
    reads. pytest-xdist (3.8) does it by setting `item._nodeid`, which pytest 9 no longer
    reads (its ids are `item._id`): without this every group is ignored, and each worker
    made every shared build (the session's warehouse, the kill suite's cold build) itself."""
    from _pytest.nodeid import NodeId

    if hasattr(item, "_id") and not item.nodeid.endswith(f"@{group}"):
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    groups = {}
    loadgroup = getattr(config.option, "loadgroup", False)  # set in pytest-xdist's workers
    for item in items:
        groups[item] = _group(item)
        if groups[item] is not None:
            item.add_marker(pytest.mark.xdist_group(groups[item]))
            if loadgroup:
                _name_group(item, groups[item])
        elif item.nodeid.split("::")[0] in LONGEST_FIRST:
            groups[item] = item.nodeid.split("::")[0]

    def rank(item):
        group = groups[item]
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the collection order within each rank

# --- end of pytest-xdist block ---

"""`make ui` as an engineer uses it: the command starts with no deprecation or supersession
warning, the asset graph in a real headless Chromium shows every group and every asset,
a materialisation launched by clicking in the UI runs through the daemon's queue to success
on its run page, and Ctrl-C stops every process that was started.

Screenshots land in tests/artifacts/ (gitignored): ui-asset-graph.png, ui-run.png.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import defaultdict
from urllib.parse import quote

import pytest

from paccto_data.definitions import build_definitions
from paccto_data.settings import PROJECT_ROOT
from tests.support_browser import DevTools, require_chromium
from tests.support_services import (
    Service,
    clean_environment,
    free_port,
    graphql,
    processes_mentioning,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
# One source, its staging table and the staging table's blocking check: small and quick.
SELECTION = '+key:"staging/wb_homicide"'
LAUNCHED_ASSETS = {"raw/wb_homicide", "staging/wb_homicide"}
WARNING = re.compile(r"warning|deprecat|supersed", re.IGNORECASE)
RUN_STATES = ("Queued", "Starting", "Started", "Success", "Failure", "Canceling", "Canceled")

DISMISS_ONBOARDING = """(() => {
  const skip = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Skip');
  if (skip) skip.click();
  return true;
})()"""

GRAPH_GROUPS = """JSON.stringify([...document.querySelectorAll('[data-tooltip]')]
  .map(e => e.getAttribute('data-tooltip')))"""

SIDEBAR_ROW = "[class*=AssetSidebarNode_itemContainer]"

SIDEBAR_TREE = """JSON.stringify([...document.querySelectorAll('%s')].map(row => ({
  name: row.querySelector('[title]')?.getAttribute('title'),
  group: !!row.querySelector('[aria-label=asset_group]'),
})))""" % SIDEBAR_ROW

RUN_STATUS = """(() => {
  const states = %s;
  const header = [...document.querySelectorAll('*')].filter(
    e => e.children.length === 0 && states.includes(e.textContent.trim())
      && e.getBoundingClientRect().top < 60);
  return header.length ? header[0].textContent.trim() : '';
})()""" % json.dumps(list(RUN_STATES))


def _center(browser: DevTools, session: str, element_js: str) -> tuple[float, float]:
    box = browser.evaluate(session, f"""(() => {{ const e = {element_js};
        if (!e) return null; e.scrollIntoView({{block: 'nearest'}});
        const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];
    }})()""")
    assert box, f"nothing on the page matches {element_js}"
    return box[0], box[1]


def _click(browser: DevTools, session: str, element_js: str) -> None:
    """A real mouse click (pressed, released) in the middle of the element, once the
    first-visit "Join the Dagster community" dialog is skipped if it is there."""
    browser.evaluate(session, DISMISS_ONBOARDING)
    time.sleep(0.2)
    x, y = _center(browser, session, element_js)
    for kind in ("mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                  "button": "left", "clickCount": 1},
                     session=session)


def _viewport(browser: DevTools, session: str, width: int, height: int) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        session=session)


def _expected_tree() -> dict[str, set[str]]:
    """Every asset of the one Definitions, by group, as the sidebar names it (last key part)."""
    tree: dict[str, set[str]] = defaultdict(set)
    for spec in build_definitions().resolve_all_asset_specs():
        tree[spec.group_name].add(spec.key.path[-1])
    return dict(tree)


def _sidebar_tree(browser: DevTools, session: str, groups: set[str]) -> dict[str, set[str]]:
    """Open every group of the sidebar (clicking its caret), then read the tree; a group that
    shows no asset yet (a click that landed before the tree rendered) is clicked again."""

    def click(group: str) -> None:
        row = (f"[...document.querySelectorAll('{SIDEBAR_ROW}')].find(r => "
               f"r.querySelector('[aria-label=asset_group]') && "
               f"r.querySelector('[title]')?.getAttribute('title') === {json.dumps(group)})")
        _click(browser, session, f"{row}.querySelector('[aria-label=arrow_drop_down]')"
                                 ".closest('button')")
        time.sleep(0.3)

    def read() -> dict[str, set[str]]:
        tree: dict[str, set[str]] = defaultdict(set)
        current = None
        for row in json.loads(browser.evaluate(session, SIDEBAR_TREE)):
            if row["group"]:
                current = row["name"]
                tree[current]
            elif current is not None:
                tree[current].add(row["name"])
        return dict(tree)

    for group in sorted(groups):
        click(group)
    tree = read()
    for _ in range(5):
        closed = sorted(g for g in groups if not tree.get(g))
        if not closed:
            break
        for group in closed:
            click(group)
        time.sleep(1)
        tree = read()
    return tree


def _launch_through_the_ui(browser: DevTools, session: str, url: str) -> str:
    """Filter the graph to SELECTION by typing it, click "Materialize all"; the run id from
    the "Launched run" toast."""
    _click(browser, session, "[...document.querySelectorAll('*')].find(e => "
                             "e.children.length === 0 && "
                             "e.textContent.trim() === 'Search and filter assets')")
    browser.send("Input.insertText", {"text": SELECTION}, session=session)
    for kind in ("keyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                                "windowsVirtualKeyCode": 13}, session=session)
    browser.wait_until(session, f"location.pathname.includes({json.dumps(quote(SELECTION, safe=''))})",
                       30, "the graph filtered to the selection")
    # never "Materialize all" of the whole graph: only once the filter shows just the two groups
    browser.wait_until(session, f"JSON.stringify(JSON.parse({GRAPH_GROUPS}).sort()) === "
                                "'[\"sources\",\"staging\"]'",
                       30, "only the sources and staging groups left in the graph")
    _click(browser, session, "[...document.querySelectorAll('button')].find(b => "
                             "b.innerText.trim() === 'Materialize all')")
    href = browser.wait_until(
        session, "[...document.querySelectorAll('a[href*=\"/runs/\"]')].map(a => a.href)[0]",
        60, "the 'Launched run' toast")
    return href.rstrip("/").rsplit("/", 1)[1]


def test_make_ui_shows_every_asset_runs_a_materialisation_and_stops_cleanly(tmp_path):
    binary = require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_environment(
        PACCTO_SOURCE_MODE="snapshot",
        PACCTO_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        PACCTO_BUILD_DB=str(tmp_path / "build" / "warehouse.duckdb"),
        PACCTO_RAW_DIR=str(tmp_path / "raw"),
        PACCTO_PUBLISH_DIR=str(tmp_path / "published"))
    expected = _expected_tree()

    ui = Service(["make", "--no-print-directory", "ui", f"UI_PORT={port}",
                  f"DAGSTER_HOME={home}"], cwd=PROJECT_ROOT, env=env, log=tmp_path / "make-ui.log")
    browser = None
    left: list[int] = []
    try:
        ui.wait_http(f"{url}/server_info", timeout=240)
        # the code location loaded (the daemon and the UI both read it)
        deadline = time.monotonic() + 120
        while True:
            entries = graphql(url, """{ workspaceOrError { ... on Workspace {
                locationEntries { name loadStatus } } } }""")["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                break
            assert time.monotonic() < deadline, entries
            time.sleep(0.25)

        browser = DevTools(binary, tmp_path / "chromium-profile", window=(1600, 1000))
        _, session = browser.open_tab()
        _viewport(browser, session, 1600, 1850)  # tall enough for the whole sidebar tree
        browser.navigate(session, f"{url}/asset-groups")
        browser.wait_until(session, f"JSON.parse({GRAPH_GROUPS}).length >= {len(expected)}", 90,
                           "the asset graph's groups")
        browser.evaluate(session, DISMISS_ONBOARDING)

        # every group is a node of the graph, and the sidebar lists every asset in its group
        assert set(json.loads(browser.evaluate(session, GRAPH_GROUPS))) == set(expected)
        shown = _sidebar_tree(browser, session, set(expected))
        assert shown == expected
        (ARTIFACTS / "ui-asset-graph.png").write_bytes(browser.screenshot(session, False))

        # launch a materialisation by clicking, as an engineer does; the daemon dequeues it
        _viewport(browser, session, 1600, 1000)
        run_id = _launch_through_the_ui(browser, session, url)
        browser.navigate(session, f"{url}/runs/{run_id}")
        status = browser.wait_until(
            session, f"(() => {{ const s = {RUN_STATUS}; "
                     "return ['Success', 'Failure', 'Canceled'].includes(s) ? s : ''; })()",
            300, f"run {run_id} to finish")
        time.sleep(2)  # the event log renders the last events
        (ARTIFACTS / "ui-run.png").write_bytes(browser.screenshot(session, False))
        assert status == "Success", ui.output()[-4000:]

        # what the run page showed is what the instance holds
        run = graphql(url, """query($id: ID!) { runOrError(runId: $id) { ... on Run {
            status assetSelection { path } assetCheckSelection { name assetKey { path } } } } }""",
                       {"id": run_id})["runOrError"]
        assert run["status"] == "SUCCESS"
        assert {"/".join(a["path"]) for a in run["assetSelection"]} == LAUNCHED_ASSETS
        assert {(c["name"], "/".join(c["assetKey"]["path"]))
                for c in run["assetCheckSelection"]} == {
            ("great_expectations", "staging/wb_homicide"), ("vintage_freshness", "raw/wb_homicide")}
    finally:
        if browser is not None:
            browser.close()
        left = ui.stop()

    # Ctrl-C stopped the UI, the daemon, the code server and the run worker by themselves
    output = ui.output()
    assert left == [], f"still running after Ctrl-C: {left}\n{output[-3000:]}"
    assert processes_mentioning(str(home)) == []
    assert processes_mentioning(str(tmp_path / "chromium-profile")) == []
    assert "Dagster services shut down." in output
    # and nothing warned: no deprecation or supersession on the way (from `dg dev` on)
    served = output[output.index("dg dev -h"):]
    assert [line for line in served.splitlines() if WARNING.search(line)] == []

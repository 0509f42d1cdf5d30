"""The catalogue page researchers open from disk, in a real headless Chromium (Debian's),
driven as every browser test here drives it (tests/support_browser.py: the DevTools protocol
over a pipe). The page under test is the published one: `PACCTO_PUBLISH_DIR` (default
`published/`), as committed. Under CI (CI=true) a missing browser fails the test; elsewhere
it skips.
"""

import base64
import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from paccto_data.settings import Settings
from tests.support_browser import DevTools, require_chromium

pytestmark = pytest.mark.browser

PUBLISHED = Settings.from_env().publish_dir


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    tools = DevTools(require_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    yield tools
    tools.close()


PAGE_STATE = """JSON.stringify({
  lang: document.documentElement.lang,
  title: document.title,
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  sources: Array.from(document.querySelectorAll('[src]'), e => e.getAttribute('src')),
  images: Array.from(document.images, i => ({
    src: i.getAttribute('src'), complete: i.complete, naturalWidth: i.naturalWidth,
    naturalHeight: i.naturalHeight, width: i.getBoundingClientRect().width,
    height: i.getBoundingClientRect().height})),
  packages: Array.from(document.querySelectorAll('section.package'), s => s.id),
  scripts: document.scripts.length,
})"""


def open_page(browser: DevTools, path: Path) -> tuple[dict, list[str], bytes]:
    """Load `path` in a new tab; returns the page state, every error the browser reported
    (exceptions, console errors, log errors, failed loads) and a full-page screenshot."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session=session)
    start = len(browser.events)
    browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired", session)
    state = json.loads(browser.send("Runtime.evaluate", {
        "expression": PAGE_STATE, "returnByValue": True}, session=session)["result"]["value"])
    shot = browser.send("Page.captureScreenshot", {"format": "png",
                                                   "captureBeyondViewport": True},
                        session=session)
    errors = []
    for event in browser.events[start:]:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Network.loadingFailed":
            errors.append(f"failed to load: {params.get('errorText')} ({params.get('type')})")
    browser.send("Target.closeTarget", {"targetId": target})
    return state, errors, base64.b64decode(shot["data"])


@pytest.fixture(scope="module")
def catalogue():
    record_path = PUBLISHED / "catalog.json"
    assert record_path.is_file(), f"{record_path}: no catalogue published (make run)"
    return json.loads(record_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page, lang", [("index.html", "en"), ("index.es.html", "es")])
def test_the_catalogue_page_loads_without_errors_and_every_link_and_chart_works(
        browser, catalogue, page, lang, tmp_path):
    state, errors, screenshot = open_page(browser, PUBLISHED / page)
    assert errors == []
    assert state["lang"] == lang and state["scripts"] == 0

    # every package of the catalogue has its section
    assert state["packages"] == [p["name"] for p in catalogue["packages"]]

    # nothing is loaded from the network: every src is a file beside the page
    assert state["sources"], "the page shows no chart"
    assert not [s for s in state["sources"] if urlsplit(s).scheme or s.startswith("//")]

    # every link resolves: a file of the release, an anchor on the page, or a web page
    # (licences, publishers) that the page links to but never loads
    broken = []
    for link in state["links"]:
        parts = urlsplit(link)
        if parts.scheme == "file":
            if not Path(unquote(parts.path)).is_file():
                broken.append(link)
        elif parts.scheme not in ("http", "https"):
            broken.append(link)
    assert broken == []
    local = {Path(unquote(urlsplit(link).path)).resolve() for link in state["links"]
             if urlsplit(link).scheme == "file"}
    for package in catalogue["packages"]:
        for f in package["files"]:
            assert (PUBLISHED / f["path"]).resolve() in local, f"no link to {f['path']}"

    # every chart is drawn: decoded and laid out with a non-zero size
    charts = {c["path_es" if lang == "es" else "path"] for c in catalogue["charts"]}
    assert len(charts) == 4
    images = {i["src"]: i for i in state["images"]}
    assert set(images) == charts
    for src, image in images.items():
        assert image["complete"] and image["naturalWidth"] > 0 and image["naturalHeight"] > 0, src
        assert image["width"] > 100 and image["height"] > 100, src

    # and the page can be looked at: a real screenshot
    assert screenshot.startswith(b"\x89PNG\r\n\x1a\n") and len(screenshot) > 20_000
    (tmp_path / f"{page}.png").write_bytes(screenshot)


def test_every_chart_opens_on_its_own(browser, catalogue):
    for chart in catalogue["charts"]:
        for key in ("path", "path_es"):
            state, errors, screenshot = open_page(browser, PUBLISHED / chart[key])
            assert errors == [], chart[key]
            assert screenshot.startswith(b"\x89PNG") and len(screenshot) > 5_000

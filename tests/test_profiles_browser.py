"""The country profiles researchers open from disk (countries/<ISO3>.html and .es.html), in a
real headless Chromium driven as every browser test here drives it (tests/support_browser.py).
The pages under test are the published ones: `PACCTO_PUBLISH_DIR` (default `published/`), as
committed. Every profile in both languages: no error in the browser, every link resolves,
every chart drawn. Under CI (CI=true) a missing browser fails the test; elsewhere it skips.
"""

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from paccto_data.settings import Settings
from tests.support_browser import DevTools, require_chromium

pytestmark = pytest.mark.browser

PUBLISHED = Settings.from_env().publish_dir

PAGE_STATE = """JSON.stringify({
  lang: document.documentElement.lang,
  title: document.title,
  links: Array.from(document.querySelectorAll('a[href]'), a => a.href),
  sources: Array.from(document.querySelectorAll('[src]'), e => e.getAttribute('src')),
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
  charts: Array.from(document.querySelectorAll('figure > svg'), s => ({
    title: s.querySelector('title') ? s.querySelector('title').textContent : '',
    paths: s.querySelectorAll('path, circle').length,
    width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height})),
  sections: Array.from(document.querySelectorAll('section.profile-chart'), s => s.id),
  gaps: Array.from(document.querySelectorAll('#gaps ~ ul.gaps li'), li => li.textContent),
  activities: document.querySelectorAll('#activities + p + table tbody tr').length,
  scripts: document.scripts.length,
})"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    tools = DevTools(require_chromium(), tmp_path_factory.mktemp("chromium-profile"),
                     window=(1100, 900))
    yield tools
    tools.close()


@pytest.fixture(scope="module")
def catalogue():
    path = PUBLISHED / "catalog.json"
    assert path.is_file(), f"{path}: no catalogue published (make run)"
    return json.loads(path.read_text(encoding="utf-8"))


def errors_of(browser: DevTools, session: str, start: int) -> list[str]:
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
    return errors


def open_page(browser: DevTools, path: Path, screenshot: bool = False):
    target, session = browser.open_tab()
    start = len(browser.events)
    browser.navigate(session, path.resolve().as_uri())
    state = json.loads(browser.evaluate(session, PAGE_STATE))
    shot = browser.screenshot(session) if screenshot else b""
    errors = errors_of(browser, session, start)
    browser.send("Target.closeTarget", {"targetId": target})
    return state, errors, shot


_IDS: dict[Path, set[str]] = {}


def ids_of(browser: DevTools, path: Path) -> set[str]:
    if path not in _IDS:
        _IDS[path] = set(open_page(browser, path)[0]["ids"])
    return _IDS[path]


def broken_links(browser: DevTools, state: dict) -> list[str]:
    """Links that are neither a file of the release (with its #anchor, if any), nor a web page
    (publishers, the activities' public pages) that the page links to but never loads."""
    broken = []
    for link in state["links"]:
        parts = urlsplit(link)
        if parts.scheme in ("http", "https"):
            continue
        if parts.scheme != "file":
            broken.append(link)
            continue
        path = Path(unquote(parts.path))
        if not path.is_file() or not path.resolve().is_relative_to(PUBLISHED.resolve()):
            broken.append(link)
        elif parts.fragment and path.suffix == ".html" and \
                parts.fragment not in ids_of(browser, path):
            broken.append(link)
    return broken


def test_the_catalogue_pages_link_a_profile_of_every_lac_country(browser, catalogue):
    profiles = catalogue["profiles"]
    assert len(profiles) == 52
    for page, key in (("index.html", "path"), ("index.es.html", "path_es")):
        state, errors, _ = open_page(browser, PUBLISHED / page)
        assert errors == []
        local = {Path(unquote(urlsplit(link).path)).resolve() for link in state["links"]
                 if urlsplit(link).scheme == "file"}
        for profile in profiles:
            assert (PUBLISHED / profile[key]).resolve() in local, profile[key]


def test_every_profile_loads_without_errors_links_resolve_and_charts_are_drawn(
        browser, catalogue):
    problems = []
    for profile in catalogue["profiles"]:
        for key, lang in (("path", "en"), ("path_es", "es")):
            state, errors, _ = open_page(browser, PUBLISHED / profile[key])
            where = profile[key]
            if errors:
                problems.append(f"{where}: {errors}")
            if state["lang"] != lang or state["scripts"] != 0:
                problems.append(f"{where}: lang {state['lang']}, {state['scripts']} scripts")
            if [s for s in state["sources"] if urlsplit(s).scheme or s.startswith("//")]:
                problems.append(f"{where}: loads from the network: {state['sources']}")
            if broken := broken_links(browser, state):
                problems.append(f"{where}: broken links {broken}")
            for chart in state["charts"]:
                if not chart["title"] or chart["paths"] == 0 or chart["width"] < 300 \
                        or chart["height"] < 200:
                    problems.append(f"{where}: a chart is not drawn: {chart}")
    assert problems == []


def test_the_jamaica_profile_in_both_languages(browser, catalogue, tmp_path):
    """A partner with every kind of figure: six charts, gaps said plainly, a screenshot."""
    for page, lang, gap in (
            ("JAM.html", "en", "No detected victims of trafficking in persons figure after"),
            ("JAM.es.html", "es", "Ninguna cifra de víctimas detectadas de trata de personas "
                                  "después de")):
        state, errors, shot = open_page(browser, PUBLISHED / "countries" / page,
                                        screenshot=True)
        assert errors == [] and state["lang"] == lang
        assert state["sections"] == ["homicide", "governance", "corruption_offences",
                                     "seizures", "trafficking", "arms"]
        assert len(state["charts"]) == 6
        assert any(g.startswith(gap) for g in state["gaps"]), state["gaps"]
        assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 50_000
        (tmp_path / page.replace(".html", ".png")).write_bytes(shot)

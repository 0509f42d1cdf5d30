"""The catalogue's charts as data: paccto_data/site/charts.yaml declares each chart (its SQL,
its kind, its words in English and Spanish); `draw_charts` runs each chart's SQL on the
Parquet tables of its package and draws the rows with the one renderer,
paccto_data/site/charts.py. A new chart is a new entry in charts.yaml, not new code.

A chart is drawn from the published files themselves, so it shows exactly what can be
downloaded. What is wrong with a declaration (a bad query, a missing column or translation)
stops the build with a SiteError naming the chart.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from paccto_data.fileio import read_yaml
from paccto_data.site import SiteError, charts
from paccto_data.site.packages import Package
from paccto_data.site.strings import LANGUAGES, strings

CHARTS_FILE = Path(__file__).with_name("charts.yaml")
CHARTS_DIR = "charts"
WORDS = ("title", "note", "x_label", "y_label", "legend_title")
FIELDS = {"id", "package", "kind", "source", "options", "sql", *LANGUAGES}


@dataclass(frozen=True)
class ChartSpec:
    """One entry of charts.yaml."""

    id: str
    package: str
    kind: str  # a key of KINDS
    sql: str
    source: str  # the publishers named on the source line
    words: dict[str, dict[str, str]]  # language -> title, note, x_label, ...
    options: dict  # keyword arguments of the renderer


@dataclass(frozen=True)
class Chart:
    """A chart drawn: its SVG in each language, and what the page says about it."""

    id: str
    package: str
    title: dict[str, str]
    caption: dict[str, str]
    svg: dict[str, str]

    def path(self, lang: str) -> str:
        return f"{CHARTS_DIR}/{self.id}{'' if lang == 'en' else '.' + lang}.svg"


# --- from rows to SVG, one function per kind ------------------------------------------------


def _label(row: dict, lang: str) -> str:
    return row["label_es"] if lang == "es" else row["label"]


def _line(rows: list[dict], lang: str, text: charts.Text, options: dict) -> str:
    series: dict[str, tuple[dict, list]] = {}  # English label -> (first row, points)
    for row in rows:
        series.setdefault(row["label"], (row, []))[1].append((float(row["x"]), float(row["y"])))
    return charts.line_chart([charts.Series(_label(first, lang), tuple(points),
                                            dashed=bool(first["dashed"]))
                              for first, points in series.values()], text, **options)


def _bar(rows: list[dict], lang: str, text: charts.Text, options: dict) -> str:
    def number(value: object) -> float | None:
        return None if value is None else float(value)

    return charts.bar_chart([charts.Bar(_label(row, lang), float(row["value"]),
                                        number(row.get("low")), number(row.get("high")),
                                        value_text=row.get("value_text"))
                             for row in rows], text, **options)


def _heatmap(rows: list[dict], lang: str, text: charts.Text, options: dict) -> str:
    labels = list(dict.fromkeys(_label(row, lang) for row in rows))
    columns = list(dict.fromkeys(str(row["x"]) for row in rows))
    values = {(_label(row, lang), str(row["x"])): int(row["count"]) for row in rows}
    return charts.heatmap(labels, columns, values, text, **options)


# kind -> (the columns its query must return, the function that draws them, the renderer)
KINDS: dict[str, tuple[tuple[str, ...], Callable, Callable]] = {
    "line": (("label", "label_es", "x", "y", "dashed"), _line, charts.line_chart),
    "bar": (("label", "label_es", "value"), _bar, charts.bar_chart),
    "heatmap": (("label", "label_es", "x", "count"), _heatmap, charts.heatmap),
}


# --- reading charts.yaml --------------------------------------------------------------------


def load_chart_specs(path: Path = CHARTS_FILE) -> list[ChartSpec]:
    entries = read_yaml(path)
    if not isinstance(entries, list):
        raise SiteError(f"{path.name}: expected a list of charts")
    specs = [_spec(entry, path.name) for entry in entries]
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise SiteError(f"{path.name}: chart ids are not unique: {ids}")
    return specs


def _spec(entry: object, file: str) -> ChartSpec:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise SiteError(f"{file}: every chart is a mapping with an id")
    where = f"{file}: chart {entry['id']}"
    missing = sorted({"package", "kind", "source", "sql", *LANGUAGES} - set(entry))
    unknown = sorted(set(entry) - FIELDS)
    if missing or unknown:
        raise SiteError(f"{where}: " + "; ".join(
            ([f"missing {', '.join(missing)}"] if missing else [])
            + ([f"unknown {', '.join(unknown)}"] if unknown else [])))
    if entry["kind"] not in KINDS:
        raise SiteError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    words = {lang: entry[lang] for lang in LANGUAGES}
    for lang, texts in words.items():
        if not isinstance(texts, dict) or set(texts) - set(WORDS):
            raise SiteError(f"{where}: {lang} gives only {', '.join(WORDS)}")
    for key in sorted({k for texts in words.values() for k in texts} | {"title", "note"}):
        for lang in LANGUAGES:
            if not isinstance(words[lang].get(key), str) or not words[lang][key].strip():
                raise SiteError(f"{where}: {key} has no text in {lang}")
    options = entry.get("options") or {}
    renderer = inspect.signature(KINDS[entry["kind"]][2]).parameters.values()
    wrong = sorted(set(options) - {p.name for p in renderer if p.default is not p.empty})
    if wrong:
        raise SiteError(f"{where}: a {entry['kind']} chart has no option {', '.join(wrong)}")
    return ChartSpec(entry["id"], entry["package"], entry["kind"], entry["sql"],
                     entry["source"], words, options)


# --- drawing --------------------------------------------------------------------------------


def query(spec: ChartSpec, package: Package) -> list[dict]:
    """The rows of the chart's SQL, each table of the package a view of the same name."""
    try:
        with package.sql() as con:
            cursor = con.execute(spec.sql)
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise SiteError(f"chart {spec.id} ({CHARTS_FILE.name}): its SQL failed on package "
                        f"{package.name}: {exc}") from exc
    missing = [c for c in KINDS[spec.kind][0] if c not in columns]
    if missing:
        raise SiteError(f"chart {spec.id} ({CHARTS_FILE.name}): its SQL returns no column "
                        f"{', '.join(missing)} (a {spec.kind} chart draws "
                        f"{', '.join(KINDS[spec.kind][0])})")
    return rows


def draw(spec: ChartSpec, package: Package) -> Chart | None:
    """The chart in every language; None when its query returns no row."""
    rows = query(spec, package)
    if not rows:
        return None
    try:
        words = {lang: {key: text.format(**rows[0]) for key, text in spec.words[lang].items()}
                 for lang in LANGUAGES}
    except (KeyError, IndexError, ValueError) as exc:
        raise SiteError(f"chart {spec.id} ({CHARTS_FILE.name}): a text names {exc}, which is "
                        "not a column of its SQL") from exc
    svg = {}
    for lang in LANGUAGES:
        w = words[lang]
        source = strings(lang)["chart_source"].format(
            publishers=spec.source, package=package.name, version=package.descriptor["version"])
        text = charts.Text(title=w["title"], source=source, x_label=w.get("x_label", ""),
                           y_label=w.get("y_label", ""), note=w["note"],
                           legend_title=w.get("legend_title", ""))
        svg[lang] = KINDS[spec.kind][1](rows, lang, text, spec.options)
    return Chart(spec.id, package.name, {lang: words[lang]["title"] for lang in LANGUAGES},
                 {lang: words[lang]["note"] for lang in LANGUAGES}, svg)


def draw_charts(packages: dict[str, Package],
                specs: list[ChartSpec] | None = None) -> list[Chart]:
    """Every chart of charts.yaml whose package is released and whose query has rows."""
    drawn = []
    for spec in load_chart_specs() if specs is None else specs:
        package = packages.get(spec.package)
        chart = draw(spec, package) if package is not None else None
        if chart is not None:
            drawn.append(chart)
    return drawn

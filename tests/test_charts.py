"""paccto_data/site/charts.py: SVG written with plain Python, the same bytes for the same data;
and the charts declared in paccto_data/site/charts.yaml (chart_specs.py)."""

import xml.etree.ElementTree as ET

import pytest
import yaml

from paccto_data.settings import Settings
from paccto_data.site import SiteError, chart_specs, charts
from paccto_data.site.packages import packages_in

SVG = "{http://www.w3.org/2000/svg}"
TEXT = charts.Text(title="Intentional homicide rate by sub-region, 2000–2003",
                   source="Source: UNODC; World Bank & partners <test>.",
                   x_label="Year", y_label="Victims per 100,000 population",
                   note="Population-weighted mean of the country rates.")
SERIES = [charts.Series("Caribbean", ((2000, 10.0), (2001, 11.5), (2003, 12.25))),
          charts.Series("Latin America and the Caribbean", ((2000, 20.0), (2001, 21.0)),
                        dashed=True)]


def texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def drawn() -> dict[str, str]:
    return {
        "line": charts.line_chart(SERIES, TEXT),
        "bar": charts.bar_chart([charts.Bar("Colombia", 3053.2), charts.Bar("Haiti", -1.44,
                                                                            -1.7, -1.2)],
                                charts.Text("Bars", "Source: test", "Tonnes")),
        "heatmap": charts.heatmap(["Chile", "Panama"], ["2017", "2018"],
                                  {("Chile", "2017"): 3, ("Panama", "2018"): 11},
                                  charts.Text("Grid", "Source: test", "Year",
                                              legend_title="activities")),
    }


def test_every_chart_is_an_svg_with_title_axes_labels_and_source():
    for kind, svg in drawn().items():
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg", kind
        assert int(root.get("width")) > 0 and int(root.get("height")) > 0
        assert root.find(f"{SVG}title").text  # for screen readers
        words = texts(svg)
        assert any(w.startswith("Source:") for w in words), kind
        assert root.findall(f"{SVG}line"), kind  # axes and ticks


def test_the_line_chart_says_what_it_shows():
    words = texts(charts.line_chart(SERIES, TEXT))
    for expected in ("Intentional homicide rate by sub-region, 2000–2003", "Year",
                     "Victims per 100,000 population", "Caribbean",
                     "Latin America and the Caribbean", "Population-weighted mean of the "
                     "country rates.", "2000", "2003", "0", "25"):
        assert expected in words, expected
    # the source line keeps its characters, escaped in the file
    assert "Source: UNODC; World Bank & partners <test>." in words


def test_a_missing_year_breaks_the_line_instead_of_bridging_it():
    svg = charts.line_chart(SERIES, TEXT)
    root = ET.fromstring(svg)
    paths = root.findall(f"{SVG}path")
    dots = root.findall(f"{SVG}circle")
    # Caribbean: 2000-2001 is a line, 2003 alone is a dot; LAC: one dashed line
    assert len(paths) == 2 and len(dots) == 1
    assert paths[1].get("stroke-dasharray") == "6 4"


def test_the_same_data_gives_the_same_bytes():
    assert drawn() == drawn()


def test_no_chart_references_anything_outside_itself():
    for svg in drawn().values():
        assert "href" not in svg and "<script" not in svg and "<image" not in svg
        assert svg.count("http://") == 1  # the SVG namespace, nothing else
        assert "https://" not in svg


def test_bars_keep_their_order_values_and_intervals():
    svg = charts.bar_chart([charts.Bar("Uruguay", 1.57, 1.32, 1.82),
                            charts.Bar("Haiti", -1.44, -1.69, -1.19)],
                           charts.Text("WGI", "Source: World Bank", "Estimate"),
                           value_decimals=2)
    words = texts(svg)
    assert words.index("Uruguay") < words.index("Haiti")
    assert "1.57" in words and "-1.44" in words
    assert {"-2", "-1", "0", "1", "2"} <= set(words)  # ticks either side of zero
    rects = [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title")
             is not None]
    assert [r.find(f"{SVG}title").text for r in rects] == ["Uruguay: 1.57", "Haiti: -1.44"]


def test_the_heatmap_prints_counts_and_leaves_zero_cells_empty():
    svg = drawn()["heatmap"]
    cells = {r.find(f"{SVG}title").text: r.get("fill")
             for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert cells["Chile, 2018: 0"] == "#f4f4f4"
    assert cells["Panama, 2018: 11"] == "#0072b2"  # the largest count: the full colour
    assert {"3", "11", "2017", "2018", "activities"} <= set(texts(svg))


@pytest.mark.parametrize("low, high, expected", [
    (0, 3053, [0, 1000, 2000, 3000, 4000]),
    (-1.69, 1.9, [-2, -1, 0, 1, 2]),
    (1990, 2024, [1990, 1995, 2000, 2005, 2010, 2015, 2020, 2025]),
    (0, 0.37, [0, 0.1, 0.2, 0.3, 0.4]),
])
def test_ticks_are_round_numbers_covering_the_data(low, high, expected):
    assert charts.ticks(low, high, 8 if low == 1990 else 5) == expected


def test_numbers_are_formatted_the_same_everywhere():
    assert charts.number(3053.2, 1) == "3,053.2"
    assert charts.number(-0.001, 2) == "0.00"
    assert charts._n(12.345) == "12.3" and charts._n(4.0) == "4" and charts._n(-0.01) == "0"


def test_an_empty_chart_is_refused():
    with pytest.raises(ValueError, match="no points"):
        charts.line_chart([charts.Series("x", ())], TEXT)
    with pytest.raises(ValueError, match="no bars"):
        charts.bar_chart([], TEXT)


# --- charts.yaml ----------------------------------------------------------------------------

PUBLISHED = Settings.from_env().publish_dir
HOMICIDE_BY_YEAR = {
    "id": "homicide_by_year", "package": "lac-homicide", "kind": "line", "source": "UNODC",
    "en": {"title": "Homicide rate, {first}–{last}", "note": "Unweighted mean.",
           "y_label": "Rate"},
    "es": {"title": "Tasa de homicidios, {first}–{last}", "note": "Media sin ponderar.",
           "y_label": "Tasa"},
    "sql": "SELECT 'Mean' AS label, 'Media' AS label_es, year AS x, avg(value) AS y, "
           "false AS dashed, min(year) OVER () AS first, max(year) OVER () AS last "
           "FROM homicide_rate GROUP BY year ORDER BY year",
}


@pytest.fixture(scope="module")
def packages():
    return {p.name: p for p in packages_in(PUBLISHED)}


def specs_from(tmp_path, *entries):
    path = tmp_path / "charts.yaml"
    path.write_text(yaml.safe_dump(list(entries), allow_unicode=True), encoding="utf-8")
    return chart_specs.load_chart_specs(path)


def test_the_declared_charts_are_the_published_ones_byte_for_byte(packages):
    drawn = chart_specs.draw_charts(packages)
    assert [c.id for c in drawn] == [s.id for s in chart_specs.load_chart_specs()]
    for chart in drawn:
        for lang in ("en", "es"):
            assert (PUBLISHED / chart.path(lang)).read_text(encoding="utf-8") == \
                chart.svg[lang], chart.path(lang)


def test_a_chart_declared_in_yaml_is_drawn_in_both_languages(tmp_path, packages):
    (chart,) = chart_specs.draw_charts(packages, specs_from(tmp_path, HOMICIDE_BY_YEAR))
    assert chart.title["en"].startswith("Homicide rate, 19") and chart.path("es") == \
        "charts/homicide_by_year.es.svg"
    assert "Media" in texts(chart.svg["es"]) and "Mean" in texts(chart.svg["en"])
    version = packages["lac-homicide"].descriptor["version"]
    assert f"Fuente: UNODC. Paquete lac-homicide v{version} (EL PAcCTO 2.0 open data)." in \
        texts(chart.svg["es"])


def test_a_chart_of_a_package_not_released_or_without_rows_is_left_out(tmp_path, packages):
    elsewhere = HOMICIDE_BY_YEAR | {"package": "not-released"}
    empty = HOMICIDE_BY_YEAR | {"id": "empty", "sql": HOMICIDE_BY_YEAR["sql"].replace(
        "GROUP BY", "WHERE year < 0 GROUP BY")}
    assert chart_specs.draw_charts(packages, specs_from(tmp_path, elsewhere, empty)) == []


def test_a_chart_whose_sql_fails_is_refused_naming_the_chart(tmp_path, packages):
    broken = HOMICIDE_BY_YEAR | {"sql": "SELECT year AS x FROM homicide_rates"}
    with pytest.raises(SiteError, match=r"chart homicide_by_year .*homicide_rates"):
        chart_specs.draw_charts(packages, specs_from(tmp_path, broken))
    no_y = HOMICIDE_BY_YEAR | {"sql": "SELECT 'a' AS label, 'a' AS label_es, year AS x, "
                                      "false AS dashed FROM homicide_rate"}
    with pytest.raises(SiteError, match=r"chart homicide_by_year .*returns no column y\b"):
        chart_specs.draw_charts(packages, specs_from(tmp_path, no_y))
    unknown = HOMICIDE_BY_YEAR | {"en": HOMICIDE_BY_YEAR["en"] | {"title": "Rate, {year}"}}
    with pytest.raises(SiteError, match=r"chart homicide_by_year .*'year'"):
        chart_specs.draw_charts(packages, specs_from(tmp_path, unknown))


@pytest.mark.parametrize("change, message", [
    ({"es": {"title": "Tasa", "note": "Media."}}, r"chart homicide_by_year: y_label has no "
                                                  r"text in es"),
    ({"kind": "pie"}, r"chart homicide_by_year: kind 'pie' is not one of line, bar, heatmap"),
    ({"options": {"value_decimals": 2}}, r"a line chart has no option value_decimals"),
    ({"colour": "red"}, r"chart homicide_by_year: unknown colour"),
])
def test_a_chart_declaration_that_is_incomplete_is_refused_naming_it(tmp_path, change,
                                                                      message):
    with pytest.raises(SiteError, match=message):
        specs_from(tmp_path, HOMICIDE_BY_YEAR | change)

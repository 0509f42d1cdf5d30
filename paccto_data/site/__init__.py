"""What researchers open in a browser: the catalogue pages, the quality page, the charts and
the catalogue records (catalog.json, DCAT-AP catalog.jsonld) of a release.

    packages.py     what a release folder holds: its packages, their files and coverage
    strings.yaml    every word of the catalogue in English and Spanish (strings.py reads it)
    charts.yaml     the charts: the SQL each runs on its package and the words around it
    chart_specs.py  reads charts.yaml, runs each chart's SQL, draws it with charts.py
    charts.py       the SVG renderer: line, bar and heatmap charts, same data same bytes
    dcat.py         catalog.json and catalog.jsonld
    pages.py        the HTML pages through Jinja2: templates/*.html and style.css
    catalogue.py    write_catalogue / check_catalogue of a release, and publish()

The site reads paccto_data.publication (the packages) and paccto_data.quality (the report's
data); neither imports the site.
"""

from paccto_data.errors import PacctoError


class SiteError(PacctoError):
    """A page, chart or catalogue record cannot be made, or does not match the release."""

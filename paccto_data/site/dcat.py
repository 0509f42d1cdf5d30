"""The catalogue as records for machines: catalog.json (our own shape) and catalog.jsonld
(DCAT-AP 2/3 as JSON-LD, harvestable by data.europa.eu).

catalog.json lists every package with its version, licences, sources, size, coverage
(countries and years) and files (bytes, sha256), the charts, the reports (e.g. the
data-quality report in `quality/`) and the sources the platform does not republish.
catalog.jsonld says the same as a dcat:Catalog: one dcat:Dataset per package, one
dcat:Distribution per file with media type, byte size, sha256 checksum and licence; temporal
and spatial coverage; titles and descriptions in English and Spanish.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from paccto_data.publication.documents import release_tag
from paccto_data.site.packages import Package, not_published
from paccto_data.site.strings import PAGES, strings

if TYPE_CHECKING:
    from paccto_data.site.chart_specs import Chart

# EU Publications Office authority tables (DCAT-AP controlled vocabularies)
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES = {".csv": "CSV", ".parquet": "PARQUET", ".json": "JSON", ".md": "TXT",
              ".cff": "YAML"}
EU_COUNTRY = "http://publications.europa.eu/resource/authority/country/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/JUST"
IANA = "http://www.iana.org/assignments/media-types/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/", "owl": "http://www.w3.org/2002/07/owl#",
    "spdx": "http://spdx.org/rdf/terms#", "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
DEFAULT_PUBLISHER = "EL PAcCTO 2.0 open-data platform"

_GITHUB_TREE = re.compile(r"^https://github\.com/([^/]+)/([^/]+)/tree/([^/]+)/(.+)$")


def download_url(homepage: str, relative: str) -> str:
    """Where a published file can be downloaded: the raw file beside a GitHub folder."""
    match = _GITHUB_TREE.match(homepage)
    if match:
        owner, repo, ref, folder = match.groups()
        parent = folder.rsplit("/", 1)[0]
        return f"https://raw.githubusercontent.com/{owner}/{repo}/{ref}/{parent}/{relative}"
    return f"{homepage.rsplit('/', 1)[0]}/{relative}"


def catalogue_home(packages: list[Package]) -> str:
    homepages = {p.descriptor["homepage"].rsplit("/", 1)[0] for p in packages}
    return sorted(homepages)[0] if homepages else ""


def publisher_of(packages: list[Package]) -> str:
    """The contributor with the role `publisher` in the first package."""
    return next((c["title"] for c in packages[0].descriptor["contributors"]
                 if "publisher" in c.get("roles", ())), DEFAULT_PUBLISHER)


# --- catalog.json ---------------------------------------------------------------------------


def catalogue_record(packages: list[Package], charts: list[Chart], reports: list[dict]) -> dict:
    en, es = strings("en"), strings("es")
    return {
        "title": en["title"], "title_es": es["title"],
        "description": en["intro"], "description_es": es["intro"],
        "homepage": catalogue_home(packages),
        "pages": {"en": PAGES["en"], "es": PAGES["es"], "dcat": "catalog.jsonld"},
        "packages": [{
            "name": p.name,
            "title": p.descriptor["title"], "title_es": p.descriptor["title_es"],
            "description": p.descriptor["description"],
            "description_es": p.descriptor["description_es"],
            "version": p.descriptor["version"],
            "tag": release_tag(p.name, p.descriptor["version"]),
            "created": p.descriptor["created"],
            "id": p.descriptor["id"],
            "path": f"{p.name}/datapackage.json",
            "homepage": p.descriptor["homepage"],
            "citation_url": p.citation.get("url"),
            "licenses": p.descriptor["licenses"],
            "sources": [{"title": s["title"], "publisher": s["publisher"],
                         "version": s["version"]} for s in p.descriptor["sources"]],
            "bytes": p.bytes,
            "coverage": p.coverage,
            "files": [{k: f[k] for k in ("path", "resource", "format", "mediatype", "rows",
                                         "bytes", "sha256")} for f in p.files],
        } for p in packages],
        "charts": [{"id": c.id, "package": c.package, "title": c.title["en"],
                    "title_es": c.title["es"], "path": c.path("en"), "path_es": c.path("es")}
                   for c in charts],
        "reports": reports,
        "not_published": not_published(),
    }


# --- catalog.jsonld -------------------------------------------------------------------------


def _both(en: str, es: str) -> list[dict]:
    return [{"@value": en, "@language": "en"}, {"@value": es, "@language": "es"}]


def _licence_node(licence: dict) -> dict:
    node = {"@id": licence["path"], "@type": "dct:LicenseDocument",
            "dct:title": licence["title"]}
    if licence.get("name"):
        node["dct:identifier"] = licence["name"]
    return node


def _distribution(homepage: str, f: dict) -> dict:
    """One file of a package."""
    suffix = Path(f["path"]).suffix
    url = download_url(homepage, f["path"])
    node = {
        "@id": url,
        "@type": "dcat:Distribution",
        "dct:title": _both(f["title"], f["title_es"]),
        "dcat:accessURL": {"@id": homepage},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {"@id": IANA + f["mediatype"]},
        "dcat:byteSize": {"@value": str(f["bytes"]), "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
            "spdx:checksumValue": {"@value": f["sha256"], "@type": "xsd:hexBinary"}},
        "dct:license": [_licence_node(lic) for lic in f["licenses"]],
    }
    if suffix in FILE_TYPES:
        node["dct:format"] = {"@id": EU_FILE_TYPE + FILE_TYPES[suffix]}
    if f["resource"] and f["format"] == "csv":
        node["dct:conformsTo"] = {"@id": "https://datapackage.org/standard/table-schema/"}
    return node


def _dataset(p: Package, agent: dict, publisher: str, home: str) -> dict:
    """One package."""
    d = p.descriptor
    coverage = p.coverage
    dataset = {
        "@id": d["homepage"],
        "@type": "dcat:Dataset",
        "dct:identifier": f"urn:uuid:{d['id']}",
        "dct:title": _both(d["title"], d["title_es"]),
        "dct:description": _both(d["description"], d["description_es"]),
        "owl:versionInfo": d["version"],
        "dcat:version": d["version"],
        "dcat:keyword": d["keywords"],
        "dcat:theme": {"@id": EU_THEME},
        "dct:publisher": agent,
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": publisher,
                              "vcard:hasURL": {"@id": home or d["homepage"]}},
        "dcat:landingPage": {"@id": d["homepage"]},
        "dct:language": [{"@id": EU_LANGUAGE + "ENG"}, {"@id": EU_LANGUAGE + "SPA"}],
        "dct:spatial": [{"@id": EU_COUNTRY + code} for code in coverage["iso3"]],
        "dct:source": [{"@type": "dcat:Dataset", "dct:title": s["title"],
                        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": s["publisher"]},
                        "dcat:landingPage": {"@id": s["path"]},
                        "owl:versionInfo": s["version"]} for s in d["sources"]],
        "dcat:distribution": [_distribution(d["homepage"], f) for f in p.files],
    }
    if coverage["first_year"] is not None:
        dataset["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": {"@value": f"{coverage['first_year']}-01-01",
                               "@type": "xsd:date"},
            "dcat:endDate": {"@value": f"{coverage['last_year']}-12-31", "@type": "xsd:date"}}
    return dataset


def dcat_record(packages: list[Package]) -> dict:
    """DCAT-AP 2/3 as JSON-LD: harvestable by data.europa.eu."""
    en, es = strings("en"), strings("es")
    home = catalogue_home(packages)
    publisher = publisher_of(packages)
    agent = {"@type": "foaf:Agent", "foaf:name": publisher}
    return {
        "@context": CONTEXT,
        "@id": download_url(packages[0].descriptor["homepage"], "catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": _both(en["title"], es["title"]),
        "dct:description": _both(en["intro"], es["intro"]),
        "dct:publisher": agent,
        "dct:language": [{"@id": EU_LANGUAGE + "ENG"}, {"@id": EU_LANGUAGE + "SPA"}],
        "dcat:themeTaxonomy": {
            "@id": "http://publications.europa.eu/resource/authority/data-theme"},
        "dcat:dataset": [_dataset(p, agent, publisher, home) for p in packages],
    } | ({"foaf:homepage": {"@id": home}} if home else {})

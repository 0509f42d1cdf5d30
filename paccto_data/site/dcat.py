"""The catalogue as records for machines: catalog.json (our own shape) and catalog.jsonld
(DCAT-AP 3.0.1 as JSON-LD, harvestable by data.europa.eu).

catalog.json lists every package with its version, licences, sources, size, coverage
(countries and years) and files (bytes, sha256), the charts, the reports (e.g. the
data-quality report in `quality/`) and the sources the platform does not republish.

catalog.jsonld says the same as a dcat:Catalog that validates against the official DCAT-AP
3.0.1 SHACL shapes, the controlled-vocabulary shapes and the recommended ones
(tests/standards/dcat-ap-3.0.1/, checked by tests/test_dcat_shacl.py). It is one JSON-LD
`@graph`: first the catalogue, with one dcat:Dataset per package and one dcat:Distribution
per file (media type, EU file type, byte size, sha256 checksum, one licence, availability);
then every node those refer to, each written once with its class, as the shapes require:

- the EU controlled vocabularies (dcat.yaml): countries as dct:Location with dcat:bbox and
  dcat:centroid (locations.yaml), languages, file types, the licence, frequencies, data
  themes, planned availability, each a skos:Concept with its skos:inScheme and labels;
- agents (foaf:Agent with an ADMS publisher type), contact points (vcard:Kind), landing pages
  and home pages (foaf:Document), standards (dct:Standard), licences (dct:LicenseDocument
  with an ADMS licence type) and rights statements;
- the sources each package is built from (dct:source), as dcat:Dataset with the publisher's
  own files as distributions.

Node identifiers: the catalogue is the URL catalog.jsonld is downloaded from; a package is
`<catalogue>#<name>` (the same across versions: `dct:identifier` names the version), a file
`<catalogue>#<name>/<path>`, a source `<catalogue>#source-<id>`. Titles and descriptions are
given in English and Spanish; nothing comes from the clock.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from paccto_data.fileio import read_yaml
from paccto_data.publication.documents import release_tag
from paccto_data.site import SiteError
from paccto_data.site.packages import Package, not_published, reading
from paccto_data.site.strings import PAGES, strings

if TYPE_CHECKING:
    from paccto_data.site.chart_specs import Chart

DCAT_FILE = Path(__file__).with_name("dcat.yaml")
LOCATIONS_FILE = Path(__file__).with_name("locations.yaml")

AUTHORITY = "http://publications.europa.eu/resource/authority/"
ADMS = "http://purl.org/adms/"
IANA = "https://www.iana.org/assignments/media-types/"
SHA256 = "https://spdx.org/rdf/terms#checksumAlgorithm_sha256"
EARTH = "https://sws.geonames.org/6295630/"  # GeoNames: Earth
TABLE_SCHEMA = "https://datapackage.org/standard/table-schema/"
DATA_PACKAGE = "https://datapackage.org/standard/data-package/"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/", "foaf": "http://xmlns.com/foaf/0.1/",
    "gsp": "http://www.opengis.net/ont/geosparql#", "owl": "http://www.w3.org/2002/07/owl#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "spdx": "http://spdx.org/rdf/terms#",
    "vcard": "http://www.w3.org/2006/vcard/ns#", "xsd": "http://www.w3.org/2001/XMLSchema#",
}
DEFAULT_PUBLISHER = "EL PAcCTO 2.0 open-data platform"
DOCUMENT_KEYS = {"README.md": "doc_readme", "datapackage.json": "doc_datapackage",
                 "CITATION.cff": "doc_citation", "CHANGELOG.md": "doc_changelog"}

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


def publisher_contributor(packages: list[Package]) -> dict:
    """The contributor with the role `publisher` in the first package."""
    return next((c for c in packages[0].descriptor["contributors"]
                 if "publisher" in c.get("roles", ())), {"title": DEFAULT_PUBLISHER})


def publisher_of(packages: list[Package]) -> str:
    return publisher_contributor(packages)["title"]


@cache
def terms() -> dict:
    return read_yaml(DCAT_FILE)


@cache
def locations() -> dict[str, dict]:
    return read_yaml(LOCATIONS_FILE)


# --- catalog.json ---------------------------------------------------------------------------


def catalogue_record(packages: list[Package], charts: list[Chart], reports: list[dict],
                     profiles: list[dict] | None = None) -> dict:
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
        "profiles": profiles or [],
        "reports": reports,
        "not_published": not_published(),
    }


# --- catalog.jsonld: the nodes --------------------------------------------------------------


def _both(en: str, es: str) -> list[dict]:
    return [{"@value": en, "@language": "en"}, {"@value": es, "@language": "es"}]


def _labels(texts: dict) -> list[dict]:
    return _both(texts["en"], texts["es"])


def _ref(iri: str) -> dict:
    return {"@id": iri}


def _date(day: str) -> dict:
    return {"@value": day, "@type": "xsd:date"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Nodes:
    """Every node the datasets refer to, by IRI, each described once (types and properties
    merged when two uses describe it), written after the catalogue in a stable order."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}

    def add(self, iri: str, types: str | list[str], **properties) -> dict:
        node = self.nodes.setdefault(iri, {"@id": iri, "@type": []})
        for kind in [types] if isinstance(types, str) else types:
            if kind not in node["@type"]:
                node["@type"].append(kind)
        for key, value in properties.items():
            key = key.replace("__", ":")
            if key not in node:
                node[key] = value
            elif node[key] != value:
                raise SiteError(f"catalog.jsonld: {iri} is described twice with different "
                                f"{key}: {node[key]!r} and {value!r}")
        return _ref(iri)

    def scheme(self, iri: str, title: str) -> dict:
        return self.add(iri, "skos:ConceptScheme", dct__title=title)

    def concept(self, iri: str, scheme: str, scheme_title: str, labels: dict,
                types: tuple[str, ...] = ()) -> dict:
        return self.add(iri, ["skos:Concept", *types], skos__inScheme=self.scheme(
            scheme, scheme_title), skos__prefLabel=_labels(labels))

    def authority(self, table: str, code: str, title: str, labels: dict,
                  types: tuple[str, ...] = ()) -> dict:
        """A concept of an EU authority table, e.g. ("language", "ENG")."""
        return self.concept(f"{AUTHORITY}{table}/{code}", f"{AUTHORITY}{table}", title,
                            labels, types)

    def document(self, iri: str) -> dict:
        return self.add(iri, "foaf:Document")

    def standard(self, iri: str, title: str) -> dict:
        return self.add(iri, "dct:Standard", dct__title=title)

    def language(self, code: str) -> dict:
        return self.authority("language", code, "Languages (EU authority table)",
                              terms()["languages"][code], ("dct:LinguisticSystem",))

    def theme(self, code: str) -> dict:
        return self.authority("data-theme", code, "Data themes (EU authority table)",
                              terms()["theme_labels"][code])

    def availability(self) -> dict:
        return self.authority("planned-availability", "STABLE",
                              "Planned availability (EU authority table)",
                              {"en": "stable", "es": "estable"})

    def frequency(self, cadence: str) -> dict:
        entry = terms()["frequencies"][cadence]
        return self.authority("frequency", entry["code"], "Frequencies (EU authority table)",
                              entry, ("dct:Frequency",))

    def file_type(self, suffix: str) -> tuple[dict | None, dict | None]:
        """(dct:format, dcat:mediaType) of a file with this suffix or format."""
        entry = terms()["file_types"].get(suffix)
        if entry is None:
            return None, None
        code = entry["code"]
        media = self.add(IANA + entry["media"], "dct:MediaType")
        return self.authority("file-type", code, "File types (EU authority table)",
                              {"en": code, "es": code}, ("dct:MediaTypeOrExtent",)), media

    def location(self, iso3: str, names: dict[str, dict]) -> dict:
        where = locations().get(iso3)
        if where is None:
            raise SiteError(f"catalog.jsonld: no location for {iso3} in {LOCATIONS_FILE.name}: "
                            "add its bounding box and centroid")
        name = names.get(iso3, {"en": iso3, "es": iso3})
        west, south, east, north = where["bbox"]
        x, y = where["centroid"]
        self.authority("country", iso3, "Countries and territories (EU authority table)",
                       name, ("dct:Location",))
        return self.add(f"{AUTHORITY}country/{iso3}", "dct:Location",
                        dcat__bbox=_wkt(f"POLYGON(({west} {south}, {east} {south}, "
                                        f"{east} {north}, {west} {north}, {west} {south}))"),
                        dcat__centroid=_wkt(f"POINT({x} {y})"))

    def earth(self) -> dict:
        return self.add(EARTH, "dct:Location", skos__prefLabel=_both("Earth", "Tierra"),
                        dcat__bbox=_wkt("POLYGON((-180 -90, 180 -90, 180 90, -180 90, "
                                        "-180 -90))"),
                        dcat__centroid=_wkt("POINT(0 0)"))

    def agent(self, name: str) -> dict:
        """An agent by its name; its IRI and ADMS type from dcat.yaml."""
        entry = terms()["publishers"].get(name)
        iri = entry["iri"] if entry else f"urn:paccto:agent:{_slug(name)}"
        properties = {"foaf__name": name}
        if entry:
            kind = entry["type"]
            properties["dct__type"] = self.concept(
                f"{ADMS}publishertype/{kind}", f"{ADMS}publishertype/1.0",
                "ADMS publisher types", terms()["publisher_types"][kind])
        return self.add(iri, ["foaf:Agent", "foaf:Organization"], **properties)

    def contact(self, name: str, url: str) -> dict:
        return self.add(f"{url}#contact" if "#" not in url else f"{url}-contact",
                        ["vcard:Kind", "vcard:Organization"], vcard__fn=name,
                        vcard__hasURL=_ref(url))

    def licence(self, licence: dict) -> dict:
        """A licence of a package or source ({name (SPDX), path, title}) as a
        dct:LicenseDocument: the EU vocabulary's IRI where it has the licence."""
        known = terms()["licences"].get(licence.get("name") or "", {})
        kind = known.get("type") or terms()["terms"].get(licence["path"])
        properties = {}
        if kind:
            properties["dct__type"] = self.concept(
                f"{ADMS}licencetype/{kind}", f"{ADMS}licencetype/1.0", "ADMS licence types",
                terms()["licence_types"][kind])
        if known.get("eu"):
            iri = f"{AUTHORITY}licence/{known['eu']}"
            self.concept(iri, f"{AUTHORITY}licence", "Licences (EU authority table)", known)
            properties["rdfs__seeAlso"] = _ref(licence["path"])
        else:
            iri = licence["path"]
            properties["dct__title"] = licence["title"]
        return self.add(iri, "dct:LicenseDocument", **properties)

    def rights(self, licence: dict) -> dict:
        """A licence that is not a distribution's one dct:license, as a rights statement."""
        self.licence(licence)
        return self.add(licence_iri(licence), "dct:RightsStatement")

    def graph(self) -> list[dict]:
        return [self.nodes[iri] for iri in sorted(self.nodes)]


def _wkt(text: str) -> dict:
    return {"@value": text, "@type": "gsp:wktLiteral"}


def licence_iri(licence: dict) -> str:
    known = terms()["licences"].get(licence.get("name") or "", {})
    return f"{AUTHORITY}licence/{known['eu']}" if known.get("eu") else licence["path"]


def split_licences(licences: list[dict]) -> tuple[dict, list[dict]]:
    """A distribution's one dct:license (the first in the EU vocabulary, else the first) and
    the others (its dct:rights)."""
    if not licences:
        raise SiteError("catalog.jsonld: a file has no licence")
    eu = [lic for lic in licences
          if terms()["licences"].get(lic.get("name") or "", {}).get("eu")]
    chosen = (eu or licences)[0]
    return chosen, [lic for lic in licences if lic is not chosen]


# --- catalog.jsonld: the catalogue, its datasets and distributions --------------------------


class Catalogue:
    def __init__(self, packages: list[Package]) -> None:
        from paccto_data.acquire import records

        self.packages = packages
        self.iri = download_url(packages[0].descriptor["homepage"], "catalog.jsonld")
        self.home = catalogue_home(packages)
        self.nodes = Nodes()
        self.sources = records.sources()
        self.names = country_names(packages)

    def distribution(self, p: Package, f: dict) -> dict:
        homepage = p.descriptor["homepage"]
        suffix = Path(f["path"]).suffix.lstrip(".")
        licence, others = split_licences(f["licenses"])
        fmt, media = self.nodes.file_type(suffix)
        name = Path(f["path"]).name
        if f["resource"] is not None:
            table = f["resource"].removesuffix("_parquet")
            description = {lang: strings(lang)["dist_table"].format(
                table=table, title=f["title_es" if lang == "es" else "title"],
                format=suffix.upper(), rows=f"{f['rows']:,}".replace(",", "." if lang == "es"
                                                                     else ","))
                for lang in ("en", "es")}
        else:
            description = {lang: strings(lang)[DOCUMENT_KEYS[name]] for lang in ("en", "es")}
        node = {
            "@id": f"{self.iri}#{f['path']}",
            "@type": "dcat:Distribution",
            "dct:title": _both(f["title"], f["title_es"]),
            "dct:description": _labels(description),
            "dcat:accessURL": _ref(homepage),
            "dcat:downloadURL": _ref(download_url(homepage, f["path"])),
            "dcat:mediaType": media,
            "dct:format": fmt,
            "dcat:byteSize": {"@value": str(f["bytes"]), "@type": "xsd:nonNegativeInteger"},
            "spdx:checksum": {
                "@type": "spdx:Checksum",
                "spdx:algorithm": self.nodes.add(SHA256, "spdx:ChecksumAlgorithm"),
                "spdx:checksumValue": {"@value": f["sha256"], "@type": "xsd:hexBinary"}},
            "dct:license": self.nodes.licence(licence),
            "dcatap:availability": self.nodes.availability(),
        }
        if others:
            node["dct:rights"] = [self.nodes.rights(lic) for lic in others]
        if f["resource"] and f["format"] == "csv":
            node["dct:conformsTo"] = self.nodes.standard(TABLE_SCHEMA, "Table Schema "
                                                         "(Frictionless Data)")
        if fmt is None:
            del node["dct:format"], node["dcat:mediaType"]
        return node

    def source(self, entry: dict) -> dict:
        """A source a package is built from (its datapackage.json `sources` entry), as a
        dcat:Dataset with the publisher's files."""
        source = next((s for s in self.sources.values()
                       if s.title == entry["title"] and s.homepage == entry["path"]), None)
        if source is None:
            raise SiteError(f"catalog.jsonld: the source {entry['title']!r} is not in "
                            "assets/sources/")
        iri = f"{self.iri}#source-{source.id}"
        if iri in self.nodes.nodes:
            return _ref(iri)
        t = terms()
        spatial = t["source_spatial"].get(source.id, "world")
        if isinstance(spatial, dict):
            package = next((p for p in self.packages if p.name == spatial["package"]), None)
            codes = package.coverage["iso3"] if package else []
            where = [self.nodes.location(c, self.names) for c in codes] or [self.nodes.earth()]
        else:
            where = [self.nodes.earth()]
        coverage = source.coverage or {}
        first = coverage.get("first_year") or int(source.vintage[:4])
        last = coverage.get("last_year") or int(source.vintage[:4])
        files = []
        for f in source.files:
            fmt, media = self.nodes.file_type(f.format)
            licence = {"name": (f.licence or source.licence).get("spdx"),
                       "path": (f.licence or source.licence)["url"],
                       "title": (f.licence or source.licence)["name"]}
            distribution = {
                "@id": f"{iri}/{f.id}",
                "@type": "dcat:Distribution",
                "dct:title": f.name,
                "dct:description": _labels({lang: strings(lang)["dist_source"].format(
                    name=f.name, publisher=source.publisher) for lang in ("en", "es")}),
                "dcat:accessURL": _ref(source.homepage),
                "dcat:downloadURL": _ref(f.url),
                "dct:license": self.nodes.licence(licence),
                "dcatap:availability": self.nodes.availability(),
            }
            if fmt is not None:
                distribution |= {"dct:format": fmt, "dcat:mediaType": media}
            files.append(distribution)
        description = " ".join((source.description or source.title).split())
        self.nodes.add(
            iri, "dcat:Dataset",
            dct__title={"@value": source.title, "@language": "en"},
            dct__description={"@value": description, "@language": "en"},
            dct__publisher=self.nodes.agent(source.publisher),
            dcat__contactPoint=self.nodes.contact(source.publisher, source.homepage),
            dcat__landingPage=self.nodes.document(source.homepage),
            dcat__keyword=t["source_keywords"].get(source.id, [source.title]),
            dcat__theme=[self.nodes.theme(c) for c in t["source_themes"].get(
                source.id, t["source_themes"]["default"])],
            dct__spatial=where,
            dct__temporal={"@type": "dct:PeriodOfTime",
                           "dcat:startDate": _date(f"{first}-01-01"),
                           "dcat:endDate": _date(f"{last}-12-31")},
            owl__versionInfo=source.vintage,
            dcat__distribution=files,
        )
        return _ref(iri)

    def frequency(self, p: Package) -> dict | None:
        order = list(terms()["frequencies"])
        cadences = [s.release["cadence"] for s in self.sources.values()
                    if s.release and s.release.get("cadence") in order
                    and any(e["title"] == s.title and e["path"] == s.homepage
                            for e in p.descriptor["sources"])]
        return self.nodes.frequency(min(cadences, key=order.index)) if cadences else None

    def dataset(self, p: Package, agent: dict, contact: dict) -> dict:
        d = p.descriptor
        coverage = p.coverage
        t = terms()
        dataset = {
            "@id": f"{self.iri}#{p.name}",
            "@type": "dcat:Dataset",
            "dct:identifier": f"urn:uuid:{d['id']}",
            "dct:title": _both(d["title"], d["title_es"]),
            "dct:description": _both(d["description"].strip(), d["description_es"].strip()),
            "owl:versionInfo": d["version"],
            "dcat:version": d["version"],
            "dct:modified": _date(d["created"][:10]),
            "dcat:keyword": d["keywords"],
            "dcat:theme": [self.nodes.theme(c) for c in t["themes"].get(
                p.name, t["themes"]["default"])],
            "dct:publisher": agent,
            "dcat:contactPoint": contact,
            "dcat:landingPage": self.nodes.document(d["homepage"]),
            "dct:conformsTo": self.nodes.standard(DATA_PACKAGE, "Data Package (Frictionless "
                                                  "Data), version 2"),
            "dct:language": [self.nodes.language("ENG"), self.nodes.language("SPA")],
            "dct:spatial": [self.nodes.location(code, self.names)
                            for code in coverage["iso3"]],
            "dct:source": [self.source(s) for s in d["sources"]],
            "dcat:distribution": [self.distribution(p, f) for f in p.files],
        }
        frequency = self.frequency(p)
        if frequency is not None:
            dataset["dct:accrualPeriodicity"] = frequency
        if coverage["first_year"] is not None:
            dataset["dct:temporal"] = {
                "@type": "dct:PeriodOfTime",
                "dcat:startDate": _date(f"{coverage['first_year']}-01-01"),
                "dcat:endDate": _date(f"{coverage['last_year']}-12-31")}
        return dataset

    def record(self) -> dict:
        en, es = strings("en"), strings("es")
        contributor = publisher_contributor(self.packages)
        name = contributor["title"]
        agent = self.nodes.agent(name)
        contact = self.nodes.contact(name, contributor.get("path") or self.home)
        datasets = [self.dataset(p, agent, contact) for p in self.packages]
        spatial = sorted({s["@id"] for d in datasets for s in d["dct:spatial"]})
        catalogue_licence = terms()["licences"][terms()["catalogue"]["licence"]]
        catalogue = {
            "@id": self.iri,
            "@type": "dcat:Catalog",
            "dct:title": _both(en["title"], es["title"]),
            "dct:description": _both(en["intro"], es["intro"]),
            "dct:publisher": agent,
            "dct:issued": _date(terms()["catalogue"]["issued"]),
            "dct:modified": _date(max(p.descriptor["created"][:10] for p in self.packages)),
            "dct:license": self.nodes.licence({
                "name": terms()["catalogue"]["licence"], "title": catalogue_licence["en"],
                "path": "https://creativecommons.org/licenses/by/4.0/"}),
            "dct:language": [self.nodes.language("ENG"), self.nodes.language("SPA")],
            "dct:spatial": [_ref(iri) for iri in spatial],
            "dcat:themeTaxonomy": self.nodes.scheme(f"{AUTHORITY}data-theme",
                                                    "Data themes (EU authority table)"),
            "dcat:dataset": datasets,
        }
        if self.home:
            catalogue["foaf:homepage"] = self.nodes.document(self.home)
        return {"@context": CONTEXT, "@graph": [catalogue, *self.nodes.graph()]}


def country_names(packages: list[Package]) -> dict[str, dict]:
    """English and Spanish names of every country in the packages' `countries` tables."""
    names: dict[str, dict] = {}
    with reading() as con:
        for p in packages:
            path = p.tables().get("countries")
            if path is None:
                continue
            for iso3, en, es in con.execute(
                    "SELECT iso3, name_en, name_es FROM read_parquet(?) ORDER BY iso3",
                    [str(path)]).fetchall():
                names.setdefault(iso3, {"en": en, "es": es})
    return names


def dcat_record(packages: list[Package]) -> dict:
    """DCAT-AP 3.0.1 as JSON-LD: harvestable by data.europa.eu."""
    return Catalogue(packages).record()

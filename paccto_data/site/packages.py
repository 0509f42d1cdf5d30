"""What a release folder holds: its packages (each `<root>/<name>/datapackage.json` and the
files it lists), their coverage, the reports beside them, and the sources not republished.

Everything is read from the files in the folder and from the source catalogue
(assets/sources/), never from the clock: the same packages give the same records.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from paccto_data.fileio import read_yaml, sha256_of
from paccto_data.publication.spec import COUNTRIES, RESERVED_FOLDERS
from paccto_data.publication.tables import PARQUET_SUFFIX
from paccto_data.site import SiteError
from paccto_data.site.strings import strings

DOCUMENTS = ("README.md", "datapackage.json", "CITATION.cff", "CHANGELOG.md")
MEDIA_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet",
               ".json": "application/json", ".md": "text/markdown",
               ".cff": "application/yaml", ".html": "text/html", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Package:
    name: str
    folder: Path
    descriptor: dict
    citation: dict
    files: tuple[dict, ...]  # data files, then documents
    coverage: dict

    @property
    def bytes(self) -> int:
        return sum(f["bytes"] for f in self.files)

    def title(self, lang: str) -> str:
        return self.descriptor["title_es" if lang == "es" else "title"]

    def description(self, lang: str) -> str:
        return self.descriptor["description_es" if lang == "es" else "description"]

    def tables(self) -> dict[str, Path]:
        """The Parquet file of every table, by table name (charts read Parquet: typed, fast)."""
        return {r["name"].removesuffix(PARQUET_SUFFIX): self.folder / r["path"]
                for r in self.descriptor["resources"] if r["format"] == "parquet"}

    def sql(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """`reading(self.tables())`: each table of the package a view of the same name."""
        return reading(self.tables())


_SCRATCH = threading.local()


@contextmanager
def reading(tables: dict[str, Path] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for reading Parquet files, each of `tables` (name -> file) a view of that
    name, and whatever temporary table the caller makes; all of it is gone when the block
    ends. The one way the site queries a release folder: a connection to this thread's
    in-memory DuckDB, whose temporary views no other connection sees (a new in-memory DuckDB
    costs about 25 ms, a connection to one about 1 ms; a release reads about 20 times)."""
    database = getattr(_SCRATCH, "database", None)
    if database is None:
        database = _SCRATCH.database = duckdb.connect()
    con = database.cursor()
    try:
        for name, path in (tables or {}).items():
            location = str(path).replace("'", "''")
            con.execute(f'CREATE TEMP VIEW "{name}" AS SELECT * FROM read_parquet(\'{location}\')')
        yield con
    finally:
        con.close()


def packages_in(root: Path) -> list[Package]:
    return [read_package(root, p.parent) for p in sorted(root.glob("*/datapackage.json"))]


def read_package(root: Path, folder: Path) -> Package:
    import pyarrow.parquet as pq  # imported when used: loading the Definitions stays quick

    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    citation = read_yaml(folder / "CITATION.cff")
    files = []
    for r in descriptor["resources"]:
        path = folder / r["path"]
        files.append({
            "path": path.relative_to(root).as_posix(), "resource": r["name"],
            "title": r["title"], "title_es": r.get("title_es", r["title"]),
            "format": r["format"], "mediatype": r["mediatype"],
            "rows": pq.read_metadata(path).num_rows if r["format"] == "parquet" else
            _csv_rows(descriptor, r, folder),
            "bytes": path.stat().st_size, "sha256": r["hash"].removeprefix("sha256:"),
            "licenses": r["licenses"],
        })
    for name in DOCUMENTS:
        path = folder / name
        files.append({"path": path.relative_to(root).as_posix(), "resource": None,
                      "title": name, "title_es": name, "format": path.suffix[1:],
                      "mediatype": MEDIA_TYPES[path.suffix], "rows": None,
                      "bytes": path.stat().st_size, "sha256": sha256_of(path),
                      "licenses": descriptor["licenses"]})
    return Package(folder.name, folder, descriptor, citation, tuple(files),
                   coverage_of(folder, descriptor))


def _csv_rows(descriptor: dict, resource: dict, folder: Path) -> int:
    """A CSV's rows are its Parquet twin's (validated equal before any release)."""
    import pyarrow.parquet as pq

    for r in descriptor["resources"]:
        if r["name"] == resource["name"] + PARQUET_SUFFIX:
            return pq.read_metadata(folder / r["path"]).num_rows
    raise SiteError(f"{folder.name}/{resource['path']}: no Parquet twin")


def coverage_of(folder: Path, descriptor: dict) -> dict:
    """Countries (the `iso3` of every table but `countries`) and years (`year`, else
    `start_year`) of a package's data."""
    codes: set[str] = set()
    years: list[int] = []
    rows = 0
    tables = 0
    with reading() as con:
        for r in descriptor["resources"]:
            if r["format"] != "parquet":
                continue
            tables += 1
            fields = [f["name"] for f in r["schema"]["fields"]]
            path = str(folder / r["path"])
            rows += con.execute("SELECT count(*) FROM read_parquet(?)", [path]).fetchall()[0][0]
            name = r["name"].removesuffix(PARQUET_SUFFIX)
            if name == COUNTRIES:
                continue
            if "iso3" in fields:
                codes |= {row[0] for row in con.execute(
                    "SELECT DISTINCT iso3 FROM read_parquet(?) WHERE iso3 IS NOT NULL",
                    [path]).fetchall()}
            year = "year" if "year" in fields else "start_year" if "start_year" in fields \
                else None
            if year:
                low, high = con.execute(f'SELECT min("{year}"), max("{year}") '
                                        "FROM read_parquet(?)", [path]).fetchall()[0]
                if low is not None:
                    years += [low, high]
    return {"countries": len(codes), "iso3": sorted(codes),
            "first_year": min(years) if years else None,
            "last_year": max(years) if years else None,
            "rows": rows, "tables": tables}


def not_published() -> list[dict]:
    """Sources the platform holds but may not republish, with the publisher's own file."""
    from paccto_data.acquire import records

    out = []
    for source in records.sources().values():
        if source.is_open:
            continue
        out.append({"source_id": source.id, "title": source.title,
                    "publisher": source.publisher, "licence": source.licence.get("name"),
                    "licence_url": source.licence.get("url"),
                    "redistribution": source.redistribution, "homepage": source.homepage,
                    "files": [f.url for f in source.files]})
    return out


def reports_in(root: Path) -> list[dict]:
    """Folders of the release that are not packages but have a page (e.g. quality/); the
    title of `<name>/index.html` is the string `<name>_report` of strings.yaml."""
    en, es = strings("en"), strings("es")
    return [{"folder": name, "path": f"{name}/index.html",
             "title": en.get(f"{name}_report", name), "title_es": es.get(f"{name}_report", name)}
            for name in sorted(RESERVED_FOLDERS) if (root / name / "index.html").is_file()]

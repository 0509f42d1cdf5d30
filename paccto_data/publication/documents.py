"""The documents of a package: datapackage.json (Data Package v2), CITATION.cff and
README.md, all from the spec, the tables and the source records.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable

import pyarrow.compute as pc
import yaml

from paccto_data.publication.licences import SourceRecord
from paccto_data.publication.spec import FieldSpec, PackageSpec, ResourceSpec
from paccto_data.publication.tables import (
    MISSING,
    PARQUET_MISSING,
    PARQUET_SUFFIX,
    FileReport,
    table_schema_type,
)

DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"


def licence_entry(source: SourceRecord) -> dict:
    entry = {"name": source.licence_spdx} if source.licence_spdx else {}
    return {**entry, "path": source.licence_url, "title": source.licence}


def source_entry(source: SourceRecord) -> dict:
    """A `sources` entry; `files` lists each file the rows' `source_file` may name, where it
    is downloaded and its sha256."""
    entry = {"title": source.title, "path": source.homepage, "version": source.vintage,
             "publisher": source.publisher, "citation": source.citation}
    if source.files:
        entry["files"] = [{"name": name, "path": url, "hash": f"sha256:{sha256}"}
                          for name, url, sha256 in source.files]
    return entry


def _unique(entries: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for entry in entries:
        key = json.dumps(entry, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def field_descriptor(spec: FieldSpec, kind: str, primary_key: tuple[str, ...]) -> dict:
    constraints = dict(spec.constraints)
    if spec.name in primary_key:
        constraints["required"] = True
    descriptor = {"name": spec.name, "type": kind, "description": spec.description}
    if spec.description_es:
        descriptor["description_es"] = spec.description_es
    if spec.unit:
        descriptor["unit"] = spec.unit
    if constraints:
        descriptor["constraints"] = {k: constraints[k] for k in sorted(constraints)}
    return descriptor


def table_schema(resource: ResourceSpec, table, suffix: str = "") -> dict:
    kinds = {f.name: table_schema_type(f.type) for f in table.schema}
    schema = {
        "fields": [field_descriptor(f, kinds[f.name], resource.primary_key)
                   for f in resource.fields],
        # frictionless 5.21 reads Parquet through pandas, which turns a null number (or a
        # null in an integer column) into NaN; "nan" marks it missing there, as "" in a CSV
        "missingValues": PARQUET_MISSING if suffix == PARQUET_SUFFIX else [MISSING],
        "primaryKey": list(resource.primary_key),
    }
    if resource.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(fk["fields"]),
             "reference": {"resource": fk["reference"]["resource"] + suffix,
                           "fields": list(fk["reference"]["fields"])}}
            for fk in resource.foreign_keys]
    return schema


def describe(spec: PackageSpec, tables: dict, derivation: dict, sources: dict[str, SourceRecord],
             files: list[FileReport], created: str) -> dict:
    resources = []
    for r in spec.resources:
        used = sorted({s for ids in derivation[r.name].values() for s in ids})
        for report in (f for f in files if f.resource == r.name):
            parquet = report.format == "parquet"
            entry = {
                "name": r.name + (PARQUET_SUFFIX if parquet else ""),
                "type": "table",
                "title": r.title + (" (Parquet)" if parquet else ""),
                "title_es": r.title_es + (" (Parquet)" if parquet else ""),
                "description": r.description,
                "description_es": r.description_es,
                "path": report.path,
                "format": report.format,
                "mediatype": "application/vnd.apache.parquet" if parquet else "text/csv",
            }
            if not parquet:
                # frictionless 5.21 cannot count a Parquet file's bytes and reports any
                # `bytes` there as a mismatch; its sha256 `hash` pins the bytes anyway.
                entry["encoding"] = "utf-8"
                entry["bytes"] = report.bytes
            entry.update({
                "hash": f"sha256:{report.sha256}",
                "licenses": _unique(licence_entry(sources[s]) for s in used),
                "sources": [source_entry(sources[s]) for s in used],
                "schema": table_schema(r, tables[r.name], PARQUET_SUFFIX if parquet else ""),
            })
            resources.append(entry)
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    return {
        "$schema": DATAPACKAGE_PROFILE,
        "name": spec.name,
        # the same name and version give the same id; a new version is a new package
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{spec.homepage}#{spec.version}")),
        "title": spec.title,
        "title_es": spec.title_es,
        "description": spec.description,
        "description_es": spec.description_es,
        "version": spec.version,
        "created": created,
        "homepage": spec.homepage,
        "keywords": list(spec.keywords),
        "licenses": _unique(licence_entry(sources[s]) for s in used),
        "sources": [source_entry(sources[s]) for s in used],
        "contributors": [dict(c) for c in spec.contributors],
        "resources": resources,
    }


_GITHUB_TREE = re.compile(r"^https://github\.com/([^/]+)/([^/]+)/tree/[^/]+/(.+)$")


def release_tag(name: str, version: str) -> str:
    """The git tag that marks this version of a package: `<name>-v<version>`."""
    return f"{name}-v{version}"


def repository_url(spec: PackageSpec) -> str | None:
    match = _GITHUB_TREE.match(spec.homepage)
    return f"https://github.com/{match[1]}/{match[2]}" if match else None


def version_url(spec: PackageSpec) -> str:
    """The package folder at its release tag: resolves once the tag is pushed (README,
    "Tagging a release"); the homepage when it is not a GitHub folder."""
    match = _GITHUB_TREE.match(spec.homepage)
    if not match:
        return spec.homepage
    return (f"https://github.com/{match[1]}/{match[2]}/tree/"
            f"{release_tag(spec.name, spec.version)}/{match[3]}")


def _publisher(spec: PackageSpec) -> str:
    return next((c["title"] for c in spec.contributors if "publisher" in c["roles"]),
                spec.contributors[0]["title"])


def citation_text(spec: PackageSpec, created: str) -> str:
    return (f"{_publisher(spec)} ({created[:4]}). *{spec.title}*, version {spec.version} "
            f"[data package]. {version_url(spec)}")


def citation_cff(spec: PackageSpec, descriptor: dict, sources: dict[str, SourceRecord],
                 used: list[str]) -> str:
    """CITATION.cff (Citation File Format 1.2.0): the package at this version, and every
    source as a reference with its own licence and citation."""
    authors = [{"name": c["title"]} for c in spec.contributors
               if {"creator", "publisher"} & set(c["roles"])] \
        or [{"name": spec.contributors[0]["title"]}]
    spdx = sorted({sources[s].licence_spdx for s in used if sources[s].licence_spdx})
    record = {
        "cff-version": "1.2.0",
        "message": "If you use this data package, please cite it as below, and cite its "
                   "sources (under references) as their licences require; see README.md, "
                   "'Licence and attribution'.",
        "type": "dataset",
        "title": spec.title,
        "version": spec.version,
        "abstract": spec.description,
        "authors": authors,
        "keywords": list(spec.keywords),
        "url": version_url(spec),
        "identifiers": [{"type": "url", "value": version_url(spec),
                         "description": f"this version: git tag "
                                        f"{release_tag(spec.name, spec.version)}"},
                        {"type": "other", "value": f"urn:uuid:{descriptor['id']}",
                         "description": "datapackage.json id of this version"}],
    }
    if repository_url(spec):
        record["repository-code"] = repository_url(spec)
    if all(sources[s].licence_spdx for s in used):
        record["license"] = spdx[0] if len(spdx) == 1 else spdx
    record["references"] = []
    for s in used:
        source = sources[s]
        reference = {"type": "dataset", "title": source.title,
                     "authors": [{"name": source.publisher}], "version": source.vintage,
                     "url": source.homepage,
                     "notes": f"Licence: {source.licence} ({source.licence_url}). "
                              f"Cite: {source.citation}"}
        if source.licence_spdx:
            reference["license"] = source.licence_spdx
        record["references"].append(reference)
    return yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=10_000)


def coverage(table) -> str:
    import pyarrow.compute as pc

    names = table.column_names
    if "iso3" in names and "year" in names:
        countries = len(pc.unique(table.column("iso3")))
        years = pc.unique(table.column("year"))
        first, last = pc.min(years).as_py(), pc.max(years).as_py()
        pairs = table.select(["iso3", "year"]).group_by(["iso3", "year"]).aggregate([]).num_rows
        return (f"{countries} countries × {len(years)} years ({first}–{last}): "
                f"{pairs:,} of {countries * len(years):,} country-years have a value")
    if "iso3" in names:
        return f"{len(pc.unique(table.column('iso3')))} countries and areas"
    return f"{table.num_rows:,} rows"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _locator_pairs(resource) -> list[tuple[str, str]]:
    """(file column, locator column) pairs of a resource: `source_file`/`source_locator`,
    or `<value>_source_file`/`<value>_source_locator` beside each value of a wide table."""
    names = [f.name for f in resource.fields]
    return [(n[:-len("locator")] + "file", n) for n in names
            if n.endswith("source_locator") and n[:-len("locator")] + "file" in names]


def provenance_section(spec: PackageSpec, tables: dict,
                       sources: dict[str, SourceRecord]) -> list[str]:
    """README lines telling a researcher how to go from a value to the cell of the source
    file it was read from (for the tables that carry source files and locators), with a
    worked example from the data and each named file's download and sha256."""
    located = [r for r in spec.resources if _locator_pairs(r)]
    if not located:
        return []
    names = {n for r in located for file_column, _ in _locator_pairs(r)
             for n in pc.unique(tables[r.name].column(file_column)).drop_null().to_pylist()}
    lines = ["## From a value to its source cell", "",
             "Every row of " + ", ".join(f"`{r.name}`" for r in located) + " says where its "
             "values were read: `source_file` (or `<column>_source_file` beside each value of "
             "a wide table) is the file as the source publishes it (listed below, with where "
             "to download it and the sha256 of the copy the platform read) and "
             "`source_locator` the place in that file:", "",
             "- `line N`: the physical line of a CSV file (the header is line 1); "
             "`line N, column 2022` where a line holds a value per year, in the column headed "
             "2022;",
             "- `Sheet1!F29738`: a workbook cell, by sheet name, column letter and row number "
             "as the spreadsheet shows them (a sheet name with spaces is quoted, "
             "`'CPI Timeseries 2012 - 2023'!AR9`, as spreadsheets write it). Paste the "
             "reference into the name box of Excel or LibreOffice to go to the cell.", ""]
    # the example: from the largest table (the values, rather than a lookup table)
    example = max(located, key=lambda r: tables[r.name].num_rows)
    file_column, locator_column = _locator_pairs(example)[0]
    rows = tables[example.name].select([*example.primary_key, file_column, locator_column])
    located_rows = rows.filter(pc.is_valid(rows[locator_column])).slice(0, 1).to_pylist()
    if located_rows:
        row = located_rows[0]
        key = ", ".join(f"{k} = {row[k]}" for k in example.primary_key)
        lines += [f"For example, the row of `data/{example.name}.csv` with {key} says "
                  f"`{row[file_column]}`, `{row[locator_column]}`: that is where its "
                  f"{locator_column[:-len('source_locator')].rstrip('_') or 'value'} was read.", ""]
    lines += ["Download the file, check its sha256 (`sha256sum <file>`: the publisher may have "
              "revised it since; the platform's repository keeps the copy it read under "
              "`assets/snapshots/<source_id>/`), then open it at the locator. Where the "
              "download is a ZIP archive, the file is the member of that name. A "
              "`source_file` under `assets/` is the platform's own, in its repository.", "",
              "| file | source | download | sha256 |", "|---|---|---|---|"]
    for source_id in sorted(sources):
        for name, url, sha256 in sources[source_id].files:
            if name in names:
                lines.append(f"| `{name}` | {source_id} | <{url}> | `{sha256}` |")
    return lines + [""]


def readme(spec: PackageSpec, descriptor: dict, tables: dict, derivation: dict,
           sources: dict[str, SourceRecord], files: list[FileReport]) -> str:
    lines = [
        f"# {spec.title}", "",
        f"*{spec.title_es}*", "",
        spec.description, "",
        f"Version {spec.version}, built from source data as of {descriptor['created'][:10]} "
        "(the latest release of the sources it uses).", "",
        "## Contents", "",
        "| file | resource | rows | bytes | sha256 |",
        "|---|---|---:|---:|---|",
    ]
    for entry, report in zip(descriptor["resources"], files, strict=True):
        lines.append(f"| `{report.path}` | {entry['name']} | {report.rows:,} | "
                     f"{report.bytes:,} | `{report.sha256}` |")
    lines += ["", "Each table comes as CSV (UTF-8, comma-separated, empty cell = no value) and "
              "as Parquet with the same rows; `datapackage.json` describes both "
              "(Frictionless Data Package v2). `CITATION.cff` says how to cite this version "
              "and `CHANGELOG.md` what changed between versions.", ""]
    for r in spec.resources:
        table = tables[r.name]
        lines += [f"### {r.name}: {r.title}", "", r.description, "",
                  f"Coverage: {coverage(table)}.", "",
                  f"Primary key: {', '.join(r.primary_key)}."]
        for fk in r.foreign_keys:
            lines.append(f"Foreign key: {', '.join(fk['fields'])} → "
                         f"{fk['reference']['resource']}.{', '.join(fk['reference']['fields'])}.")
        lines += ["", "| field | type | unit | description | sources |", "|---|---|---|---|---|"]
        for f in r.fields:
            kind = table_schema_type(table.schema.field(f.name).type)
            lines.append(f"| `{f.name}` | {kind} | {_cell(f.unit or '')} | "
                         f"{_cell(f.description)} | {', '.join(derivation[r.name][f.name])} |")
        lines.append("")
    lines += provenance_section(spec, tables, sources)
    lines += ["## How it was made", "", spec.method, "",
              "Each table is the result of this query against the platform's warehouse, "
              "sorted by its primary key:", ""]
    for r in spec.resources:
        lines += [f"`{r.name}`:", "", "```sql", r.query, "```", ""]
    if spec.caveats:
        lines += ["## Caveats", ""] + [f"- {c}" for c in spec.caveats] + [""]
    used = sorted({s for columns in derivation.values() for ids in columns.values() for s in ids})
    lines += ["## Licence and attribution", "",
              "Every column carries the licence of the sources it derives from (listed per "
              "field above). Reuse the data under those terms and credit the sources:", ""]
    for s in used:
        source = sources[s]
        lines += [f"- **{source.title}** ({source.publisher}; release {source.vintage}). "
                  f"Licence: [{source.licence}]({source.licence_url}). "
                  f"Cite: {source.citation}"]
    tag = release_tag(spec.name, spec.version)
    lines += ["", "## Versions", "",
              f"This is version {spec.version}. The version follows the data: each build "
              "compares its tables with the previously published version on their primary "
              "keys. Rows added or removed, or a table or field added, raise the minor "
              "version; only values revised, the patch version; a table or field removed, a "
              "type or a primary key changed, the major version. Unchanged data keeps the "
              "version, and the files carry no build timestamps, so a rebuild from the same "
              "sources gives byte-identical files. `CHANGELOG.md` lists what changed in each "
              f"version. The git tag `{tag}` marks this version in the platform's repository.",
              "", "## Citation", "",
              citation_text(spec, descriptor["created"]), "",
              "`CITATION.cff` holds the same in Citation File Format. Please cite the "
              "sources above as well.", "",
              "## Resumen en español", "",
              f"**{spec.title_es}**", "",
              spec.description_es, ""]
    for r in spec.resources:
        lines.append(f"- `data/{r.name}.csv` / `.parquet`: {r.title_es}. {r.description_es}")
    lines += ["",
              f"Versión {spec.version} (etiqueta git `{tag}`): la versión sigue a los datos "
              "(véase *Versions* y `CHANGELOG.md`). Licencias y atribución: véase *Licence "
              "and attribution* más arriba; cómo citar: *Citation* y `CITATION.cff`.", ""]
    return "\n".join(lines)

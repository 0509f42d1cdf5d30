"""Reviewed reference lists kept in `assets/` (country groups), as tables."""

from __future__ import annotations

import pandas as pd
import yaml

from paccto_data.activities import (
    crime_area_indicator_frame,
    headline_indicator_frame,
    vocabulary_frame,
)
from paccto_data.fileio import parse_yaml, read_yaml
from paccto_data.settings import ASSETS_DIR, INDICATORS_PATH, PROJECT_ROOT
from paccto_data.warehouse.tables import sql_string
from paccto_data.yamlschema import check_against

COUNTRY_GROUPS_PATH = ASSETS_DIR / "country_groups.yaml"
INDICATORS_SCHEMA = ASSETS_DIR / "indicators.schema.json"
INDICATOR_FIELDS = ("id", "title_en", "title_es", "unit", "description_en", "description_es",
                    "sources", "valid_min", "valid_max")


def country_groups() -> pd.DataFrame:
    """(iso3, group_id, partner_group) for CELAC and the phase-2 programme partners."""
    groups = read_yaml(COUNTRY_GROUPS_PATH)
    rows = [(iso3, "celac", None) for iso3 in groups["celac"]["members"]]
    for partner_group, members in groups["programme_partner"]["groups"].items():
        rows += [(iso3, "programme_partner", partner_group) for iso3 in members]
    frame = pd.DataFrame(rows, columns=["iso3", "group_id", "partner_group"])
    duplicated = frame[frame.duplicated(["iso3", "group_id"])]
    if not duplicated.empty:
        raise ValueError(f"{COUNTRY_GROUPS_PATH}: listed twice: {duplicated.to_dict('records')}")
    return frame


def indicator_catalogue() -> pd.DataFrame:
    """assets/indicators.yaml as a frame (one row per indicator id)."""
    text = INDICATORS_PATH.read_text(encoding="utf-8")
    data = parse_yaml(text)
    # its ids are values of core.fact_indicator and column names of the marts
    check_against(data, INDICATORS_SCHEMA, INDICATORS_PATH)
    entries = data["indicators"]
    for position, entry in enumerate(entries, start=1):
        missing = [f for f in INDICATOR_FIELDS if f not in entry]
        extra = [f for f in entry if f not in INDICATOR_FIELDS]
        if missing or extra:
            raise ValueError(f"{INDICATORS_PATH}: entry {position} ({entry.get('id')!r}): "
                             f"missing {missing}, unexpected {extra}")
    frame = pd.DataFrame(entries, columns=list(INDICATOR_FIELDS))
    duplicated = frame.loc[frame["id"].duplicated(), "id"].tolist()
    if duplicated:
        raise ValueError(f"{INDICATORS_PATH}: indicator ids listed twice: {duplicated}")
    frame["source_ids"] = frame.pop("sources").map(lambda s: ",".join(s))
    # where each entry is: the platform's own file, in its repository
    frame["source_file"] = INDICATORS_PATH.relative_to(PROJECT_ROOT).as_posix()
    frame["source_locator"] = [f"line {line}" for line in _entry_lines(text, "indicators")]
    return frame.astype({"valid_min": "float64", "valid_max": "float64"})


def _entry_lines(text: str, key: str) -> list[int]:
    """The line (1-based) on which each entry of the list under `key` starts, in the YAML
    document `text`."""
    root = yaml.compose(text)
    entries = next(value for name, value in root.value if name.value == key)
    return [node.start_mark.line + 1 for node in entries.value]


def source_catalogue() -> pd.DataFrame:
    """Every source in assets/sources/ with its provenance and licence (core.dim_source)."""
    from paccto_data.acquire.records import sources

    return pd.DataFrame([{
        "source_id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "producer": s.producer,
        "distributor": s.distributor,
        "homepage": s.homepage,
        "licence": s.licence["name"],
        "licence_spdx": s.licence.get("spdx"),
        "licence_url": s.licence["url"],
        "redistribution": s.redistribution,
        "citation": " ".join(s.citation.split()),
        "vintage": s.vintage,
        "retrieved": s.retrieved,
    } for s in sources().values()])


def source_file_catalogue() -> pd.DataFrame:
    """Every file of every source in assets/sources/: its name (the `source_file` of the
    rows read from it), where it is downloaded, the ZIP member it is, its sha256 and size
    (core.dim_source_file)."""
    from paccto_data.acquire.records import sources

    return pd.DataFrame([{
        "source_id": s.id,
        "file_id": f.id,
        "file_name": f.name,
        "url": f.url,
        "zip_member": f.member,
        "format": f.format,
        "sha256": f.sha256,
        "bytes": f.bytes,
    } for s in sources().values() for f in s.files]).astype({"zip_member": "object"})


# Reference frames a SQL model may read (declared in its header: `-- frames: name`).
FRAMES = {
    "country_groups": country_groups,
    "indicator_catalogue": indicator_catalogue,
    "source_catalogue": source_catalogue,
    "source_file_catalogue": source_file_catalogue,
}


# The activity register's reviewed YAML (paccto_data/activities/).
FRAMES.update({
    "activity_vocabularies": vocabulary_frame,
    "crime_area_indicators": crime_area_indicator_frame,
    "headline_indicators": headline_indicator_frame,
})


# --- The data dictionary: assets/data_dictionary.yaml is the one source of the DuckDB
# comments (the generated model paccto_data/warehouse/sql/marts/data_dictionary.sql) and of
# docs/data-dictionary.md. Regenerate both after editing the YAML:
#   python -c "from paccto_data.warehouse.reference import write_data_dictionary; write_data_dictionary()"

DATA_DICTIONARY_PATH = ASSETS_DIR / "data_dictionary.yaml"
DICTIONARY_TABLE = "marts.data_dictionary"
_DICTIONARY_FIELDS = {"description", "unit", "caveats"}


def data_dictionary() -> pd.DataFrame:
    """(schema_name, table_name, column_name, description, unit, caveats, comment): one row
    per table (column_name None) and per column, in the YAML's order."""
    tables = read_yaml(DATA_DICTIONARY_PATH)["tables"]
    rows = []
    for qualified, table in tables.items():
        schema, name = qualified.split(".")
        entries = [(None, table)] + list((table.get("columns") or {}).items())
        for column, entry in entries:
            extra = set(entry) - _DICTIONARY_FIELDS - ({"columns"} if column is None else set())
            if not entry.get("description") or extra:
                raise ValueError(f"{DATA_DICTIONARY_PATH}: {qualified}"
                                 f"{'.' + column if column else ''}: needs a description and "
                                 f"only {sorted(_DICTIONARY_FIELDS)} (found {sorted(entry)})")
            unit, caveats = entry.get("unit"), entry.get("caveats")
            comment = " ".join(entry["description"].split())
            comment += f" Unit: {' '.join(unit.split())}." if unit else ""
            comment += f" Caveat: {' '.join(caveats.split())}" if caveats else ""
            rows.append((schema, name, column, entry["description"], unit, caveats, comment))
    return pd.DataFrame(rows, columns=["schema_name", "table_name", "column_name", "description",
                                       "unit", "caveats", "comment"])


def _comment_statements(frame: pd.DataFrame) -> list[str]:
    statements = []
    for row in frame.itertuples(index=False):
        target = f"{row.schema_name}.{row.table_name}"
        if not isinstance(row.column_name, str):  # the row of the table itself
            statements.append(f"COMMENT ON TABLE {target} IS {sql_string(row.comment)};")
        else:
            statements.append(f"COMMENT ON COLUMN {target}.{row.column_name} IS "
                              f"{sql_string(row.comment)};")
    return statements


def data_dictionary_sql() -> str:
    """The model paccto_data/warehouse/sql/marts/data_dictionary.sql, generated from the YAML."""
    frame = data_dictionary()
    schema, name = DICTIONARY_TABLE.split(".")
    own = (frame["schema_name"] == schema) & (frame["table_name"] == name)
    others = frame[~own]
    lines = [
        "-- description: The data dictionary as a table: every table and column of core and marts",
        "-- description: with its type and its description, unit and caveats (the DuckDB comments",
        "-- description: this model writes from assets/data_dictionary.yaml; the release keeps them).",
    ]
    lines += [
        "-- GENERATED from assets/data_dictionary.yaml by",
        "-- paccto_data.warehouse.reference.write_data_dictionary(): do not edit by hand.",
        "-- A comment on a table or column that does not exist fails the build.",
        *_comment_statements(others),
        f"CREATE OR REPLACE TABLE {DICTIONARY_TABLE} AS",
        "SELECT schema_name, table_name, CAST(NULL AS VARCHAR) AS column_name,",
        "       CAST(NULL AS INTEGER) AS column_index, CAST(NULL AS VARCHAR) AS data_type, comment",
        "FROM duckdb_tables()",
        "WHERE database_name = current_database() AND schema_name IN ('core', 'marts')",
        f"  AND NOT (schema_name = '{schema}' AND table_name = '{name}')",
        "UNION ALL",
        "SELECT schema_name, table_name, column_name, CAST(column_index AS INTEGER), data_type,",
        "       comment",
        "FROM duckdb_columns()",
        "WHERE database_name = current_database() AND schema_name IN ('core', 'marts')",
        f"  AND NOT (schema_name = '{schema}' AND table_name = '{name}')",
        "ORDER BY schema_name, table_name, column_index NULLS FIRST;",
        *_comment_statements(frame[own]),
    ]
    return "\n".join(lines) + "\n"


def _cell(text) -> str:
    return " ".join(text.split()).replace("|", "\\|") if isinstance(text, str) else ""


def data_dictionary_markdown() -> str:
    """docs/data-dictionary.md, generated from the YAML."""
    frame = data_dictionary()
    out = [
        "# Data dictionary",
        "",
        "<!-- GENERATED from assets/data_dictionary.yaml by "
        "paccto_data.warehouse.reference.write_data_dictionary(): edit the YAML, not this file. -->",
        "",
        "Every table and column of the released warehouse (`data/warehouse.duckdb`), with its "
        "unit and caveats. The same text is in the warehouse itself, as DuckDB comments and as "
        "the table `marts.data_dictionary`:",
        "",
        "```sql",
        "SELECT column_name, data_type, comment",
        "FROM marts.data_dictionary",
        "WHERE schema_name = 'marts' AND table_name = 'activity_context'",
        "ORDER BY column_index;",
        "```",
        "",
        "Country keys are ISO 3166-1 alpha-3 everywhere; a missing value means the source "
        "publishes none, never zero.",
        "",
        "**From a value to its source cell.** Every row of `core.fact_indicator` and "
        "`core.fact_drug_seizure` (and of the staging tables they are built from) names the "
        "file it was read from (`source_file`, as named in `assets/sources/<source_id>.yaml`, "
        "which records its sha256 and where to download it) and where in that file the value "
        "is (`source_locator`): `line N` for a CSV (the physical line; the header is line 1), "
        "`line N, column 2022` where a line holds a value per year, or the workbook cell, "
        "`Sheet1!F29738`. Open the file at that line, or paste the cell reference into the "
        "spreadsheet's name box. Rows derived from several inputs name their inputs instead: "
        "`marts.country_year` and `marts.programme_coverage` carry, for each headline value, "
        "the `source_file` and `source_locator` of the fact row it is; their activity counts "
        "count the `core.bridge_activity_country` rows of the country (and year); "
        "`marts.region_year` lists in `weighted_iso3` the countries whose fact rows (same "
        "indicator, source and year) and population entered the aggregate; "
        "`marts.activity_context` carries the file and locator of its baseline and latest "
        "values.",
    ]
    for (schema, name), rows in frame.groupby(["schema_name", "table_name"], sort=False):
        table = rows[rows["column_name"].isna()].iloc[0]
        out += ["", f"## `{schema}.{name}`", "", " ".join(table["description"].split())]
        if isinstance(table["caveats"], str):
            out += ["", f"*Caveats:* {' '.join(table['caveats'].split())}"]
        out += ["", "| column | description | unit | caveats |", "|---|---|---|---|"]
        for row in rows[rows["column_name"].notna()].itertuples(index=False):
            out.append(f"| `{row.column_name}` | {_cell(row.description)} | {_cell(row.unit)} | "
                       f"{_cell(row.caveats)} |")
    return "\n".join(out) + "\n"


def write_data_dictionary() -> list[str]:
    """Regenerate the dictionary model and docs/data-dictionary.md; returns what changed."""
    from paccto_data.settings import PROJECT_ROOT, SQL_DIR

    schema, name = DICTIONARY_TABLE.split(".")
    targets = {SQL_DIR / schema / f"{name}.sql": data_dictionary_sql(),
               PROJECT_ROOT / "docs" / "data-dictionary.md": data_dictionary_markdown()}
    changed = []
    for path, text in targets.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(str(path))
    return changed

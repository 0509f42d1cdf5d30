"""No silent loss: a build that drops a row (a primary key, e.g. a country-year) that the
published version of a package holds is flagged, with the reason the source's maintainers
recorded (assets/sources/removals/<source_id>.yaml): the package asset's `no_silent_loss`
check warns, CHANGELOG.md lists every dropped key (up to a bound, then the count), and the
quality report shows them."""

import json

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paccto_data.acquire import records
from paccto_data.publication import versions
from paccto_data.publication.tables import table_schema_type
from tests.support import build, environment, failed_steps

HOMICIDE = dg.AssetKey(["publication", "lac_homicide"])
REASON = "UNODC withdrew Jamaica's 2021 figure while the country revises it."


def write_note(folder, source_id: str, rows: list[dict] | None, reason: str = REASON) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    note = {"vintage": records.source(source_id).vintage, "reason": reason}
    if rows is not None:
        note["rows"] = rows
    import yaml

    (folder / f"{source_id}.yaml").write_text(yaml.safe_dump([note], allow_unicode=True),
                                              encoding="utf-8")


def test_dropped_keys_are_listed_with_their_reasons_up_to_a_bound(tmp_path, monkeypatch):
    old = pa.table({"iso3": ["ARG", "BRA", "CHL", "JAM", "JAM"],
                    "year": pa.array([2020, 2020, 2020, 2020, 2021], pa.int32()),
                    "value": [1.0, 2.0, 3.0, 4.0, 5.0],
                    "source_id": ["unodc_homicide"] * 5})
    path = tmp_path / "old.parquet"
    pq.write_table(old, path)
    schema = {"fields": [{"name": f.name, "type": table_schema_type(f.type)}
                         for f in old.schema], "primaryKey": ["iso3", "year"]}
    new = old.slice(0, 1)  # ARG 2020 only: four rows dropped
    write_note(tmp_path / "removals", "unodc_homicide", [{"iso3": "JAM", "year": 2021}])
    monkeypatch.setattr(versions, "REMOVALS_DIR", tmp_path / "removals")

    change = versions.compare_table("homicide_rate", new, ("iso3", "year"), path, schema)
    assert change.level == "minor" and change.removal.count == 4
    assert change.removal.keys == ("BRA 2020", "CHL 2020", "JAM 2020", "JAM 2021")
    reason = f"unodc_homicide (vintage {records.source('unodc_homicide').vintage}): {REASON}"
    assert change.removal.reasons == (None, None, None, reason)
    assert change.text.splitlines()[1:] == [
        f"  - Removed (iso3, year), reason recorded for {reason}: JAM 2021.",
        "  - Removed (iso3, year), no reason recorded: BRA 2020; CHL 2020; JAM 2020."]

    monkeypatch.setattr(versions, "REMOVED_LISTED", 2)
    bounded = versions.compare_table("homicide_rate", new, ("iso3", "year"), path, schema)
    assert bounded.removal.keys == ("BRA 2020", "CHL 2020")
    assert bounded.text.splitlines()[-1] == \
        "  - … and 2 more removed rows not listed (4 in all)."

    # a note of another vintage does not explain today's removal
    note = tmp_path / "removals" / "unodc_homicide.yaml"
    note.write_text(note.read_text(encoding="utf-8").replace(
        f"vintage: '{records.source('unodc_homicide').vintage}'", "vintage: '1999'"),
        encoding="utf-8")
    monkeypatch.setattr(versions, "REMOVED_LISTED", 1000)
    stale = versions.compare_table("homicide_rate", new, ("iso3", "year"), path, schema)
    assert stale.removal.reasons == (None,) * 4


@pytest.mark.e2e
def test_publishing_then_building_without_a_country_year_is_flagged(warehouse_build_copy,
                                                                    tmp_path, monkeypatch):
    # The first build and release: a copy of the session's (conftest.warehouse_build), built
    # from nothing, every package at its first version.
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    published = settings.publish_dir
    assert json.loads((published / "lac-homicide" / "datapackage.json").read_text(
        encoding="utf-8"))["version"] == "1.0.0"
    assert "No package build drops a row" in (published / "quality" / "index.html").read_text(
        encoding="utf-8")

    # The source's refresh recorded why Jamaica 2021 went; nobody said why Brazil 1990 did.
    write_note(tmp_path / "removals", "unodc_homicide", [{"iso3": "JAM", "year": 2021}])
    monkeypatch.setattr(versions, "REMOVALS_DIR", tmp_path / "removals")
    with duckdb.connect(str(settings.build_db)) as conn:
        for iso3, year in (("JAM", 2021), ("BRA", 1990)):
            conn.execute("DELETE FROM core.fact_indicator WHERE indicator_id = 'homicide_rate' "
                         "AND source_id = 'unodc_homicide' AND iso3 = ? AND year = ?",
                         [iso3, year])
    selection = dg.AssetSelection.assets(HOMICIDE, dg.AssetKey(["publication", "quality_report"]),
                                         dg.AssetKey("publication_release"))
    with environment(settings):
        second = build(settings, instance, selection)
    assert second.success, failed_steps(second)  # a warning never fails the run

    # the check warns, naming the keys and the reason
    key = dg.AssetCheckKey(HOMICIDE, "no_silent_loss")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.evaluation
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.description == "lac-homicide 1.1.0 drops 2 rows that version 1.0.0 " \
                                     "published"
    removed = evaluation.metadata["removed"].value
    reason = f"unodc_homicide (vintage {records.source('unodc_homicide').vintage}): {REASON}"
    assert removed == [{"table": "homicide_rate", "key": ["iso3", "year"], "count": 2,
                        "rows": [{"key": "BRA 1990", "reason": None},
                                 {"key": "JAM 2021", "reason": reason}], "note": ""}]

    # the released package's CHANGELOG lists them, with the reason
    package = published / "lac-homicide"
    assert json.loads((package / "datapackage.json").read_text(encoding="utf-8"))[
        "version"] == "1.1.0"
    changelog = (package / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "- homicide_rate: 2 rows removed (BRA 1990; JAM 2021); 1,119 rows now.\n" \
           f"  - Removed (iso3, year), reason recorded for {reason}: JAM 2021.\n" \
           "  - Removed (iso3, year), no reason recorded: BRA 1990.\n" in changelog

    # and so does the quality report
    report = (published / "quality" / "index.html").read_text(encoding="utf-8")
    dropped = report[report.index('<h2 id="dropped">'):report.index('<h2 id="tables">')]
    assert "<code>lac_homicide</code>: 1.0.0 to 1.1.0, 2 rows dropped" in dropped
    assert "<code>JAM 2021</code>" in dropped and "UNODC withdrew Jamaica&#39;s 2021" in dropped
    assert "<code>BRA 1990</code></td><td>no reason recorded" in dropped

    # the other packages dropped nothing
    others = [dg.AssetCheckKey(dg.AssetKey(["publication", name]), "no_silent_loss")
              for name in ("lac_drug_seizures", "lac_trafficking")]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(others)
    assert all(latest[k].evaluation.passed for k in others)

"""End to end: the real assets, checks and release, materialised into a temporary directory
(the session's `warehouse_build`; a test that changes a build works on a copy of it)."""

import subprocess
import sys
import textwrap
import time

import dagster as dg
import duckdb
import pytest

from paccto_data.definitions import build_definitions
from paccto_data.settings import Settings
from tests.support import build, failed_steps

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def built(warehouse_build):
    """The session's full offline build, read only."""
    return warehouse_build.settings, warehouse_build.instance, warehouse_build.result


def released(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse), read_only=True)


def test_every_asset_materialised_and_every_check_passed(built):
    settings, _, result = built
    defs = build_definitions(settings)
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialised == set(defs.resolve_asset_graph().get_all_asset_keys())
    # Warn-level quality checks (assets/quality_checks.yaml) flag real, published jumps and
    # disagreements; every blocking (ERROR) check must pass.
    evaluations = [e for e in result.get_asset_check_evaluations()
                   if e.severity == dg.AssetCheckSeverity.ERROR]
    assert evaluations and all(e.passed for e in evaluations), [
        (e.asset_key, e.description) for e in evaluations if not e.passed]
    assert {e.asset_key.to_user_string() for e in evaluations} >= {"core/dim_country"}


def test_released_dim_country_is_the_m49_list_with_programme_flags(built):
    settings, _, _ = built
    with released(settings) as conn:
        counts = conn.execute("""
            SELECT count(*), count(*) FILTER (is_lac), count(*) FILTER (is_celac),
                   count(*) FILTER (is_programme_partner),
                   count(*) FILTER (is_programme_partner AND NOT is_lac)
            FROM core.dim_country""").fetchone()
        assert counts == (249, 52, 33, 31, 0)
        subregions = dict(conn.execute(
            "SELECT lac_subregion, count(*) FROM core.dim_country WHERE is_lac GROUP BY 1"
        ).fetchall())
        assert subregions == {"Caribbean": 28, "Central America": 8, "South America": 16}
        rows = {r[0]: r[1:] for r in conn.execute("""
            SELECT iso3, name_es, lac_subregion, income_group, is_celac, is_programme_partner,
                   programme_partner_group
            FROM core.dim_country WHERE iso3 IN ('JAM', 'VEN', 'NIC', 'DOM', 'ESP', 'DMA')
        """).fetchall()}
    # Metadata_Country_API_SP.POP.TOTL...csv: JAM "Upper middle income"; VEN blank (unclassified)
    assert rows["JAM"] == ("Jamaica", "Caribbean", "Upper middle income", True, True, "Caribbean")
    assert rows["VEN"][2:6] == (None, True, False, None)
    assert rows["NIC"][3:5] == (True, False)
    assert rows["DOM"][4:6] == (True, "Latin America")  # the EC page lists it under Latin America
    assert rows["DMA"][0] == "Dominica" and rows["DMA"][5] == "Caribbean"
    assert rows["ESP"][1:] == (None, "High income", False, False, None)


def test_the_release_holds_core_and_marts_only_in_duckdb_1_4_storage(built):
    settings, _, _ = built
    with released(settings) as conn:
        schemas = {r[0] for r in conn.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
        storage = conn.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal"
        ).fetchone()[0]
    assert schemas <= {"core", "marts"} and "core" in schemas
    assert storage == "v1.4.0+"


def test_every_table_asset_shows_row_count_schema_and_preview(built):
    _, _, result = built
    for event in result.get_asset_materialization_events():
        key = event.asset_key
        metadata = event.materialization.metadata
        if key.path[0] in ("staging", "core", "marts"):
            assert metadata["dagster/row_count"].value > 0, key
            assert metadata["dagster/column_schema"].schema.columns, key
            assert "|" in metadata["preview"].value, key


def test_every_asset_has_a_description_owner_group_and_kinds():
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 20, key
        assert node.owners == ["team:data-engineering"], key
        assert node.group_name in {"sources", "staging", "warehouse", "publication"}, key
        assert {t for t in node.tags if t.startswith("dagster/kind/")}, key


def test_the_in_process_executor_is_the_default():
    defs = build_definitions(Settings.from_env())
    assert defs.executor.name == "in_process"


def test_a_release_waits_for_a_fresh_check_result(warehouse_build_copy):
    """Materialising core.dim_country without its check leaves its latest check result older
    than the table: the release refuses, and the released file stays as it was."""
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    before = settings.warehouse.read_bytes()
    unchecked = dg.AssetSelection.assets(dg.AssetKey(["core", "dim_country"])).without_checks()
    assert build(settings, instance, unchecked).success
    result = build(settings, instance, dg.AssetSelection.assets("warehouse_release"))
    assert not result.success
    message = failed_steps(result)["warehouse_release"]
    assert "core/dim_country:great_expectations last ran before core/dim_country" in message
    assert settings.warehouse.read_bytes() == before


READER = textwrap.dedent("""
    import sys, time, duckdb, pathlib
    path, ready, stop = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    conn = duckdb.connect(path, read_only=True)
    first = conn.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    ready.write_text(str(first))
    queries = 0
    while not stop.exists():
        tables = conn.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
        assert tables == first, (tables, first)
        conn.execute("SELECT count(*) FROM core.dim_country WHERE is_lac").fetchone()
        queries += 1
        time.sleep(0.01)
    print(first, queries)
""")


def test_a_reader_is_never_blocked_and_a_new_connection_sees_the_new_release(
        warehouse_build_copy, tmp_path):
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    with released(settings) as conn:
        tables_before = conn.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    # Something the next release will carry and this one does not.
    with duckdb.connect(str(settings.build_db)) as conn:
        conn.execute("CREATE TABLE core.release_marker AS SELECT 2 AS release")
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(settings.warehouse),
                               str(ready), str(stop)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert reader.poll() is None, reader.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # the release (every check of the build passed), the reader still open
        result = build(settings, instance, dg.AssetSelection.assets("warehouse_release"))
        assert result.success, failed_steps(result)
    finally:
        stop.write_text("")
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    first, queries = map(int, out.split())
    assert first == tables_before and queries > 0  # it kept reading its own release
    with released(settings) as conn:
        assert conn.execute("SELECT release FROM core.release_marker").fetchone() == (2,)


def test_every_built_table_has_a_blocking_suite():
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    tables = {k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "core", "marts")}
    suites = [spec for check in defs.asset_checks for spec in check.check_specs
              if spec.key.name == "great_expectations"]
    assert tables - {spec.asset_key for spec in suites} == set(), \
        "tables without a suite in expectations/"
    assert all(spec.blocking for spec in suites)


DUCKDB_1 = "1.4.4"


def test_duckdb_1_x_opens_the_released_file(built, tmp_path_factory):
    """Analysts on DuckDB 1.x (and R, DBeaver) must be able to open the release."""
    from tests.support import duckdb_1_path

    settings, _, _ = built
    script = ("import duckdb, sys; assert duckdb.__version__ == sys.argv[2], duckdb.__version__; "
              "c = duckdb.connect(sys.argv[1], read_only=True); "
              "print(c.execute('SELECT count(*) FROM core.dim_country WHERE is_lac').fetchone()[0])")
    out = subprocess.run(
        [sys.executable, "-c", script, str(settings.warehouse), DUCKDB_1],
        env={"PYTHONPATH": str(duckdb_1_path(DUCKDB_1)), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "52"


def test_an_analyst_gets_exactly_the_publishers_numbers(built):
    settings, _, _ = built
    with released(settings) as conn:
        def value(iso3, year, indicator):
            return conn.execute(
                "SELECT value FROM core.fact_indicator WHERE iso3 = ? AND year = ? "
                "AND indicator_id = ?", [iso3, year, indicator]).fetchall()

        # homicide-rate-unodc.csv line 2205: "Jamaica,JAM,2022,53.1146,North America"
        assert value("JAM", 2022, "homicide_rate") == [(53.1146,)]
        # wgidataset.xlsx, Sheet1 row 29738: URY cc 2022 estimate 1.610502004623413
        assert value("URY", 2022, "wgi_cc_estimate") == [(1.610502004623413,)]
        # API_SP.POP.TOTL_DS2_en_csv_v2_38144.csv line 123 (Jamaica), column "2023"
        assert value("JAM", 2023, "population") == [(2839786.0,)]

"""Automation declared on the assets: cadences, versions, conditions, retry policies, the
switch, and the upstream sensor evaluated against a real instance and real HTTP on 127.0.0.1."""

from __future__ import annotations

import dataclasses
from datetime import date

import dagster as dg
import pytest
from loopback import Reply

from paccto_data.acquire import cadence, fetch, records
from paccto_data.definitions import build_definitions
from paccto_data.defs.upstream import lineage, raw_key, upstream_sensor
from paccto_data.http import HttpClient
from tests.support import tmp_settings

SERVED = ("unodc_homicide", "unodc_iafq")  # single-file sources


def test_every_source_declares_its_release_cadence():
    from dagster._utils.schedules import is_valid_cron_string

    for source in records.sources().values():
        assert source.release and source.release["cadence"] in cadence.PERIOD_DAYS, source.id
        assert is_valid_cron_string(cadence.check_cron(source)), source.id


def test_freshness_follows_the_vintage_not_the_download():
    template = records.source("unodc_homicide")
    rule = {"cadence": "annual", "expected_month": 3, "grace_days": 90}
    old = dataclasses.replace(template, vintage="2020", release=rule, retrieved="2026-11-01")
    state = cadence.freshness(old, date(2026, 11, 1))
    assert state.stale and state.due == date(2021, 5, 30)  # 2020-03-01 + 365 + 90 days
    assert "stale" in state.summary()
    recent = dataclasses.replace(old, vintage="2026-03-15")
    assert not cadence.freshness(recent, date(2026, 11, 1)).stale
    assert cadence.check_cron(old) == "0 6 * 3,4,5,6 1"  # weekly through the release window


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    return build_definitions(tmp_settings(tmp_path_factory.mktemp("defs")))


def test_assets_declare_code_versions_conditions_and_retries(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, key
        label = node.automation_condition.get_label() if node.automation_condition else None
        if key.path[0] == "raw":
            assert label.startswith("checked upstream on"), key
        elif node.group_name == "publication":
            assert label is None, key  # released on their own schedule
        else:
            assert label == "inputs changed and every blocking check upstream passed", key
    raw = [a for a in defs.assets if any(k.path[0] == "raw" for k in a.keys)]
    # a source retries its downloads within its step (defs/sources.py, RETRY_DELAYS): no step
    # has a Dagster retry policy, which would retry an interrupted step
    assert raw and all(a.op.retry_policy is None for a in raw)
    for check in defs.asset_checks:  # a check is never retried
        assert check.node_def.retry_policy is None
    freshness = [s for c in defs.asset_checks for s in c.check_specs
                 if s.name == "vintage_freshness"]
    assert len(freshness) == len(records.sources()) and not any(s.blocking for s in freshness)


@pytest.mark.parametrize("value,running", [(None, False), ("off", False), ("on", True)])
def test_automation_is_off_on_a_laptop_and_on_in_the_deployment(monkeypatch, tmp_path, value,
                                                                   running):
    if value is None:
        monkeypatch.delenv("PACCTO_AUTOMATION", raising=False)
    else:
        monkeypatch.setenv("PACCTO_AUTOMATION", value)
    defs = build_definitions(tmp_settings(tmp_path))
    sensors = {s.name: s.default_status for s in defs.sensors}
    schedules = {s.name: s.default_status for s in defs.schedules}
    assert set(sensors) == {"automation", "upstream_changes"}
    assert set(schedules) == {"release_packages_weekly"}
    expected = "RUNNING" if running else "STOPPED"
    assert {s.value for s in [*sensors.values(), *schedules.values()]} == {expected}


# --- the upstream sensor against the loopback server ----------------------------------------


def _serve(loopback, monkeypatch, source_id: str, etag: str, body: bytes | None = None):
    source = records.source(source_id)
    [spec] = source.files
    path = f"/{source_id}/{spec.name}"
    loopback.route(path, Reply(body=body or (source.snapshot_dir / spec.name).read_bytes(),
                               etag=etag))
    monkeypatch.setenv(f"PACCTO_URL_{source_id.upper()}", loopback.url(path))
    return path


def _tick(sensor, instance, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return sensor.evaluate_tick(context)


def test_upstream_sensor_requests_exactly_the_changed_sources_lineage(
        loopback, monkeypatch, tmp_path, defs, capfd):
    settings = tmp_settings(tmp_path, source_mode="live")
    client = HttpClient(connect_timeout=1.0, read_timeout=1.0, attempts=1)
    for source_id in SERVED:
        _serve(loopback, monkeypatch, source_id, f'"{source_id}-v1"')
        fetch.acquire(records.source(source_id), settings, client)  # the manifest: baseline
    sources = [records.source(s) for s in SERVED]
    lineages = {s: lineage(defs.assets, raw_key(s)) for s in SERVED}
    sensor = upstream_sensor(settings, sources, lineages)  # a new HTTP session each tick
    instance = dg.DagsterInstance.ephemeral()
    loopback.clear_log()

    unchanged = _tick(sensor, instance, None)
    assert unchanged.run_requests == [] and "no source changed" in unchanged.skip_message
    heads = [r for r in loopback._log if r.method == "HEAD"]
    assert len(heads) == 2 and all(r.header("If-None-Match") for r in heads)
    assert not [r for r in loopback._log if r.method == "GET"]  # nothing downloaded

    _serve(loopback, monkeypatch, "unodc_homicide", '"unodc_homicide-v2"')
    changed = _tick(sensor, instance, unchanged.cursor)
    [request] = changed.run_requests
    assert set(request.asset_selection) == set(lineages["unodc_homicide"])
    assert raw_key("unodc_homicide") in request.asset_selection
    assert raw_key("unodc_iafq") not in request.asset_selection
    assert dg.AssetKey(["core", "fact_indicator"]) in request.asset_selection
    assert not any(k.path[0] == "publication" for k in request.asset_selection)

    # The cursor remembers what was seen: the same answer again requests nothing.
    again = _tick(sensor, instance, changed.cursor)
    assert again.run_requests == []

    loopback.stop()  # upstream down: logged, nothing requested, asked again next tick
    capfd.readouterr()
    down = _tick(sensor, instance, again.cursor)
    log = capfd.readouterr().err  # the tick's log (the daemon keeps it with the tick)
    assert down.run_requests == [] and "could not ask" in down.skip_message
    assert down.cursor == again.cursor
    assert "ERROR - unodc_homicide: could not ask upstream (ConnectionError" in log
    assert "asked again at the next tick" in log


def test_upstream_sensor_in_snapshot_mode_compares_the_bundled_sha256(tmp_path, defs):
    settings = tmp_settings(tmp_path)
    sources = [records.source("unodc_homicide")]
    sensor = upstream_sensor(settings, sources,
                             {"unodc_homicide": lineage(defs.assets, raw_key("unodc_homicide"))})
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(sensor, instance, None)  # never materialised: its lineage is requested
    [request] = first.run_requests
    assert raw_key("unodc_homicide") in request.asset_selection
    assert _tick(sensor, instance, first.cursor).run_requests == []  # requested once

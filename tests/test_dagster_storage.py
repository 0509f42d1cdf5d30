"""Dagster's SQLite storages as the platform runs them (defs/storage.py): the storage
data/dagster/dagster.yaml names, one SQLAlchemy engine kept per database file, in Dagster's own
files; `synchronous=NORMAL`, and one idle connection held on each database file while a run
writes its events, released when the run ends; no event is lost."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import dagster as dg
import pytest
import sqlalchemy

from paccto_data.defs import storage
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.storage import EventLogStorage, relaxed_sqlite_sync, release_sqlite_anchors
from paccto_data.settings import PROJECT_ROOT
from tests.support import tmp_settings


def test_each_sqlite_file_is_opened_relaxed_and_held_open_until_released(tmp_path):
    relaxed_sqlite_sync()
    path = tmp_path / "events.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()  # as Dagster's are
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        connection.commit()
    engine.dispose()
    assert str(path) in storage._ANCHORS
    # the held connection keeps the WAL: the event's close was not the last one
    assert (tmp_path / "events.db-wal").exists()
    release_sqlite_anchors()
    assert not storage._ANCHORS
    assert not (tmp_path / "events.db-wal").exists()  # the last close checkpointed it
    assert sqlite3.connect(path).execute("SELECT x FROM t").fetchall() == [(1,)]


HELD_IN_RUN: list[set[str]] = []


@dg.asset
def touched(paccto: PacctoConfig) -> dg.MaterializeResult:
    HELD_IN_RUN.append(set(storage._ANCHORS))  # the files held while the run writes
    return dg.MaterializeResult(metadata={"raw_dir": paccto.raw_dir})


READ_BACK = """
import sys
import dagster as dg
from dagster._core.instance import InstanceRef
with dg.DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1])) as instance:
    records = instance.get_records_for_run(sys.argv[2]).records
    print(len(records), instance.get_run_by_id(sys.argv[2]).status.value)
"""


def test_a_run_releases_what_it_held_and_every_event_is_on_disk(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    # (what an earlier run of this process wrote after its own teardown is held until the
    # next run ends: start from nothing held)
    release_sqlite_anchors()
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        result = dg.materialize(
            [touched], instance=instance,
            resources={"paccto": PacctoConfig.from_settings(tmp_settings(tmp_path))})
        assert result.success
        run_id = result.run_id
        events = len(instance.get_records_for_run(run_id).records)
        assert events > 5
    release_sqlite_anchors()
    # while the run wrote its events it held its event log open, and nothing else
    held = HELD_IN_RUN.pop()
    assert any(run_id in path for path in held), held
    assert all(path.startswith(str(home)) for path in held), held
    # every event is on disk: another process reads them all
    out = subprocess.run([sys.executable, "-c", READ_BACK, str(home), run_id],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(events), "SUCCESS"]


def _materialise_touched(instance, tmp_path) -> str:
    result = dg.materialize(
        [touched], instance=instance,
        resources={"paccto": PacctoConfig.from_settings(tmp_settings(tmp_path))})
    assert result.success
    return result.run_id


def test_the_instance_keeps_one_engine_per_file_in_dagsters_own_files(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "dagster" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        events = instance.event_log_storage
        assert type(events) is EventLogStorage  # the storage dagster.yaml names
        run_id = _materialise_touched(instance, tmp_path)
        # ~20 events, each written through the run's shard and the index: one engine each
        engines = dict(events._engines._engines)
        assert sorted(url.rsplit("/", 1)[1] for url in engines) == sorted(
            [f"{run_id}.db", "index.db"])
        records = instance.get_records_for_run(run_id).records
        assert len(records) > 5
        assert events._engines._engines == engines  # reading them made no new engine
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    assert events._engines._engines == {}  # disposed with the instance
    # the same files Dagster's default SQLite storage reads
    assert (home / "history" / "runs.db").is_file()
    assert (home / "history" / "runs" / f"{run_id}.db").is_file()
    assert (home / "schedules" / "schedules.db").is_file()
    plain = tmp_path / "plain"
    shutil.copytree(home, plain)
    (plain / "dagster.yaml").unlink()
    with dg.DagsterInstance.from_config(str(plain)) as instance:
        assert type(instance.event_log_storage) is not EventLogStorage
        assert len(instance.get_records_for_run(run_id).records) == len(records)
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS


def test_a_copy_of_the_instance_opened_from_elsewhere_is_refused(tmp_path, monkeypatch):
    """dagster.yaml keeps the runs in DAGSTER_HOME: a copy opened while DAGSTER_HOME points at
    another instance would silently use that one."""
    for name in ("home", "copy"):
        (tmp_path / name).mkdir()
        shutil.copy(PROJECT_ROOT / "data" / "dagster" / "dagster.yaml", tmp_path / name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match=r"copy/dagster.yaml keeps its runs in .*/home "
                                         r"\(DAGSTER_HOME\): set DAGSTER_HOME=.*/copy"):
        dg.DagsterInstance.from_config(str(tmp_path / "copy"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "copy"))
    with dg.DagsterInstance.from_config(str(tmp_path / "copy")) as instance:
        assert instance.get_runs() == []


def test_a_long_lived_process_keeps_the_engines_of_the_last_files_only(tmp_path):
    """The webserver reads one event-log file per run it shows: it keeps the engines of the
    last _Engines.KEPT files, each still usable after the others were dropped."""
    kept = storage._Engines()
    urls = [f"sqlite:///{tmp_path}/{n}.db" for n in range(storage._Engines.KEPT + 5)]
    first = kept(urls[0])
    assert kept(urls[0]) is first  # kept, not made again
    for url in urls[1:]:
        kept(url)
    assert list(kept._engines) == urls[5:]  # the oldest dropped, in order of last use
    assert kept(urls[0]) is not first
    with kept(urls[-1]).connect() as connection:
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    kept.dispose()
    assert not kept._engines

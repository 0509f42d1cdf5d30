"""Dagster's SQLite storages as the platform runs them (DAGSTER_HOME=data/dagster; a team
deployment uses PostgreSQL, deploy/dagster.yaml, and none of this).

- `SqliteStorage`, which data/dagster/dagster.yaml names as the instance's storage: Dagster's
  own SQLite storages (runs, event logs, schedules, the same files and schema), except that
  each keeps one SQLAlchemy engine per database file instead of creating an engine for every
  connection (about 1,900 engines in a cold build, one or two per event). A kept engine keeps
  its dialect set-up and its compiled statements; each use still opens its own sqlite3
  connection (`NullPool`, as Dagster's), so locking between processes is unchanged.
- `relaxed_sqlite_sync`: how this process opens SQLite files in WAL mode.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool


class _Engines:
    """One engine per database URL, made on first use and disposed with its storage; the
    last `KEPT` used, so that a long-lived process (the webserver reads one file per run it
    shows) does not keep an engine for every run it ever read."""

    KEPT = 64

    def __init__(self) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str, **connect_args) -> Engine:
        with self._lock:
            engine = self._engines.get(url)
            if engine is None:
                engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
                self._engines[url] = engine
                if len(self._engines) > self.KEPT:  # (NullPool: no connection is held)
                    self._engines.popitem(last=False)[1].dispose()
            else:
                self._engines.move_to_end(url)
            return engine

    def dispose(self) -> None:
        with self._lock:
            while self._engines:
                self._engines.popitem()[1].dispose()


class _KeptEngines:
    """The storage's `_Engines`, disposed with it."""

    def __init__(self, *args, **kwargs) -> None:
        self._engines = _Engines()
        super().__init__(*args, **kwargs)

    def dispose(self) -> None:
        super().dispose()
        self._engines.dispose()


class _KeptEngine(_KeptEngines):
    """`connect()` through one kept engine for the storage's `_conn_string` (Dagster's run
    and schedule storages create one for every connection)."""

    _conn_string: str

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engines(self._conn_string).connect() as conn, conn.begin():
            yield conn


class EventLogStorage(_KeptEngines, SqliteEventLogStorage):
    """Dagster's event log storage (one SQLite file per run, and an index), with kept engines."""

    def __init__(self, base_dir: str, inst_data=None, home: str | None = None):
        self._home = home
        super().__init__(base_dir, inst_data)

    def register_instance(self, instance) -> None:
        """Refuse an instance whose folder is not `home`: data/dagster/dagster.yaml says
        {env: DAGSTER_HOME}, so opening a copy of it from another folder (a test, a notebook)
        with DAGSTER_HOME left pointing elsewhere would read and write the other instance."""
        here = Path(instance.root_directory).resolve()
        if self._home is not None and here != Path(self._home).resolve():
            raise ValueError(f"{here / 'dagster.yaml'} keeps its runs in {self._home} "
                             f"(DAGSTER_HOME): set DAGSTER_HOME={here} to open this instance")
        super().register_instance(instance)

    def _engine(self, shard: str) -> Engine:
        return self._engines(self.conn_string_for_shard(shard),
                             timeout=SQLITE_BUSY_TIMEOUT_SECONDS)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # as Dagster's, with a kept engine
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))


class RunStorage(_KeptEngine, SqliteRunStorage):
    """Dagster's run storage (history/runs.db), with a kept engine."""


class ScheduleStorage(_KeptEngine, SqliteScheduleStorage):
    """Dagster's schedule and sensor storage (schedules/schedules.db), with a kept engine."""


class SqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage in `base_dir`, made of the three storages above.

        storage:
          custom:
            module: paccto_data.defs.storage
            class: SqliteStorage
            config:
              base_dir: {env: DAGSTER_HOME}
    """

    def __init__(self, base_dir: str, inst_data=None):  # DagsterSqliteStorage's, our classes
        self.base_dir = base_dir
        self._run_storage = RunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = EventLogStorage(_event_logs_directory(base_dir),
                                                  home=base_dir)
        self._schedule_storage = ScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> SqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)


@cache
def relaxed_sqlite_sync() -> None:
    """Two settings for Dagster's SQLite storages (runs, event logs: DAGSTER_HOME), which
    run in WAL mode and open, use and close a connection for each of the ~500 events of a
    cold build. Set for every SQLite connection this process opens from here on (`make run`,
    and every run, at resource set-up):

    - `synchronous=NORMAL` instead of SQLite's default `FULL` (two fsyncs per event):
      SQLite's advice for WAL mode. A killed process loses nothing, a power cut may lose the
      last events but never corrupts the file.
    - one idle connection held open per database file in WAL mode (`_ANCHORS`), so that
      closing an event's connection is not the last close, which checkpointed the WAL and
      deleted it and its shared memory for the next event to create again (8x the cost of
      the write itself, measured with sqlite3 alone). Released at the end of every run and
      at exit; an idle connection holds no lock, and SQLite still checkpoints the WAL
      whenever it passes 1,000 pages."""
    import atexit

    from sqlalchemy import event

    @event.listens_for(Engine, "connect")
    def _relaxed(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
            path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
            if path and path not in _ANCHORS and dbapi_connection.execute(
                    "PRAGMA journal_mode").fetchone()[0] == "wal":  # ("" for in-memory)
                anchor = sqlite3.connect(path, check_same_thread=False)
                # a read maps the WAL index: only then is this connection one that counts
                anchor.execute("SELECT count(*) FROM sqlite_master").fetchall()
                _ANCHORS[path] = anchor

    atexit.register(release_sqlite_anchors)


_ANCHORS: dict = {}  # database file -> the idle sqlite3 connection held open on it


def release_sqlite_anchors() -> None:
    """Close the connections relaxed_sqlite_sync holds open (the last close checkpoints)."""
    while _ANCHORS:
        _, connection = _ANCHORS.popitem()
        try:
            connection.close()
        except sqlite3.Error:  # a file removed meanwhile: nothing to keep
            pass

"""Resources, configured from the environment (the README's "Configuration").

Both hold the lock of the data directory (paccto_data/lock.py) for as long as a run uses
them, whoever launched it (make run, a test, the UI): a run waits for another process's build
or release of the same data directory. `make run` already holds it; the lock is re-entrant.
"""

from __future__ import annotations

import contextlib
import sqlite3
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from paccto_data.lock import data_lock_path, held
from paccto_data.quality import ahead
from paccto_data.settings import Settings


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
    from sqlalchemy.engine import Engine

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


def _run_lock(build_db: str | Path, context):
    log = getattr(context, "log", None)
    return held(data_lock_path(Path(build_db)),
                f"dagster run {getattr(context, 'run_id', '') or ''}".strip(),
                say=log.warning if log is not None else print)


class PacctoConfig(dg.ConfigurableResource):
    """Where the platform reads and writes; built from PACCTO_* variables."""

    source_mode: str
    warehouse: str
    build_db: str
    raw_dir: str
    publish_dir: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PacctoConfig:
        return cls(source_mode=settings.source_mode, warehouse=str(settings.warehouse),
                   build_db=str(settings.build_db), raw_dir=str(settings.raw_dir),
                   publish_dir=str(settings.publish_dir))

    @property
    def settings(self) -> Settings:
        return Settings(self.source_mode, Path(self.warehouse), Path(self.build_db),
                        Path(self.raw_dir), Path(self.publish_dir))

    @contextlib.contextmanager
    def yield_for_execution(self, context):
        """Hold the lock for the run, and first repair what an interrupted release left
        (before any step, so before any gate)."""
        from paccto_data.publication.release import recover_releases

        relaxed_sqlite_sync()
        try:
            with _run_lock(self.build_db, context):
                for line in recover_releases(self.settings):
                    (context.log.warning if getattr(context, "log", None) else print)(line)
                with super().yield_for_execution(context) as value:
                    yield value
        finally:
            release_sqlite_anchors()  # (a test process runs many instances, one after another)


class BuildDatabase(DuckDBResource):
    """The one DuckDB resource of the build database, holding the data directory's lock.

    Within a run the database is opened once, at the first step that asks for it, and each
    `get_connection()` is a cursor of it (its own transactions, the same database); the run
    closes it, which checkpoints. Opening the file for every step cost about 20 ms a step,
    more than a second of a cold build. Outside a run, each call opens and closes the file."""

    _run_database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)

    @contextlib.contextmanager
    def yield_for_execution(self, context):
        with _run_lock(self.database, context), super().yield_for_execution(context) as value:
            value._in_run = True
            try:
                yield value
            finally:
                ahead.discard()  # tables handed to the validation worker and never checked
                value._in_run = False
                if value._run_database is not None:
                    value._run_database.close()
                    value._run_database = None

    @contextlib.contextmanager
    def get_connection(self):
        if not self._in_run:
            with super().get_connection() as conn:
                yield conn
            return
        if self._run_database is None:
            self._run_database = duckdb.connect(self.database, read_only=False, config={
                "custom_user_agent": "dagster", **self.connection_config})
        cursor = self._run_database.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


def build_resources(settings: Settings) -> dict:
    settings.build_db.parent.mkdir(parents=True, exist_ok=True)
    return {
        "paccto": PacctoConfig.from_settings(settings),
        # The one way to the build database; the released file is written only by
        # `warehouse_release`, through this same connection.
        "duckdb": BuildDatabase(database=str(settings.build_db)),
    }

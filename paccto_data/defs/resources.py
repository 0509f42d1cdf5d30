"""Resources, configured from the environment (the README's "Configuration").

Both hold the lock of the data directory (paccto_data/lock.py) for as long as a run uses
them, whoever launched it (make run, a test, the UI): a run waits for another process's build
or release of the same data directory. `make run` already holds it; the lock is re-entrant.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from paccto_data.lock import data_lock_path, held
from paccto_data.quality import ahead
from paccto_data.settings import Settings


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
        # (defs/storage imports Dagster's SQLite storages: not at the code location's load)
        from paccto_data.defs.storage import relaxed_sqlite_sync, release_sqlite_anchors
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

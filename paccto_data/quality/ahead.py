"""Validation on the second core, while the build writes the next tables and packages.

A run executes its steps one after another in one process (DuckDB lets one process write the
build database), so a blocking check used to run only when Dagster reached its step, in the
build's own process. Now the step that writes a table or a package hands it to one worker
process, which validates while the run goes on, and the check step takes the worker's verdict
only if what it checks is what the worker validated:

- a table: the step copies it to a Parquet file (DuckDB's COPY: no rows pass through the
  build's Python); the worker, which imports Great Expectations once, reads the file back as
  the check reads the table (`SuiteInputs`) and runs its suite. The check takes the outcome
  if the suite, the value sets and every cell are the same (`SuiteInputs.fingerprint`).
- a package: the worker runs frictionless over it (publication.validation.validate_package).
  The check takes a clean verdict for the descriptor's sha256, and validate_package then
  checks every file against the hashes in that descriptor, so the bytes are the ones
  validated.

Otherwise, or if the worker failed, the check validates in its own process. Either way the
verdict is the one the same code gives on the same input. Tables above AHEAD_MAX_ROWS and
packages above AHEAD_MAX_PACKAGE_BYTES are not handed over, for memory (see there).

The worker is started by the first table of the process, or ahead of it (`start`: `make
run` starts it as it begins, and stops it if there is nothing to validate), and serves every
later run of the process; it exits with the process, also when the process is killed (its
stdin closes), and removes its folder of handed-over files then.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paccto_data.quality import suites

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


@dataclass
class SuiteInputs:
    """What a table's suite validates: the suite, the table, the value sets it names."""

    table: str
    suite: dict
    frame: pd.DataFrame
    parameters: dict

    @classmethod
    def read(cls, conn: duckdb.DuckDBPyConnection, qualified_table: str) -> SuiteInputs:
        """Raises suites.SuiteError for a suite that cannot be read."""
        from paccto_data.warehouse.tables import read_table

        suite, parameters = _suite_and_parameters(conn, qualified_table)
        return cls(qualified_table, suite, read_table(conn, qualified_table), parameters)

    def validate(self) -> suites.SuiteOutcome:
        return suites.validate(self.frame, self.suite, self.parameters,
                               key_columns=self.suite.get("meta", {}).get("key_columns"),
                               name=self.table)

    def fingerprint(self) -> tuple:
        """What the outcome depends on, without the rows themselves: the suite, the value
        sets, the columns and their types, and a sha256 over pandas' hash of every row."""
        import hashlib

        import pandas as pd

        digest = hashlib.sha256(pd.util.hash_pandas_object(self.frame.index).to_numpy())
        for _, column in self.frame.items():
            try:
                hashed = pd.util.hash_pandas_object(column, index=False)
            except TypeError:  # cells holding lists (DuckDB LIST columns): by their text
                hashed = pd.util.hash_pandas_object(column.map(_as_text), index=False)
            digest.update(hashed.to_numpy())
        return (self.table, json.dumps(self.suite, sort_keys=True, default=str),
                json.dumps(self.parameters, sort_keys=True, default=str),
                tuple((str(c), str(t)) for c, t in self.frame.dtypes.items()),
                len(self.frame), digest.hexdigest())


def _suite_and_parameters(conn: duckdb.DuckDBPyConnection, qualified_table: str
                          ) -> tuple[dict, dict]:
    suite = suites.load_suite_file(suites.suite_path(qualified_table))
    return suite, suites.warehouse_parameters(conn, suites.parameter_names(suite))


def _as_text(value) -> str:
    return repr(value.tolist() if hasattr(value, "tolist") else value)


@dataclass(frozen=True)
class _Handover:
    """A table as the step that wrote it left it: its rows in a Parquet file that the worker
    reads and deletes, with each column's DuckDB type (Parquet has no TIMESTAMP_S, for one:
    the worker casts back, so its frame is the one the check reads), and the suite and value
    sets read with it."""

    table: str
    suite: dict
    parameters: dict
    path: str
    types: tuple[tuple[str, str], ...]
    rank = 0  # the worker takes tables first (_serve)

    @classmethod
    def write(cls, conn: duckdb.DuckDBPyConnection, qualified_table: str, path: Path
              ) -> _Handover:
        from paccto_data.warehouse.tables import quote, sql_string

        schema, name = (quote(part) for part in qualified_table.split("."))
        suite, parameters = _suite_and_parameters(conn, qualified_table)
        types = tuple((c, t) for c, t, *_ in
                      conn.execute(f"DESCRIBE SELECT * FROM {schema}.{name}").fetchall())
        conn.execute(f"COPY (SELECT * FROM {schema}.{name}) TO {sql_string(str(path))} "
                     "(FORMAT parquet, COMPRESSION uncompressed)")
        return cls(qualified_table, suite, parameters, str(path), types)

    def read(self, reader: duckdb.DuckDBPyConnection) -> SuiteInputs:
        from paccto_data.warehouse.tables import quote

        columns = ", ".join(f"CAST({quote(c)} AS {t}) AS {quote(c)}" for c, t in self.types)
        frame = reader.execute(f"SELECT {columns} FROM read_parquet(?)", [self.path]).df()
        return SuiteInputs(self.table, self.suite, frame, self.parameters)

    def run(self, reader: duckdb.DuckDBPyConnection) -> tuple[tuple, suites.SuiteOutcome]:
        """In the worker: (the fingerprint of what was validated, the outcome)."""
        try:
            inputs = self.read(reader)
        finally:
            Path(self.path).unlink(missing_ok=True)
        return inputs.fingerprint(), inputs.validate()


@dataclass(frozen=True)
class _PackageJob:
    """A package written in the build area, to validate whole."""

    folder: str
    rank = 1  # after the tables handed over before it is taken (_serve)

    def run(self, reader) -> tuple[tuple[str, bool], list[str]]:
        """In the worker: (the descriptor's digest, as validate_package keys it; problems)."""
        from paccto_data.publication import validation

        folder = Path(self.folder)
        seen = validation.package_digest(folder)
        return seen, validation.validate_package(folder)


class _Worker:
    """`python -m paccto_data.quality.ahead FOLDER`: reads pickled (number, job) on its stdin
    (a _Handover or a _PackageJob), writes pickled (number, ok, job.run() or error) on its
    stdout. When the process that started it ends, killed or not, its stdin closes: it stops
    at once and removes FOLDER, where the handed-over files are."""

    def __init__(self) -> None:
        import paccto_data

        root = str(Path(paccto_data.__file__).resolve().parent.parent)  # this very code
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.folder = Path(tempfile.mkdtemp(prefix="paccto-suites-"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paccto_data.quality.ahead", str(self.folder)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
        self.futures: dict[int, Future] = {}
        self.lock = threading.Lock()
        self.count = 0
        self.files = itertools.count(1)
        threading.Thread(target=self._read, name="paccto-suite-worker", daemon=True).start()

    def handover(self, conn: duckdb.DuckDBPyConnection, qualified_table: str) -> Future:
        """Raises suites.SuiteError, duckdb.Error or OSError if the table cannot be handed
        over (the check validates it then, and names the problem)."""
        path = self.folder / f"{next(self.files)}.parquet"
        return self.send(_Handover.write(conn, qualified_table, path))

    def send(self, job: _Handover | _PackageJob) -> Future:
        future: Future = Future()
        with self.lock:
            self.count += 1
            self.futures[self.count] = future
            try:  # a few kB: the worker reads its stdin all the time, this never waits
                pickle.dump((self.count, job), self.process.stdin, protocol=5)
                self.process.stdin.flush()
            except (OSError, ValueError, pickle.PicklingError) as exc:
                self.futures.pop(self.count, None)
                future.set_exception(exc)
        return future

    def _read(self) -> None:
        while True:
            try:
                number, ok, value = pickle.load(self.process.stdout)
            except Exception:  # EOF or a broken message: the worker is gone
                break
            with self.lock:
                future = self.futures.pop(number, None)
            if future is not None and future.set_running_or_notify_cancel():
                (future.set_result if ok else future.set_exception)(value)
        with self.lock:
            orphans, self.futures = list(self.futures.values()), {}
        for future in orphans:
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the suite worker ended"))

    def stop(self, at_once: bool = False) -> None:
        """Close its stdin and let it finish; `at_once`: kill it (it may still be importing
        Great Expectations, which it would finish before it notices its stdin closed)."""
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if at_once:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


WAIT_SECONDS = 900  # the largest suite at 100x the real data takes well under a minute
_worker: _Worker | None = None
# a table -> the worker's (fingerprint, outcome); a package folder -> (digest, problems)
_pending: dict[str, Future] = {}


def start() -> None:
    """Start the worker now, if it is not running: `make run` calls it as it begins, so that
    the worker imports Great Expectations (about 2 s) while the build loads its definitions
    and works out what is stale, rather than while the first check waits for it."""
    _started()


def _started() -> _Worker:
    global _worker
    if _worker is None or _worker.process.poll() is not None:
        if _worker is not None:
            _worker.stop()
        _worker = _Worker()
        atexit.register(_worker.stop)
    return _worker


# Above these, a table or a package is validated in its check's own step, in the build's
# process, as without the worker. The worker keeps the memory of the largest frame it has
# read (the allocator does not give it back), and while it validates one table the build
# writes the next: at 100x the real data the two together passed 4 GiB. At 1x the largest
# table has 46,000 rows and the largest package 3.3 MB.
AHEAD_MAX_ROWS = 250_000
AHEAD_MAX_PACKAGE_BYTES = 64 * 2**20


def submit(conn: duckdb.DuckDBPyConnection, qualified_table: str) -> None:
    """Start validating `qualified_table` as it is now (no suite, a value-set table not
    built yet, or more than AHEAD_MAX_ROWS rows: nothing to start; the check step validates,
    and names any problem)."""
    import duckdb

    from paccto_data.warehouse.tables import quote

    discard(qualified_table)
    if not suites.suite_path(qualified_table).exists():
        return
    try:
        schema, name = (quote(part) for part in qualified_table.split("."))
        if conn.execute(f"SELECT count(*) FROM {schema}.{name}").fetchone()[0] \
                > AHEAD_MAX_ROWS:
            return
        _pending[qualified_table] = _started().handover(conn, qualified_table)
    except (suites.SuiteError, duckdb.Error, OSError):
        return


def submit_package(folder: Path) -> None:
    """Start validating the package just written in `folder` (its check takes the verdict:
    `package_problems`), unless its data files pass AHEAD_MAX_PACKAGE_BYTES."""
    discard(_package_key(folder))
    if sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) \
            > AHEAD_MAX_PACKAGE_BYTES:
        return
    _pending[_package_key(folder)] = _started().send(_PackageJob(str(folder)))


def package_problems(folder: Path) -> list[str]:
    """Why the package in `folder` is not fit to publish (empty: it is), as
    validation.validate_package says: if the worker found the package clean, frictionless is
    not run again on the same descriptor, but every file is still checked against it."""
    from paccto_data.publication import validation

    answer = _answer(_package_key(folder))
    if answer is not None and not answer[1]:  # (digest, problems): the worker found none
        validation.remember_valid(answer[0])
    return validation.validate_package(folder)


def _package_key(folder: Path) -> str:
    return f"package {Path(folder).resolve()}"


def outcome(inputs: SuiteInputs) -> suites.SuiteOutcome:
    """The suite's outcome on `inputs`: the worker's, if it validated the same inputs, else
    validated here."""
    answer = _answer(inputs.table)  # (fingerprint, outcome)
    if answer is not None and answer[0] == _fingerprint_of(inputs):
        return answer[1]
    return inputs.validate()


def _answer(key: str) -> tuple | None:
    """The worker's answer to what was handed over under `key`, waited for; None if nothing
    was, or the worker died, failed or hangs (the caller validates itself, as without it)."""
    future = _pending.pop(key, None)
    if future is None:
        return None
    try:
        return future.result(timeout=WAIT_SECONDS)
    except Exception:
        future.cancel()
        return None


def _fingerprint_of(inputs: SuiteInputs) -> tuple | None:
    try:
        return inputs.fingerprint()
    except (TypeError, ValueError):
        return None


def discard(qualified_table: str | None = None) -> None:
    """Forget what was submitted (for one table, or all: at the end of a run)."""
    for table in [qualified_table] if qualified_table else list(_pending):
        future = _pending.pop(table, None)
        if future is not None:
            future.cancel()


def stop(at_once: bool = False) -> None:
    """Stop the worker (a later table starts a new one); `at_once`: without waiting for what
    it is doing (nothing it validated is wanted any more)."""
    global _worker
    discard()
    if _worker is not None:
        _worker.stop(at_once)
        _worker = None


def _serve(folder: Path) -> None:
    """The worker: GX imported and its context built before the first table arrives. A
    thread reads stdin as messages come, so the build never waits to hand a table over, and
    notices at once when the build has gone."""
    import queue

    import duckdb

    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever GX prints goes to stderr, never into the channel
    # Tables first, in the order they came; packages after them. A table's suite gates the
    # steps downstream of it, a package's validation only the release at the end, so the
    # build waits least when a package handed over earlier waits for a table handed after.
    inbox: queue.PriorityQueue = queue.PriorityQueue()
    gone = threading.Event()

    def receive() -> None:
        while True:
            try:
                number, job = pickle.load(sys.stdin.buffer)
                inbox.put((job.rank, number, job))
            except Exception:  # EOF: the build ended, killed or not
                gone.set()
                inbox.put((-1, 0, None))
                return

    threading.Thread(target=receive, daemon=True).start()
    try:
        suites.prepare()
        reader = duckdb.connect()
        while (message := inbox.get())[2] is not None and not gone.is_set():
            _, number, job = message
            try:
                answer = (number, True, job.run(reader))
            except Exception as exc:  # sent back as text: the caller validates itself
                answer = (number, False, RuntimeError(f"{type(exc).__name__}: {exc}"))
            job = message = None  # a table's frame goes before the worker waits for the next
            try:
                pickle.dump(answer, channel, protocol=5)
                channel.flush()
            except BrokenPipeError:
                return
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    from paccto_data.process import run_then_exit

    run_then_exit(lambda: _serve(Path(sys.argv[1])))

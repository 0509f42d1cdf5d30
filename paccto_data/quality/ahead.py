"""A table's suite validated on the second core while the build writes the next tables.

A run executes its steps one after another in one process (DuckDB lets one process write the
build database), so a blocking suite used to run only when Dagster reached its check step, in
the build's own process, which also paid Great Expectations' import (about 3 s). Now the step
that writes a table reads it back as the check will (`SuiteInputs`) and hands it to one
worker process, which imports GX once and validates while the run goes on. The check step
reads its inputs again and takes the worker's outcome only if the suite, the table's rows
and the suite's value sets are what the worker was given (`SuiteInputs.fingerprint`);
otherwise, or if the worker failed, it validates in its own process. Either way the outcome
is `suites.validate` on the same input.

The worker is started by the first table of the process and serves every later run of it;
it exits with the process, also when the process is killed (its stdin closes).
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import subprocess
import sys
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

        suite = suites.load_suite_file(suites.suite_path(qualified_table))
        return cls(qualified_table, suite, read_table(conn, qualified_table),
                   suites.warehouse_parameters(conn, suites.parameter_names(suite)))

    def validate(self) -> suites.SuiteOutcome:
        return suites.validate(self.frame, self.suite, self.parameters,
                               key_columns=self.suite.get("meta", {}).get("key_columns"),
                               name=self.table)

    def fingerprint(self) -> tuple:
        """What the outcome depends on, without the rows themselves: the suite, the value
        sets, the columns and their types, and a sha256 over pandas' hash of every row (a
        build keeps this, not the frame, for each table it handed over: at 100x the frames of
        every staging table at once would not fit the memory budget)."""
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


def _as_text(value) -> str:
    return repr(value.tolist() if hasattr(value, "tolist") else value)


class _Worker:
    """`python -m paccto_data.quality.ahead`: reads pickled (number, SuiteInputs) on its
    stdin, writes pickled (number, ok, outcome or error) on its stdout, one at a time. When
    the process that started it ends, killed or not, its stdin closes and it exits."""

    def __init__(self) -> None:
        import paccto_data

        root = str(Path(paccto_data.__file__).resolve().parent.parent)  # this very code
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paccto_data.quality.ahead"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
        self.futures: dict[int, Future] = {}
        self.lock = threading.Lock()
        self.count = 0
        threading.Thread(target=self._read, name="paccto-suite-worker", daemon=True).start()

    def submit(self, inputs: SuiteInputs) -> Future:
        future: Future = Future()
        with self.lock:
            self.count += 1
            self.futures[self.count] = future
            try:
                pickle.dump((self.count, inputs), self.process.stdin, protocol=5)
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

    def stop(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


WAIT_SECONDS = 900  # the largest suite at 100x the real data takes well under a minute
_worker: _Worker | None = None
_pending: dict[str, tuple[tuple, Future]] = {}  # table -> (fingerprint, the worker's answer)


def _started() -> _Worker:
    global _worker
    if _worker is None or _worker.process.poll() is not None:
        _worker = _Worker()
        atexit.register(_worker.stop)
    return _worker


def submit(conn: duckdb.DuckDBPyConnection, qualified_table: str) -> None:
    """Start validating `qualified_table` as it is now (no suite, or a value-set table not
    built yet: nothing to start; the check step validates, and names any problem)."""
    import duckdb

    if not suites.suite_path(qualified_table).exists():
        return
    try:
        inputs = SuiteInputs.read(conn, qualified_table)
        fingerprint = inputs.fingerprint()
    except (suites.SuiteError, duckdb.Error, TypeError, ValueError):
        return  # (a cell pandas cannot hash: the check validates it here)
    discard(qualified_table)
    _pending[qualified_table] = (fingerprint, _started().submit(inputs))


def outcome(inputs: SuiteInputs) -> suites.SuiteOutcome:
    """The suite's outcome on `inputs`: the worker's, if it validated the same inputs, else
    validated here."""
    submitted, future = _pending.pop(inputs.table, (None, None))
    if submitted is not None and submitted == _fingerprint_of(inputs):
        try:
            return future.result(timeout=WAIT_SECONDS)
        except Exception:  # the worker died, failed or hangs: validate here, as without it
            future.cancel()
    elif future is not None:
        future.cancel()
    return inputs.validate()


def _fingerprint_of(inputs: SuiteInputs) -> tuple | None:
    try:
        return inputs.fingerprint()
    except (TypeError, ValueError):
        return None


def discard(qualified_table: str | None = None) -> None:
    """Forget what was submitted (for one table, or all: at the end of a run)."""
    for table in [qualified_table] if qualified_table else list(_pending):
        _, future = _pending.pop(table, (None, None))
        if future is not None:
            future.cancel()


def stop() -> None:
    """Stop the worker (at exit; a later table starts a new one)."""
    global _worker
    discard()
    if _worker is not None:
        _worker.stop()
        _worker = None


def _serve() -> None:
    """The worker: GX imported and its context built before the first table arrives."""
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever GX prints goes to stderr, never into the channel
    suites.prepare()
    while True:
        try:
            number, inputs = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        try:
            answer = (number, True, inputs.validate())
        except Exception as exc:  # sent back as text: the caller validates itself
            answer = (number, False, RuntimeError(f"{type(exc).__name__}: {exc}"))
        del inputs  # the frame goes before the worker waits for the next one
        try:
            pickle.dump(answer, channel, protocol=5)
            channel.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    _serve()

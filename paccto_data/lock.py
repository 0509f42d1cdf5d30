"""One build, release, refresh or `accept` at a time per data directory, and temporary names
that carry their owner.

The lock is an OS file lock (fcntl.flock) on `.paccto.lock` beside the build database
(`data_lock(settings)`); a folder released whole also locks `.<name>.lock` beside itself
(`held(path)`). The kernel drops a lock when its process dies, so a killed holder never leaves
a stale lock. A lock is re-entrant within a process: `make run` holds it while the assets it
runs in-process take it again. A second process waits, saying who holds it (pid, command and
since when, written in the lock file); with PACCTO_LOCK_TIMEOUT=<seconds> it gives up after
that long with a LockBusyError naming the holder.

Temporary files and folders are named `<name>.<pid>.<kind>` (`owned`); `leftovers` finds
those of processes that are no longer alive, the only ones a recovery may touch.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from paccto_data.errors import LockBusyError

LOCK_NAME = ".paccto.lock"
TIMEOUT_VARIABLE = "PACCTO_LOCK_TIMEOUT"
POLL_SECONDS = 0.1

_guard = threading.Lock()
_held: dict[str, list] = {}  # real path -> [open file, depth]


def data_lock_path(build_db: Path) -> Path:
    """The lock of a data directory: beside the build database."""
    return Path(build_db).parent / LOCK_NAME


def folder_lock_path(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.lock")


def timeout_from_env() -> float | None:
    value = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    return float(value) if value else None


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def holder_of(path: Path) -> str:
    """What the lock file says of its holder (written by the holder once it has the lock)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return text or "another process (it has not written its name yet)"


@contextmanager
def held(path: Path, what: str, *, timeout: float | None | str = "env",
         say: Callable[[str], None] = _say) -> Iterator[None]:
    """Hold the lock file `path` for `what` (e.g. "make run"). Re-entrant within a process.
    Busy: say who holds it and wait; `timeout` seconds (default PACCTO_LOCK_TIMEOUT, unset:
    no limit) then LockBusyError."""
    key = os.path.realpath(path)
    with _guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
    if entry is not None:
        try:
            yield
        finally:
            with _guard:
                entry[1] -= 1
        return
    if timeout == "env":
        timeout = timeout_from_env()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed below, after the lock
    try:
        _acquire(handle, path, what, timeout, say)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} ({what}: "
                     f"{' '.join(sys.argv) or sys.executable}) since "
                     f"{dt.datetime.now().isoformat(timespec='seconds')}\n")
        handle.flush()
        with _guard:
            _held[key] = [handle, 1]
        try:
            yield
        finally:
            with _guard:
                del _held[key]
            handle.seek(0)
            handle.truncate()
            handle.flush()
    finally:
        handle.close()  # closing the file releases the lock


def _acquire(handle, path: Path, what: str, timeout: float | None, say) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    holder = holder_of(path)
    say(f"{what}: {path} is held by {holder}; waiting for it"
        + (f" (at most {timeout:g} s)" if timeout is not None else ""))
    if timeout is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockBusyError(path, holder_of(path), timeout) from None
            time.sleep(POLL_SECONDS)


def data_lock(settings, what: str, **options):
    """Hold the lock of the data directory of `settings` (see `held`)."""
    return held(data_lock_path(settings.build_db), what, **options)


# --- temporary names that carry their owner ----------------------------------------------------


def owned(path: Path, kind: str, hidden: bool = False) -> Path:
    """`<name>.<pid>.<kind>` beside `path` (`.<name>.<pid>.<kind>` if hidden)."""
    return path.with_name(f"{'.' if hidden else ''}{path.name}.{os.getpid()}.{kind}")


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(path: Path, kind: str) -> list[Path]:
    """Temporary names of `path` of kind `kind` (`<name>[.<pid>].<kind>`, hidden or not, and
    DuckDB's `.wal` of one) whose owner is not alive, oldest first. A name without a pid (an
    older release's) has no live owner."""
    pattern = re.compile(rf"\.?{re.escape(path.name)}(?:\.(\d+))?\.{re.escape(kind)}(?:\.wal)?")
    found = []
    if not path.parent.is_dir():
        return found
    for candidate in path.parent.iterdir():
        match = pattern.fullmatch(candidate.name)
        if match and not (match.group(1) and pid_alive(int(match.group(1)))):
            found.append(candidate)
    return sorted(found, key=lambda p: (p.lstat().st_mtime, p.name))

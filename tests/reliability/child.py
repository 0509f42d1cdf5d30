"""One acquisition or workbook read, as a test runs it in a child process (so that its peak
memory can be measured alone, and an abort would not take the test run with it) or in the
test process itself: `run(job)` gives the outcome as a JSON-able dict.

    python tests/reliability/child.py '{"action": "acquire", ...}'   # prints the outcome
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

URL_VARIABLE = "PACCTO_URL_HOSTILE"


def _acquire(job: dict) -> dict:
    from paccto_data.acquire import fetch, records
    from paccto_data.http import HttpClient
    from paccto_data.settings import Settings

    source = records.load_source(Path(job["source"]))
    raw = Path(job["raw_dir"])
    settings = Settings(source_mode="live", warehouse=raw / "w.duckdb",
                        build_db=raw / "b.duckdb", raw_dir=raw, publish_dir=raw / "p")
    client = HttpClient(connect_timeout=2.0, read_timeout=job.get("read_timeout", 2.0),
                        attempts=2, backoff=0.01)
    saved = os.environ.get(URL_VARIABLE)
    os.environ[URL_VARIABLE] = job["url"]
    try:
        files = fetch.acquire(source, settings, client)
    finally:
        if saved is None:
            os.environ.pop(URL_VARIABLE, None)
        else:
            os.environ[URL_VARIABLE] = saved
    return {"files": {f.file_id: str(f.path) for f in files}}


def _read_sheet(job: dict) -> dict:
    from paccto_data.acquire import records
    from paccto_data.limits import reading
    from paccto_data.sources._common import read_sheet

    path = Path(job["path"])
    limits = {}
    if job.get("source"):
        source = records.load_source(Path(job["source"]))
        limits = {path: source.limits_for(source.files[0])}
    with reading(limits):
        sheet = read_sheet(path, job.get("required", []), sheet=job.get("sheet"))
    return {"rows": len(sheet.frame)}


def run(job: dict) -> dict:
    import paccto_data.acquire.fetch  # noqa: F401 - imported before the clock starts

    if job["action"] == "read_sheet":
        import paccto_data.sources._common  # noqa: F401

    start = time.monotonic()
    try:
        outcome = {"ok": True, **{"acquire": _acquire, "read_sheet": _read_sheet}[
            job["action"]](job)}
    except Exception as exc:  # the outcome is the refusal
        outcome = {"ok": False, "error": type(exc).__name__, "message": str(exc),
                   "limit": getattr(exc, "limit", None)}
    outcome["seconds"] = round(time.monotonic() - start, 3)
    return outcome


def peak_mib() -> float:
    """This process's peak resident memory since it started (VmHWM). Not getrusage: on Linux
    a child's ru_maxrss also counts the parent's memory at the fork, before the exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    outcome = run(json.loads(sys.argv[1]))
    outcome["peak_mib"] = round(peak_mib(), 1)
    print(json.dumps(outcome))

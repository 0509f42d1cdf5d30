"""Running a hostile case and measuring it: `outcome(job, child=...)` runs `child.run(job)`
in a child process (its peak RSS, VmHWM, reported by the child itself) or in the test
process.
PACCTO_RELIABILITY_CHILD=all runs every case in a child; PACCTO_RELIABILITY_TABLE=<path>
writes the measured table (case | result | peak MiB | seconds) there at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("child.py")
ROOT = Path(__file__).resolve().parents[2]
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@dataclass
class Outcome:
    ok: bool
    error: str | None
    message: str
    limit: str | None
    seconds: float  # inside the run, interpreter start-up excluded
    peak_mib: float | None  # the child's peak RSS; None when run in the test process
    returncode: int = 0
    detail: dict | None = None


def run_in_child(job: dict, folder: Path) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        returncode = subprocess.run([sys.executable, str(CHILD), json.dumps(job)],
                                    stdout=out, stderr=err, env=env).returncode
    text = (folder / "stdout").read_text()
    if returncode != 0 or not text.strip():  # e.g. -6: SIGABRT
        return Outcome(False, f"exit {returncode}", (folder / "stderr").read_text()[-2000:],
                       None, 0.0, None, returncode)
    result = json.loads(text)
    return Outcome(result["ok"], result.get("error"), result.get("message", ""),
                   result.get("limit"), result["seconds"], result["peak_mib"], 0, result)


def run_here(job: dict) -> Outcome:
    from .child import run

    result = run(job)
    return Outcome(result["ok"], result.get("error"), result.get("message", ""),
                   result.get("limit"), result["seconds"], None, 0, result)


_TABLE: list[tuple[str, str, str, str]] = []


@pytest.fixture
def outcome(request, tmp_path, monkeypatch):
    """outcome(job, case="…", child=False) -> Outcome, recorded for the table."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    every = os.environ.get("PACCTO_RELIABILITY_CHILD") == "all"

    def run(job: dict, case: str, child: bool = False) -> Outcome:
        result = run_in_child(job, tmp_path / f"child-{len(_TABLE)}") if child or every \
            else run_here(job)
        shown = "accepted" if result.ok else f"{result.error}" + (
            f" ({result.limit})" if result.limit else "")
        _TABLE.append((case, shown, f"{result.peak_mib:.0f}" if result.peak_mib else "-",
                       f"{result.seconds:.2f}"))
        return result

    return run


@pytest.fixture
def table_row():
    """table_row(case, result, peak_mib, seconds): one more row of the measured table."""
    return lambda *row: _TABLE.append(tuple(str(cell) for cell in row))


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("PACCTO_RELIABILITY_TABLE")
    if target and _TABLE:
        lines = ["| fault or hostile input | result | peak MiB | seconds |",
                 "|---|---|---|---|"] + [f"| {' | '.join(row)} |" for row in _TABLE]
        Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")

"""Long-running processes the tests start themselves (a Dagster webserver and daemon, `make ui`):
each in a process group of its own, stopped as a terminal's Ctrl-C stops it, and the whole group
killed if anything is left, so no test leaves a stray process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

# Variables of an outer `make test` that would confuse a `make` the test starts itself.
_MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    """The `data` of a GraphQL query to the Dagster webserver at `url`; a GraphQL error
    fails the test with the server's errors."""
    response = requests.post(f"{url}/graphql", json={"query": query,
                                                     "variables": variables or {}}, timeout=60)
    response.raise_for_status()
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def clean_environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES}
    env.update(overrides)
    return env


def _interruptible() -> None:
    # A shell that starts pytest in the background ignores SIGINT, and children inherit that;
    # Dagster maps SIGTERM to its SIGINT handler, so restore the default for both to work.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes whose command line or environment contains `text`
    (a temporary DAGSTER_HOME, a browser profile): what a test must not leave behind."""
    found = []
    needle = text.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes()
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                environ = b""
        except OSError:
            continue
        if needle in cmdline or needle in environ:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
    return found


class Service:
    """A command in its own process group (session), its output in `log`."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str], log: Path):
        self.command = command
        self.log = log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_interruptible)
        self.pgid = self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive_in_group(self) -> list[int]:
        """Every live process of the group (by /proc), zombies excluded."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            state, pgid = fields[0], int(fields[2])
            if pgid == self.pgid and state != "Z":
                pids.append(int(entry.name))
        return pids

    def wait_http(self, url: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, (
                f"{' '.join(self.command)} exited with {self.process.returncode}:\n"
                f"{self.output()[-4000:]}")
            try:
                if requests.get(url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (
                f"{url} not served within {timeout:.0f} s:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def stop(self, timeout: float = 60.0, signal_name: str = "SIGINT") -> list[int]:
        """Ctrl-C's SIGINT to the whole group (as a terminal sends it; SIGTERM as systemd
        stops a unit), then wait for every process of the group to end; what is still there
        after `timeout` is killed and its pids returned (an empty list: everything stopped
        by itself)."""
        try:
            os.killpg(self.pgid, getattr(signal, signal_name))
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        left = self.alive_in_group()
        while left and time.monotonic() < deadline:
            self.process.poll()  # reap our own child
            time.sleep(0.1)
            left = self.alive_in_group()
        if left:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._log_file.close()
        return left

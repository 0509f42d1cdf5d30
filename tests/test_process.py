"""How `make run` and its validation worker end (paccto_data/process.py): without CPython's
teardown of every loaded module, yet with the exit code, the output and every atexit handler
registered while the command ran."""

import subprocess
import sys

COMMAND = """
import atexit, sys
from pathlib import Path
from paccto_data.process import run_then_exit

folder = Path(sys.argv[1])

class Teardown:  # freed in the teardown of this module, if there is one
    def __del__(self):
        (folder / "teardown").write_text("ran")

kept = Teardown()

def main():
    atexit.register(lambda: (folder / "handler").write_text("ran"))
    sys.stdout.write("x" * 100_000)  # a pipe: buffered until the exit flushes it
    if sys.argv[2] == "raise":
        raise RuntimeError("the command failed")
    return int(sys.argv[2])

run_then_exit(main)
"""


def run(folder, how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", COMMAND, str(folder), how],
                          capture_output=True, text=True, timeout=60)


def test_a_command_that_returns_exits_with_its_code_output_and_handlers_but_no_teardown(
        tmp_path):
    for code in (0, 3):
        folder = tmp_path / str(code)
        folder.mkdir()
        done = run(folder, str(code))
        assert done.returncode == code, done.stderr
        assert done.stdout == "x" * 100_000
        assert (folder / "handler").read_text() == "ran"
        assert not (folder / "teardown").exists()  # the process ended before it


def test_a_command_that_raises_ends_the_usual_way(tmp_path):
    done = run(tmp_path, "raise")
    assert done.returncode == 1
    assert "RuntimeError: the command failed" in done.stderr
    assert done.stdout == "x" * 100_000
    assert (tmp_path / "handler").read_text() == "ran"
    assert (tmp_path / "teardown").read_text() == "ran"

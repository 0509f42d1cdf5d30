"""Profile a cold `make run` with pyinstrument and print its top entries.

    make profile          (installs pyinstrument, the `profile` extra, into .venv first)
    .venv/bin/python bench/profile.py [--top 25] [--html FILE]

Runs `python -m pyinstrument -m paccto_data.defs.build` in a fresh process against a temporary
directory (as bench/build.py times it), then prints two flat lists from the session: the
functions with the most time on the stack (inclusive, each function counted once per stack)
and with the most time at the top of the stack (self), leaving out the call chain every step
runs through (on the stack ≥ 70% of the run). Sampling, every 1 ms of wall time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import ROOT_DIR, environment  # noqa: E402


def flat(session, top: int) -> tuple[list, list, float]:
    inclusive, own = Counter(), Counter()

    def walk(frame, seen: frozenset) -> None:
        if frame.identifier.startswith("[self]"):  # pyinstrument's own self-time leaves
            return
        name = f"{frame.function} ({Path(frame.file_path or '?').name}:{frame.line_no})"
        if frame.file_path and "paccto_data" in frame.file_path:
            name = f"{frame.function} ({frame.file_path.split('paccto_data/', 1)[-1]})"
        if name not in seen:
            inclusive[name] += frame.time
        own[name] += frame.total_self_time
        for child in frame.children:
            walk(child, seen | {name})

    root = session.root_frame()
    walk(root, frozenset())
    # the call chain every step runs through (runpy, the builder, Dagster's executor) says
    # nothing: list what lies below it
    chain = {n for n, t in inclusive.items() if t >= 0.7 * session.duration}
    inclusive = Counter({n: t for n, t in inclusive.items() if n not in chain})
    return inclusive.most_common(top), own.most_common(top), session.duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report")
    parser.add_argument("--session", type=Path, help="also keep the pyinstrument session here")
    args = parser.parse_args()
    from pyinstrument.session import Session

    with tempfile.TemporaryDirectory(prefix="paccto-profile-") as tmp:
        work = Path(tmp)
        saved = work / "build.pyisession"
        command = [sys.executable, "-m", "pyinstrument", "-i", "0.001", "-r", "pyisession",
                   "-o", str(saved), "-m", "paccto_data.defs.build"]
        env = {**__import__("os").environ, **environment(work)}
        subprocess.run(command, cwd=ROOT_DIR, env=env, check=True, stdout=subprocess.DEVNULL)
        session = Session.load(str(saved))
        if args.session:
            shutil.copy2(saved, args.session)
        if args.html:
            from pyinstrument.renderers import HTMLRenderer

            args.html.write_text(HTMLRenderer().render(session))
    inclusive, own, duration = flat(session, args.top)
    print(f"cold make run under pyinstrument: {duration:.1f} s wall")
    print(f"\n{'inclusive s':>11}  function")
    for name, seconds in inclusive:
        print(f"{seconds:11.2f}  {name}")
    print(f"\n{'self s':>11}  function")
    for name, seconds in own:
        print(f"{seconds:11.2f}  {name}")


if __name__ == "__main__":
    main()

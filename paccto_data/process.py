"""Ending a long command quickly: `make run` and its validation worker.

Once a command has done its work, CPython still frees the objects of every module it loaded,
one by one, before the process ends: 0.8 s once Dagster is loaded, and about as long in the
validation worker with Great Expectations, at the end of every build. `run_then_exit(main)`
runs `main()`, lets the exit do what matters (the atexit handlers registered while `main()`
ran, in their usual order: the SQLite checkpoints, the worker stopped; then logging and the
standard streams flushed) and ends the process there, with os._exit, before that teardown.
If `main()` raises, the process ends the usual way, with its traceback.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run_then_exit(main: Callable[[], int | None]) -> NoReturn:
    """`sys.exit(main())`, without the teardown of the loaded modules."""
    code: list[int] = []

    def exit_now() -> None:
        if not code:  # main() raised: the usual exit, traceback and all
            return
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed, or nobody reads any more
                pass
        os._exit(code[0])

    # atexit calls the last registered first: this one comes after every handler that
    # main() registers (non-daemon threads are joined before any handler runs)
    atexit.register(exit_now)
    code.append(main() or 0)
    sys.exit(code[0])

"""A test hook, and only that: `PACCTO_TEST_PAUSE_AT=<point>=<marker file>` makes the process
write its pid to the marker file when it reaches the named point, then sleep, so that a test
can SIGKILL it exactly there (tests/reliability/test_kills.py). Unset, it does nothing.

Points: `staging_write` (a staging table written, not yet checkpointed), `warehouse_release`
(the release's temporary file written, not yet renamed), `publication_fill` (the new
published tree assembled beside the old one, not yet validated), `between_swap_renames`
(the old tree renamed aside, the new one not yet in place)."""

from __future__ import annotations

import os
import time
from pathlib import Path

VARIABLE = "PACCTO_TEST_PAUSE_AT"
PAUSE_SECONDS = 300


def pause_point(name: str) -> None:
    point, _, marker = os.environ.get(VARIABLE, "").partition("=")
    if point != name or not marker:
        return
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(PAUSE_SECONDS)

"""Check the activity register, or accept it as the snapshot the build reads:

    python -m paccto_data.activities check [REGISTER]    # list every problem in the register
    python -m paccto_data.activities accept [REGISTER]   # check, then make it the snapshot

REGISTER defaults to assets/activities/activities.csv. `accept` promotes the register through
the one promoter (paccto_data/acquire/promote.py): it is copied byte for byte to
assets/snapshots/paccto_activities/ and its sha256, size, vintage (the newest `source_date`),
retrieval date (today) and coverage (the years of `start_date`) are written into
assets/sources/paccto_activities.yaml in place, keeping its comments. Nothing changes unless
every step succeeds. Exit status: 0 done; 1 problems in the register (nothing accepted);
2 a wrong command, or a promotion the promoter refused (nothing accepted). `accept` holds
the lock of the data directory (paccto_data/lock.py): it waits for a running build.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from paccto_data.acquire import promote
from paccto_data.activities.register import (
    REGISTER_PATH,
    SOURCE_ID,
    RegisterError,
    check_register,
    read_register,
    register_vintage,
)
from paccto_data.errors import PacctoError, SourceDataError
from paccto_data.fileio import sha256_of
from paccto_data.lock import data_lock
from paccto_data.settings import ASSETS_DIR, Settings


def accept(register: Path = REGISTER_PATH, *, assets_root: Path = ASSETS_DIR,
           today: dt.date | None = None) -> str:
    """Check the register; if valid, make it the snapshot of source `paccto_activities` under
    `assets_root` and record it in the source's YAML. Returns what was done. The bytes checked
    are the bytes promoted: the register is copied aside first, and the copy is checked."""
    register = Path(register)
    with tempfile.TemporaryDirectory(prefix="paccto-accept-") as folder:
        checked = Path(folder) / register.name
        shutil.copyfile(register, checked)
        raw = read_register(checked)
        digest = sha256_of(checked)
        source = promote.load(SOURCE_ID, assets_root)
        spec = source.file("register")
        snapshot = promote.snapshot_dir(SOURCE_ID, assets_root) / spec.name
        if digest == spec.sha256 and snapshot.is_file() and sha256_of(snapshot) == digest:
            return f"{register.name}: {len(raw)} activities, already the accepted snapshot"
        years = sorted({int(d[:4]) for d in raw["start_date"]})
        promote.promote(SOURCE_ID, {spec.id: checked},
                        retrieved=(today or dt.date.today()).isoformat(),
                        vintage=register_vintage(raw), coverage=(years[0], years[-1]),
                        assets_root=assets_root)
    return (f"{register.name}: {len(raw)} activities accepted; snapshot {snapshot} and "
            f"{promote.yaml_path(SOURCE_ID, assets_root).name} updated (sha256 {digest})")


def main(argv: list[str] | None = None, *, assets_root: Path = ASSETS_DIR) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "check"
    path = Path(argv[1]) if len(argv) > 1 else REGISTER_PATH
    if command not in ("check", "accept") or len(argv) > 2:
        print(__doc__)
        return 2
    try:
        if command == "check":
            raw, problems = check_register(path)
            if problems:
                print(f"{path}: {len(problems)} problem(s):")
                for problem in problems:
                    print(f"  - {problem}")
                return 1
            print(f"{path}: {len(raw)} activities, no problems")
            return 0
        with data_lock(Settings.from_env(), "activities accept"):
            print(accept(path, assets_root=assets_root))
        return 0
    except RegisterError as exc:
        print(f"{path}: {len(exc.problems)} problem(s); nothing was accepted:")
        for problem in exc.problems:
            print(f"  - {problem}")
        return 1
    except SourceDataError as exc:  # the file itself (a missing or unknown column)
        print(exc)
        return 1
    except PacctoError as exc:  # the promotion was refused
        print(f"{exc}\nNothing was accepted.")
        return 2

"""Releasing the published folder whole: build into `<publish_dir>.<pid>.tmp`, validate every
package in it (and whatever the caller's check finds, e.g. the catalogue), then swap it in
by rename-aside (`publish_dir` -> `<publish_dir>.<pid>.old`, tmp -> `publish_dir`, delete
`.old`); `recover` repairs an interrupted swap at the start of the next release or build.
A release holds the folder's lock (`.<publish_dir>.lock`, paccto_data/lock.py) from its
recovery to its swap, and recovery touches only the temporary folders of dead processes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from paccto_data.errors import PackageInvalidError
from paccto_data.fileio import fsync_dir
from paccto_data.lock import folder_lock_path, held, leftovers, owned
from paccto_data.pausepoints import pause_point
from paccto_data.publication.validation import validate_package
from paccto_data.warehouse.release import recover_warehouse


def _lock(publish_dir: Path):
    return held(folder_lock_path(publish_dir), f"release of {publish_dir}")


def recover(publish_dir: Path) -> list[str]:
    """Repair an interrupted release, touching only what dead processes left: a missing
    `publish_dir` with a `.old` beside it is the previous release, restored; a `.old` beside
    a present `publish_dir` is a finished swap's leftover, and a `.tmp` an unfinished build:
    both deleted. Returns what was done."""
    done = []
    with _lock(publish_dir):
        olds = leftovers(publish_dir, "old")
        if olds and not publish_dir.exists():
            os.rename(olds[-1], publish_dir)
            fsync_dir(publish_dir.parent)
            done.append(f"restored the previous release from {olds[-1].name}")
        for old in leftovers(publish_dir, "old"):
            shutil.rmtree(old)
            done.append(f"deleted the superseded release {old.name}")
        for tmp in leftovers(publish_dir, "tmp"):
            shutil.rmtree(tmp)
            done.append(f"deleted the unfinished build {tmp.name}")
    return done


def recover_releases(settings) -> list[str]:
    """What a build does first, before any gate: repair an interrupted swap of the
    publication and delete the temporary files of a warehouse release that died."""
    return recover_warehouse(settings.warehouse) + recover(settings.publish_dir)


T = TypeVar("T")


def release_folder(publish_dir: Path, fill: Callable[[Path], T],
            check: Callable[[Path], list[str]] | None = None) -> T:
    """Build a new release with `fill(tmp)`, validate every package in it (and whatever
    `check(tmp)` finds wrong with the rest, e.g. the catalogue), then swap it in whole. On
    any failure the tmp folder is deleted and `publish_dir` stays as it was. Holds the
    folder's lock throughout: a second release waits for this one."""
    with _lock(publish_dir):
        return _release(publish_dir, fill, check)


def _release(publish_dir: Path, fill: Callable[[Path], T],
             check: Callable[[Path], list[str]] | None) -> T:
    recover(publish_dir)
    tmp = owned(publish_dir, "tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        result = fill(tmp)
        pause_point("publication_fill")
        folders = sorted(p.parent for p in tmp.glob("*/datapackage.json"))
        if not folders:
            raise PackageInvalidError(f"{tmp}: no package was built")
        problems = [p for folder in folders for p in validate_package(folder)]
        if check is not None and not problems:
            problems += check(tmp)
        if problems:
            raise PackageInvalidError("release refused; the previous release stays as it "
                                      "was:\n  " + "\n  ".join(problems))
        _fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap(tmp, publish_dir)
    return result


def swap(new: Path, publish_dir: Path) -> None:
    """Rename-aside: a directory cannot be renamed onto a non-empty one on Linux. A kill
    between the two renames leaves `.old` and no `publish_dir`: `recover` restores it."""
    old = owned(publish_dir, "old")
    if publish_dir.exists():
        os.rename(publish_dir, old)
    pause_point("between_swap_renames")
    os.rename(new, publish_dir)
    fsync_dir(publish_dir.parent)
    if old.exists():
        shutil.rmtree(old)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        else:
            fsync_dir(path)
    fsync_dir(root)

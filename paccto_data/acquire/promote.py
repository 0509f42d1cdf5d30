"""The one promoter: new raw files of a source become its bundled snapshot.

The maintainers' refresh (`paccto_data.refresh`) and the activity register's `accept`
(`paccto_data.activities`) both promote through `promote`:

1. Stage. Every new file whose bytes are not already the snapshot's is copied into a hidden
   folder beside its target (`assets/snapshots/<id>/.promote-*/`), fsynced, and re-validated:
   its sha256 and size must be those of the file it was copied from, and the caller's
   `check`, when given, must accept the staged files.
2. Prepare the record. `sha256`, `bytes`, `retrieved`, `vintage` (and, when asked, a file's
   `taken_from` and the `coverage` years) are edited in `assets/sources/<id>.yaml` in place,
   keeping its comments and layout (`source_yaml.edit_source_yaml`); the new text is parsed
   back, validated against the schema and written beside the YAML, fsynced.
3. Swap. The files, and last the YAML, are renamed into place (each rename atomic), and the
   directories fsynced. The replaced files are kept (hard links) until the YAML is in place:
   a failure while swapping puts them back.

So a failure anywhere leaves the snapshot and the YAML exactly as they were. Sources whose
`redistribution` is `internal` are never bundled: refused.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from paccto_data.acquire import records
from paccto_data.acquire.records import Source, load_source
from paccto_data.acquire.source_yaml import edit_source_yaml
from paccto_data.errors import PacctoError
from paccto_data.fileio import fsync_dir, sha256_of
from paccto_data.settings import ASSETS_DIR

BUNDLABLE = ("open", "unmodified-only")
VINTAGE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")  # as in sources.schema.json
RETRIEVED = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class PromotionError(PacctoError):
    """New files cannot be promoted (and nothing has changed)."""


def yaml_path(source_id: str, assets_root: Path = ASSETS_DIR) -> Path:
    return Path(assets_root) / "sources" / f"{source_id}.yaml"


def snapshot_dir(source_id: str, assets_root: Path = ASSETS_DIR) -> Path:
    return Path(assets_root) / "snapshots" / source_id


def load(source_id: str, assets_root: Path = ASSETS_DIR) -> Source:
    """The record of `source_id` under `assets_root` (read afresh, not the cached catalogue)."""
    path = yaml_path(source_id, assets_root)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise PromotionError(f"no source {source_id!r}: {path} does not exist "
                             f"(known: {', '.join(known)})")
    return load_source(path)


def require_bundlable(source: Source) -> None:
    if source.redistribution not in BUNDLABLE:
        raise PromotionError(
            f"{source.id}: redistribution is {source.redistribution!r}, so its files are never "
            f"bundled under assets/snapshots/ (only {' or '.join(BUNDLABLE)} sources are); "
            "nothing to refresh — live builds download it"
        )


@dataclass(frozen=True)
class _Staged:
    file_id: str
    staged: Path  # the new bytes, in the staging folder
    target: Path  # their place in the snapshot
    kept: Path  # where the replaced file is kept until the YAML is in place


def _copy_durably(data_from: Path, to: Path) -> tuple[str, int]:
    with open(data_from, "rb") as src, open(to, "wb") as out:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    return sha256_of(to), to.stat().st_size


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def promote(source_id: str, new_files: Mapping[str, Path], *, retrieved: str, vintage: str,
            taken_from: Mapping[str, str | None] | None = None,
            coverage: tuple[int, int] | None = None,
            check: Callable[[Mapping[str, Path]], None] | None = None,
            assets_root: Path = ASSETS_DIR) -> list[str]:
    """Make `new_files` (file id -> path; files not named stay as they are) the snapshot of
    `source_id` under `assets_root`, and record them in its YAML with `retrieved`
    (YYYY-MM-DD) and `vintage` (YYYY[-MM[-DD]]).

    `taken_from` (file id -> text, or None to remove the line) is the new `taken_from` of a
    replaced file; a file not named keeps its own. `coverage` (first year, last year) replaces
    the record's. `check` is called with every file of the source (the staged copies of
    the replaced ones, the snapshot's for the others) before anything is renamed; an exception
    from it cancels the promotion. Files whose bytes did not change are left alone. Returns the
    ids of the files replaced (none, and nothing written, when there is nothing to change)."""
    if not VINTAGE.match(vintage):
        raise PromotionError(f"vintage {vintage!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    if not RETRIEVED.match(retrieved):
        raise PromotionError(f"retrieved {retrieved!r} is not YYYY-MM-DD")
    taken_from = dict(taken_from or {})
    path = yaml_path(source_id, assets_root)
    source = load(source_id, assets_root)
    require_bundlable(source)
    unknown = sorted(set(new_files) - {spec.id for spec in source.files})
    if unknown:
        raise PromotionError(f"{source_id} has no file {unknown[0]!r} "
                             f"(its files: {', '.join(spec.id for spec in source.files)})")
    folder = snapshot_dir(source_id, assets_root)
    folder.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8")
    yaml_staged = path.with_name(f".{path.name}.promote-part")
    staging = Path(tempfile.mkdtemp(prefix=".promote-", dir=folder))
    try:
        (staging / "new").mkdir()
        (staging / "old").mkdir()
        staged: list[_Staged] = []
        edits: dict[str, tuple[str, int, str | None]] = {}
        for spec in source.files:
            if spec.id not in new_files:
                continue
            new = Path(new_files[spec.id])
            digest, size = sha256_of(new), new.stat().st_size
            target = folder / spec.name
            if digest == spec.sha256 and target.is_file() and sha256_of(target) == digest:
                continue
            item = _Staged(spec.id, staging / "new" / spec.name, target,
                           staging / "old" / spec.name)
            if _copy_durably(new, item.staged) != (digest, size):
                raise PromotionError(f"{item.staged}: the copy differs from {new}")
            staged.append(item)
            edits[spec.id] = (digest, size, taken_from.get(spec.id))
        fsync_dir(staging / "new")
        if check is not None:
            every = {spec.id: folder / spec.name for spec in source.files}
            check(every | {s.file_id: s.staged for s in staged})
        if not edits and (source.retrieved, source.vintage) == (retrieved, vintage) and (
                coverage is None or _years(source.coverage) == tuple(coverage)):
            return []
        new_text = edit_source_yaml(text, path, edits, retrieved, vintage, coverage,
                                    keep_taken_from=frozenset(edits) - set(taken_from))
        _write_durably(yaml_staged, new_text)
        if path.read_text(encoding="utf-8") != text:
            raise PromotionError(f"{path} changed while the promotion ran; nothing was "
                                 "promoted")
        _swap(staged, yaml_staged, path, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        yaml_staged.unlink(missing_ok=True)
    records.sources.cache_clear()
    return list(edits)


def _years(coverage: dict | None) -> tuple | None:
    return None if not coverage else (coverage.get("first_year"), coverage.get("last_year"))


def _swap(staged: list[_Staged], yaml_staged: Path, path: Path, folder: Path) -> None:
    """Rename the staged files, then the YAML, into place; on a failure, put back what was
    replaced."""
    done: list[tuple[_Staged, bool]] = []  # (file, whether a file was replaced)
    try:
        for item in staged:
            existed = item.target.is_file()
            if existed:
                try:
                    os.link(item.target, item.kept)
                except OSError:  # a file system without hard links
                    shutil.copy2(item.target, item.kept)
            os.replace(item.staged, item.target)
            done.append((item, existed))
        fsync_dir(folder)
        os.replace(yaml_staged, path)
    except BaseException:
        for item, existed in reversed(done):
            if existed:
                os.replace(item.kept, item.target)
            else:
                item.target.unlink(missing_ok=True)
        fsync_dir(folder)
        raise
    fsync_dir(path.parent)

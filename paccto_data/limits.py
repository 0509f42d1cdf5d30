"""How much of an upstream file the platform is willing to take: the bounds on every download
and on every workbook it reads, each with a default here and an override in the source YAML.

    limits:                      # in assets/sources/<id>.yaml, for the whole source ...
      download_bytes: 134217728
    files:
      - id: data
        limits:                  # ... or for one file (key by key, over the source's)
          sheet_cells: 5000000

A refusal is a `LimitExceeded` (a `SourceFileError`) naming the file, the limit and what was
seen; nothing above a limit is written to the raw folder, and nothing is read into memory
beyond a bounded buffer. The defaults keep a run under 1 GiB of memory whatever an upstream
sends: the largest bundled file is 3 MiB (22 MiB of sheet XML, 605,000 cells).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from pathlib import Path

from paccto_data.errors import SourceFileError

MiB = 1 << 20

# A decompressed stream may reach this many bytes before its compression ratio is judged
# (a small file of blanks compresses very well and harms no one).
RATIO_GRACE_BYTES = 1 * MiB


@dataclass(frozen=True)
class Limits:
    download_bytes: int = 64 * MiB  # bytes received for one download (as sent, compressed)
    download_seconds: float = 300.0  # one download, every attempt and pause included
    decompressed_bytes: int = 256 * MiB  # a Content-Encoding body; each ZIP member, and all
    compression_ratio: float = 100.0  # decompressed / compressed, past RATIO_GRACE_BYTES
    sheet_rows: int = 1_048_576  # a worksheet's last row (the Excel maximum)
    sheet_columns: int = 16_384  # a worksheet's last column (XFD, the Excel maximum)
    sheet_cells: int = 3_000_000  # rows × columns of the area a reader allocates

    def merged(self, overrides: Mapping | None) -> Limits:
        """These limits with the keys of a YAML `limits:` mapping replaced."""
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:  # the schema refuses them first; this guards a hand-built record
            raise ValueError(f"unknown limits {unknown} (known: {', '.join(sorted(known))})")
        return replace(self, **overrides)

    def ratio_exceeded(self, decompressed: int, compressed: int) -> bool:
        return decompressed > RATIO_GRACE_BYTES and \
            decompressed > self.compression_ratio * max(compressed, 1)


DEFAULT = Limits()


class LimitExceeded(SourceFileError):
    """An upstream file went past one of its `Limits`: `file` (what it was), `limit` (the
    key in `limits:`), `value` (the limit in force) and `seen` (what was found)."""

    def __init__(self, file: str, limit: str, value, seen: str):
        self.file, self.limit, self.value, self.seen = file, limit, value, seen
        super().__init__(f"{file}: refused, {seen}; the limit is limits.{limit} = {value} "
                         f"(raise it in the source YAML if the file is genuine)")


# --- the limits in force for the files a step reads ----------------------------------------

_READING: ContextVar[dict[Path, Limits]] = ContextVar("paccto_reading_limits", default={})


@contextmanager
def reading(limits: Mapping[Path, Limits]) -> Iterator[None]:
    """Within the block, `for_path(p)` gives `limits[p]` (the staging step sets each file's
    limits from its YAML while the source's tidy function reads them)."""
    token = _READING.set({**_READING.get(), **{Path(p).resolve(): v for p, v in limits.items()}})
    try:
        yield
    finally:
        _READING.reset(token)


def for_path(path: Path) -> Limits:
    """The limits of the file at `path`: those set by `reading`, else the defaults."""
    return _READING.get().get(Path(path).resolve(), DEFAULT)

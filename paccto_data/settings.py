"""Where things live, read once from the environment (the README's "Configuration").

Relative paths are taken from the project root, so `make run` and a test that points the
variables at `tmp_path` behave the same from any working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
SOURCES_DIR = ASSETS_DIR / "sources"
SNAPSHOTS_DIR = ASSETS_DIR / "snapshots"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
INDICATORS_PATH = ASSETS_DIR / "indicators.yaml"
SQL_DIR = Path(__file__).resolve().parent / "warehouse" / "sql"

SOURCE_MODES = ("snapshot", "live")


def _path(name: str, default: str) -> Path:
    path = Path(os.environ.get(name) or default)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    source_mode: str
    warehouse: Path  # the released file analysts open
    build_db: Path  # what the build writes through the DuckDB resource
    raw_dir: Path  # live downloads: <raw_dir>/<source_id>/
    publish_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        mode = os.environ.get("PACCTO_SOURCE_MODE", "snapshot").strip().lower()
        if mode not in SOURCE_MODES:
            raise ValueError(
                f"PACCTO_SOURCE_MODE={mode!r} is not one of {', '.join(SOURCE_MODES)}"
            )
        return cls(
            source_mode=mode,
            warehouse=_path("PACCTO_WAREHOUSE", "data/warehouse.duckdb"),
            build_db=_path("PACCTO_BUILD_DB", "data/build/warehouse.duckdb"),
            raw_dir=_path("PACCTO_RAW_DIR", "data/raw"),
            publish_dir=_path("PACCTO_PUBLISH_DIR", "published"),
        )


def url_override(source_id: str, file_id: str, single_file: bool) -> str | None:
    """`PACCTO_URL_<SOURCE>` (single-file source) or `PACCTO_URL_<SOURCE>__<FILE>`."""
    names = [f"PACCTO_URL_{source_id.upper()}__{file_id.upper()}"]
    if single_file:
        names.insert(0, f"PACCTO_URL_{source_id.upper()}")
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None

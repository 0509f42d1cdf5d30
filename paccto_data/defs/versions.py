"""Dagster's own versions: a code version per asset, from the bytes of what defines it, and
the data version of a raw asset, from the sha256 of its files.

Every other asset's data version is Dagster's logical one (a hash of its code version and its
inputs' data versions), so an unchanged input and unchanged code give an unchanged data
version, and the UI shows what is stale and why (paccto_data/defs/build.py uses the same rule).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import dagster as dg

from paccto_data.settings import ASSETS_DIR, EXPECTATIONS_DIR, PROJECT_ROOT, SOURCES_DIR

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _expand(paths: Iterable[Path | str]) -> list[Path]:
    found = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found |= {p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        elif path.is_file():
            found.add(path)
    return sorted(found)


def code_version(*paths: Path | str) -> str:
    """16 hex digits over the relative names and bytes of `paths` (folders: every file in
    them; a path that does not exist is left out)."""
    digest = hashlib.sha256()
    for path in _expand(paths):
        name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        digest.update(f"{name}\0{_file_digest(path)}\n".encode())
    return digest.hexdigest()[:16]


def raw_data_version(sha256_by_file: dict[str, str]) -> dg.DataVersion:
    """The data version of a raw asset: its files' sha256, by file id."""
    text = "\n".join(f"{file_id}={sha}" for file_id, sha in sorted(sha256_by_file.items()))
    return dg.DataVersion(hashlib.sha256(text.encode()).hexdigest()[:32])


def suite(qualified_table: str) -> Path:
    return EXPECTATIONS_DIR / f"{qualified_table}.json"


# What each layer's code is made of, besides the asset's own module, SQL file or spec.
ACQUIRE = [PACKAGE_DIR / "acquire" / "fetch.py", PACKAGE_DIR / "http.py",
           PACKAGE_DIR / "fileio.py"]
TIDY_SHARED = [*(PACKAGE_DIR / "sources").glob("_*.py"), PACKAGE_DIR / "countries.py",
               PACKAGE_DIR / "warehouse" / "tables.py", ASSETS_DIR / "country_overrides.yaml",
               ASSETS_DIR / "indicators.yaml"]
ACTIVITIES = [PACKAGE_DIR / "sources" / "paccto_activities.py", PACKAGE_DIR / "activities.py",
              ASSETS_DIR / "activities"]
MODELS_SHARED = [PACKAGE_DIR / "warehouse" / "models.py",
                 PACKAGE_DIR / "warehouse" / "reference.py",
                 PACKAGE_DIR / "warehouse" / "tables.py", ASSETS_DIR / "data_dictionary.yaml",
                 ASSETS_DIR / "country_groups.yaml", ASSETS_DIR / "indicators.yaml",
                 *ACTIVITIES]
PUBLICATION = [PACKAGE_DIR / "publication", ASSETS_DIR / "packages" / "standard"]
SITE = [PACKAGE_DIR / "site", PACKAGE_DIR / "publication", ASSETS_DIR / "packages"]
QUALITY_REPORT = [PACKAGE_DIR / "quality" / "report.py", PACKAGE_DIR / "quality" / "rules.py",
                  PACKAGE_DIR / "quality" / "status.py", PACKAGE_DIR / "acquire" / "cadence.py",
                  ASSETS_DIR / "quality_checks.yaml", EXPECTATIONS_DIR, PACKAGE_DIR / "site"]


def source_yaml(source_id: str) -> Path:
    return SOURCES_DIR / f"{source_id}.yaml"

"""The declarative catalogue: `assets/sources/<id>.yaml`, validated against its JSON Schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from paccto_data.errors import CatalogueError
from paccto_data.fileio import read_yaml
from paccto_data.limits import DEFAULT, Limits
from paccto_data.settings import ASSETS_DIR, SNAPSHOTS_DIR, SOURCES_DIR

SCHEMA_PATH = ASSETS_DIR / "sources.schema.json"


@dataclass(frozen=True)
class SourceFile:
    id: str
    name: str
    url: str
    sha256: str
    bytes: int
    format: str
    member: str | None = None
    licence: dict | None = None
    taken_from: str | None = None
    limits: dict | None = None  # overrides of the source's limits (paccto_data/limits.py)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    producer: str
    homepage: str
    licence: dict
    redistribution: str
    citation: str
    vintage: str
    retrieved: str
    files: tuple[SourceFile, ...]
    release: dict | None = None  # cadence, expected_month, grace_days (acquire/cadence.py)
    distributor: str | None = None
    description: str | None = None
    coverage: dict | None = None
    notes: str | None = None
    limits: dict | None = None  # overrides of the default limits (paccto_data/limits.py)

    @property
    def snapshot_dir(self) -> Path:
        return SNAPSHOTS_DIR / self.id

    @property
    def is_open(self) -> bool:
        return self.redistribution == "open"

    def limits_for(self, spec: SourceFile) -> Limits:
        """The limits of one file: the defaults, then the source's `limits:`, then the
        file's own."""
        return DEFAULT.merged(self.limits).merged(spec.limits)

    def file(self, file_id: str) -> SourceFile:
        for f in self.files:
            if f.id == file_id:
                return f
        raise KeyError(f"source {self.id!r} has no file {file_id!r}")


def validate_record(record: dict, path: Path) -> None:
    import jsonschema  # only the catalogue check needs it

    schema = json.loads(SCHEMA_PATH.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(record), key=lambda e: list(e.path)
    )
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors]
        raise CatalogueError(f"{path}: does not match {SCHEMA_PATH.name}:\n  " + "\n  ".join(lines))
    if record["id"] != path.stem:
        raise CatalogueError(f"{path}: id {record['id']!r} differs from the file name")
    file_ids = [f["id"] for f in record["files"]]
    if len(set(file_ids)) != len(file_ids):
        raise CatalogueError(f"{path}: file ids are not unique: {file_ids}")


def load_source(path: Path) -> Source:
    try:
        record = read_yaml(path)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(record, dict):
        raise CatalogueError(f"{path}: expected a mapping at the top level")
    validate_record(record, path)
    files = tuple(SourceFile(**f) for f in record.pop("files"))
    return Source(files=files, **record)


@cache
def sources() -> dict[str, Source]:
    """Every source in the catalogue, by id."""
    return {p.stem: load_source(p) for p in sorted(SOURCES_DIR.glob("*.yaml"))}


def source(source_id: str) -> Source:
    try:
        return sources()[source_id]
    except KeyError:
        raise CatalogueError(
            f"no source {source_id!r} in {SOURCES_DIR} (known: {', '.join(sources())})"
        ) from None

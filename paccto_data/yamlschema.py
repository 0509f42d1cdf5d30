"""Reviewed YAML that reaches SQL or a path is checked against a JSON Schema before use."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from paccto_data.errors import CatalogueError


@cache
def _schema(schema_path: Path) -> dict:
    return json.loads(schema_path.read_text(encoding="utf-8"))


def check_against(record, schema_path: Path, path: Path) -> None:
    """Raise a `CatalogueError` naming `path` and every property of `record` (parsed from
    it) that does not match the schema at `schema_path`."""
    import jsonschema  # only the checks need it

    # as JSON sees it: YAML's integer keys (phases, lines of action) and dates become text
    plain = json.loads(json.dumps(record, default=str))
    errors = sorted(jsonschema.Draft202012Validator(_schema(schema_path)).iter_errors(plain),
                    key=lambda e: [str(p) for p in e.path])
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors]
        raise CatalogueError(f"{path}: does not match {schema_path.name}:\n  "
                             + "\n  ".join(lines))

"""Checking a built package: frictionless on the CSV tables, and our own check of the bytes
and sha256 of every file, of the documents, and of every Parquet file against its CSV twin
(frictionless 5 neither verifies a Parquet hash nor accepts its `bytes`).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from paccto_data.errors import PackageInvalidError
from paccto_data.fileio import read_yaml, sha256_of
from paccto_data.publication.tables import PARQUET_SUFFIX, column_text, table_schema_type

DESCRIBED_EXTRA = ("datapackage.json", "README.md", "CHANGELOG.md", "CITATION.cff")

# Descriptors (their sha256, and whether the Parquet twins went through frictionless too) of
# packages this process found valid. Every file a descriptor describes carries its sha256 in
# it, so a package whose descriptor is one of these and whose files all match their hashes
# holds the very bytes that were validated: frictionless and the twin check would say the
# same again. A build validates each package when it is built and again in the release.
_VALID: set[tuple[str, bool]] = set()


def validate_package(folder: Path, frictionless_parquet: bool = False) -> list[str]:
    """Why the package in `folder` is not fit to publish (empty: it is). Frictionless
    validates the CSV tables as a researcher's `frictionless validate datapackage.json` does
    (rows against the Table Schema, primary and foreign keys, bytes and hashes). Our own code
    checks the size and sha256 of every file against the descriptor (frictionless 5.21 does
    not verify a Parquet file's hash), that README.md, CITATION.cff and CHANGELOG.md name the
    version, and that each Parquet table holds the CSV's columns, types and cells. Frictionless
    reads Parquet through pandas row by row, in time that grows with the square of the
    column count (18 s for a 1,924-row, 32-column table here), so it validates the Parquet
    twins only when asked (`frictionless_parquet`); tests/test_published.py runs the
    researchers' CLI over every resource of the committed packages."""
    path = folder / "datapackage.json"
    if not path.exists():
        return [f"{folder}: no datapackage.json"]
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    problems = _check_files(folder, descriptor)
    seen = package_digest(folder, frictionless_parquet)
    if not problems and seen in _VALID:
        return []  # the same bytes, already validated whole in this process
    import frictionless  # (half a second: not for a package known valid)

    checked = descriptor if frictionless_parquet else {
        **descriptor,
        "resources": [r for r in descriptor["resources"] if r.get("format") != "parquet"]}
    try:
        report = frictionless.Package(checked, basepath=str(folder)).validate()
    except frictionless.FrictionlessException as exc:
        return problems + [f"{path}: {exc}"]
    for task in report.tasks:
        for error in task.errors:
            row = getattr(error, "row_number", None)
            where = f"{folder.name}/{task.name}" + (f", row {row}" if row else "")
            problems.append(f"{where}: {error.type}: {error.note}")
    if not problems:
        problems += _check_parquet_twins(folder, descriptor)
    if not problems:
        _VALID.add(seen)
    return problems


def package_digest(folder: Path, frictionless_parquet: bool = False) -> tuple[str, bool]:
    """How a package found valid is remembered: its descriptor's sha256, and whether the
    Parquet twins went through frictionless too."""
    return sha256_of(folder / "datapackage.json"), frictionless_parquet


def remember_valid(seen: tuple[str, bool]) -> None:
    """A package that validate_package found valid in another process (the validation worker,
    paccto_data/quality/ahead.py), by its `package_digest` then: here validate_package still
    checks every file against that descriptor, and skips frictionless."""
    _VALID.add(seen)


def _check_files(folder: Path, descriptor: dict) -> list[str]:
    problems, described = [], set(DESCRIBED_EXTRA)
    for r in descriptor["resources"]:
        described.add(r["path"])
        path = folder / r["path"]
        if not path.is_file():
            problems.append(f"{folder.name}/{r['path']}: missing (resource {r['name']})")
            continue
        size, digest = path.stat().st_size, "sha256:" + sha256_of(path)
        if "bytes" in r and size != r["bytes"]:
            problems.append(f"{folder.name}/{r['path']}: {size} bytes, the descriptor says "
                            f"{r.get('bytes')}")
        if digest != r.get("hash"):
            problems.append(f"{folder.name}/{r['path']}: {digest}, the descriptor says "
                            f"{r.get('hash')}")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative not in described:
            problems.append(f"{folder.name}/{relative}: not described in datapackage.json")
    return problems + _check_documents(folder, descriptor)


def _check_documents(folder: Path, descriptor: dict) -> list[str]:
    """README.md, CITATION.cff and CHANGELOG.md are there and name the descriptor's version."""
    version, problems = descriptor.get("version"), []
    for name in DESCRIBED_EXTRA[1:]:
        if not (folder / name).is_file():
            problems.append(f"{folder.name}/{name}: missing")
    if problems:
        return problems
    try:
        citation = read_yaml(folder / "CITATION.cff")
    except yaml.YAMLError as exc:
        return [f"{folder.name}/CITATION.cff: not YAML: {exc}"]
    if not isinstance(citation, dict) or citation.get("version") != version:
        problems.append(f"{folder.name}/CITATION.cff: does not cite version {version}")
    if f"\n## {version}\n" not in (folder / "CHANGELOG.md").read_text(encoding="utf-8"):
        problems.append(f"{folder.name}/CHANGELOG.md: has no entry for version {version}")
    if f"Version {version}," not in (folder / "README.md").read_text(encoding="utf-8"):
        problems.append(f"{folder.name}/README.md: does not name version {version}")
    return problems


TWIN_BATCH_ROWS = 65_536  # rows compared at a time: memory stays bounded by the batch


def _rebatch(batches, size: int):
    """Tables of exactly `size` rows (the last one shorter) from any stream of batches, so
    two files read in different chunks can be compared batch by batch."""
    import pyarrow as pa

    pending, count = [], 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _check_parquet_twins(folder: Path, descriptor: dict) -> list[str]:
    """Each Parquet table holds its CSV twin's columns, types and cells (as the CSV writes
    them), compared in batches of TWIN_BATCH_ROWS rows read from both files as streams."""
    import itertools

    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    problems = []
    by_name = {r["name"]: r for r in descriptor["resources"]}
    for r in descriptor["resources"]:
        if r.get("format") != "parquet":
            continue
        twin = by_name.get(r["name"].removesuffix(PARQUET_SUFFIX))
        parquet = pq.ParquetFile(folder / r["path"])
        schema = parquet.schema_arrow
        names = [f["name"] for f in r["schema"]["fields"]]
        if schema.names != names:
            problems.append(f"{folder.name}/{r['path']}: columns {schema.names}, the "
                            f"schema says {names}")
            continue
        if twin is None:
            problems.append(f"{folder.name}/{r['path']}: no CSV twin {r['name']}")
            continue
        kinds = {f["name"]: f["type"] for f in r["schema"]["fields"]}
        stored = {f.name: table_schema_type(f.type) for f in schema}
        wrong = [f"{n} is {stored[n]}, the schema says {kinds[n]}" for n in names
                 if stored[n] != kinds[n]]
        if wrong:
            problems.append(f"{folder.name}/{r['path']}: " + "; ".join(wrong))
            continue
        text = pcsv.open_csv(
            folder / twin["path"],
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False))
        offset, rows = 0, {"csv": 0, "parquet": 0}
        for got, expected in itertools.zip_longest(
                _rebatch(parquet.iter_batches(batch_size=TWIN_BATCH_ROWS), TWIN_BATCH_ROWS),
                _rebatch(text, TWIN_BATCH_ROWS)):
            rows["parquet"] += got.num_rows if got is not None else 0
            rows["csv"] += expected.num_rows if expected is not None else 0
            if got is None or expected is None or got.num_rows != expected.num_rows:
                continue  # counted, reported below
            for name in names:
                want = expected.column(name).to_pylist()
                have = column_text(got.column(name).combine_chunks(), kinds[name])
                if have != want:
                    row = offset + next(i for i, (a, b) in enumerate(zip(have, want))
                                        if a != b) + 2
                    problems.append(f"{folder.name}/{r['path']}: column {name} differs from "
                                    f"{twin['path']} at CSV row {row}")
                    break
            else:
                offset += got.num_rows
                continue
            break
        if rows["parquet"] != rows["csv"]:
            problems.append(f"{folder.name}/{r['path']}: {rows['parquet']:,} rows, "
                            f"{twin['path']} has {rows['csv']:,}")
    return problems


def check_package(folder: Path) -> None:
    problems = validate_package(folder)
    if problems:
        raise PackageInvalidError(f"package {folder.name} is not valid:\n  "
                                  + "\n  ".join(problems))

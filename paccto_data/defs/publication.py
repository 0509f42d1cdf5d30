"""Layer `publication`: one asset per package in assets/packages/, and the release of
PACCTO_PUBLISH_DIR (paccto_data/publish.py does the writing)."""

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data import publish
from paccto_data.defs import OWNERS
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.warehouse import release_gate
from paccto_data.settings import PROJECT_ROOT, Settings

KINDS = {"frictionless", "csv", "parquet"}
# Every package states the licences, citations and vintages of its sources.
SOURCE_TABLE = dg.AssetKey(["core", "dim_source"])


def package_key(spec: publish.PackageSpec) -> dg.AssetKey:
    return dg.AssetKey(["publication", spec.name.replace("-", "_")])


def build_area(settings: Settings) -> Path:
    """Where package assets are built, beside the build database; the release copies them."""
    return settings.build_db.parent / "published"


def _relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix() if path.is_relative_to(PROJECT_ROOT) \
        else str(path)


def files_metadata(folder: Path, descriptor: dict) -> list[dict]:
    return [{"path": r["path"], "format": r["format"],
             "bytes": (folder / r["path"]).stat().st_size,
             "sha256": r["hash"].removeprefix("sha256:")} for r in descriptor["resources"]]


def package_asset(spec: publish.PackageSpec) -> dg.AssetsDefinition:
    deps = sorted({dg.AssetKey(t.split(".")) for t in spec.tables} | {SOURCE_TABLE},
                  key=lambda k: k.to_user_string())

    @dg.asset(
        key=package_key(spec),
        deps=deps,
        group_name="publication",
        owners=OWNERS,
        kinds=KINDS,
        description=f"Frictionless data package `{spec.name}`: {spec.title}. Resources "
        f"{', '.join(r.name for r in spec.resources)} as CSV and Parquet, with "
        "datapackage.json and README.md, built in the build area and validated; refuses any "
        "column derived from a source that is not open.",
        metadata={"spec": _relative(spec.path) if spec.path else spec.name,
                  "version": spec.version},
    )
    def _package(paccto: PacctoConfig, duckdb: DuckDBResource) -> dg.MaterializeResult:
        folder = build_area(paccto.settings) / spec.name
        with duckdb.get_connection() as conn:
            report = publish.build_package(conn, spec, folder)
        publish.check_package(folder)
        rows = {f.resource: f.rows for f in report.files}
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(folder)),
            "version": report.version,
            "created": report.created,
            "resources": dg.MetadataValue.json(
                [{"name": name, "rows": count} for name, count in rows.items()]),
            "files": dg.MetadataValue.json([vars(f) for f in report.files]),
        })

    return _package


def release_asset(specs: Sequence[publish.PackageSpec],
                  check_keys: Sequence[dg.AssetCheckKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key="publication_release",
        deps=[package_key(s) for s in specs],
        group_name="publication",
        owners=OWNERS,
        kinds=KINDS,
        description="Assembles every package from the build area into a folder beside "
        "PACCTO_PUBLISH_DIR, validates it (frictionless, bytes and sha256 of every file) and "
        "swaps it in whole, only when the latest result of every blocking check passed. An "
        "interrupted swap is repaired at the start of the next release.",
    )
    def publication_release(context: dg.AssetExecutionContext,
                            paccto: PacctoConfig) -> dg.MaterializeResult:
        problems = release_gate(context.instance, check_keys)
        if problems:
            raise dg.Failure(
                description="packages not released; the previous release stays as it was:\n- "
                + "\n- ".join(problems),
                metadata={"blocking_checks": dg.MetadataValue.json(problems)},
            )
        area, target = build_area(paccto.settings), paccto.settings.publish_dir
        for line in publish.recover(target):
            context.log.warning(line)

        def assemble(tmp: Path) -> None:
            for spec in specs:
                if not (area / spec.name / "datapackage.json").exists():
                    raise publish.PublicationError(
                        f"package {spec.name} is not built in {area}: materialise "
                        f"{package_key(spec).to_user_string()} first")
                shutil.copytree(area / spec.name, tmp / spec.name)

        publish.release(target, assemble)
        packages = {}
        for spec in specs:
            descriptor = json.loads((target / spec.name / "datapackage.json").read_text("utf-8"))
            packages[spec.name] = {"version": descriptor["version"],
                                   "created": descriptor["created"],
                                   "files": files_metadata(target / spec.name, descriptor)}
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(target)),
            "packages": dg.MetadataValue.json(packages),
            "checks_passed": len(check_keys),
        })

    return publication_release


def publication_definitions(check_keys: Sequence[dg.AssetCheckKey]) -> list[dg.AssetsDefinition]:
    specs = list(publish.package_specs().values())
    return [*(package_asset(s) for s in specs), release_asset(specs, check_keys)]

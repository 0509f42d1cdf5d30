"""Layer `publication`: one asset per package in assets/packages/, and the release of
PACCTO_PUBLISH_DIR (paccto_data/publication/ writes packages, paccto_data/site/ the catalogue).

The build area and the release
------------------------------
Publication assets never write into PACCTO_PUBLISH_DIR. Each writes one folder of the
*build area*, `<folder of PACCTO_BUILD_DB>/published/` (`build_area`):

    asset                          folder of the build area -> of the release
    publication/<package>          <name>/    one per assets/packages/<name>.yaml
    publication/quality_report     quality/   the data-quality report (its own module)

`publication_release` then assembles EVERY folder in that list (`released_folders`: the
packages, plus `OTHER_FOLDERS`) into a temporary folder beside PACCTO_PUBLISH_DIR, writes the
catalogue from what it assembled (catalog.json, catalog.jsonld, index.html, index.es.html,
charts/), validates it all (frictionless and our bytes/sha256 check on every package, links
and charts of the catalogue) and swaps it in whole. The release replaces the whole tree:
whatever is not in the list is not published, so a new published folder is one more
`ReleasedFolder(asset key, folder)` in `OTHER_FOLDERS`; the release depends on that asset and
copies its folder. A listed asset that is not in the Definitions (a module not wired yet) is
published from the build area when it is built there, else kept exactly as published (a
release materialised alone, from any selection, never drops a folder); one that is in the
Definitions but has not written its folder fails the release with a message.
A folder name may not be taken by a package (publication.spec.RESERVED_FOLDERS).

The release depends on every asset that has a blocking check as well as on the folders, so
it runs after all of them in a build, and it goes ahead only if the latest result of every
blocking check passed (paccto_data/quality/status.py): the Great Expectations suites, and
each package's `package_valid` check (`package_check`), which takes the validation worker's
verdict on the package its asset wrote (paccto_data/quality/ahead.py).

Versions: a package asset compares its tables with the package as currently published
(`PACCTO_PUBLISH_DIR/<name>`) and keeps, bumps (with a CHANGELOG.md line) or sets the
version from that (publication.versions.decide_version); the release copies what the assets built.

No silent loss: that comparison also gives the rows (primary keys: country-years, ...) the
published package holds and this build drops. The asset's `no_silent_loss` check (non-blocking,
severity WARN) reports them, with the reasons recorded for them (assets/sources/removals/;
publication.versions); CHANGELOG.md lists them and the quality report shows them.
"""

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from paccto_data.defs import OWNERS
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.versions import PUBLICATION, SITE, code_version
from paccto_data.defs.warehouse import refuse_unless_checks_passed
from paccto_data.errors import PublicationError
from paccto_data.lock import data_lock
from paccto_data.quality import ahead
from paccto_data.publication import validation
from paccto_data.publication.package import build_package
from paccto_data.publication.release import recover, release_folder
from paccto_data.publication.spec import PackageSpec, package_specs
from paccto_data.settings import PROJECT_ROOT, Settings
from paccto_data.site import catalogue

KINDS = {"frictionless", "csv", "parquet"}
NO_SILENT_LOSS = "no_silent_loss"
PACKAGE_VALID = "package_valid"
VALID_DESCRIPTOR = "descriptor_sha256"  # package_valid's metadata: the descriptor it passed
PROBLEMS_SHOWN = 50  # problems listed in the package_valid check's metadata
REMOVED_SHOWN = 50  # dropped keys shown per table in the check's description
# Every package states the licences, citations and vintages of its sources.
SOURCE_TABLE = dg.AssetKey(["core", "dim_source"])


@dataclass(frozen=True)
class ReleasedFolder:
    """A folder of the build area that the release publishes, and the asset that writes it."""

    key: dg.AssetKey
    folder: str
    is_package: bool = False


QUALITY_REPORT = ReleasedFolder(dg.AssetKey(["publication", "quality_report"]), "quality")
# Published folders that are not packages: add one here for each new publication asset.
OTHER_FOLDERS: tuple[ReleasedFolder, ...] = (QUALITY_REPORT,)


def package_key(spec: PackageSpec) -> dg.AssetKey:
    return dg.AssetKey(["publication", spec.name.replace("-", "_")])


def released_folders(specs: Sequence[PackageSpec],
                     others: Sequence[ReleasedFolder] = OTHER_FOLDERS) -> list[ReleasedFolder]:
    folders = [ReleasedFolder(package_key(s), s.name, True) for s in specs] + list(others)
    names = [f.folder for f in folders]
    if len(set(names)) != len(names):
        raise PublicationError(f"two published folders share a name: {names}")
    return folders


def build_area(settings: Settings) -> Path:
    """Where publication assets build their folders, beside the build database; the
    release copies them."""
    return settings.build_db.parent / "published"


def _relative(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix() if path.is_relative_to(PROJECT_ROOT) \
        else str(path)


def files_metadata(folder: Path, descriptor: dict) -> list[dict]:
    return [{"path": r["path"], "format": r["format"],
             "bytes": (folder / r["path"]).stat().st_size,
             "sha256": r["hash"].removeprefix("sha256:")} for r in descriptor["resources"]]


def no_silent_loss_key(spec: PackageSpec) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(package_key(spec), NO_SILENT_LOSS)


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def removal_result(report) -> dg.AssetCheckResult:
    """The `no_silent_loss` check of a package build: warns when it drops rows that the
    published version holds."""
    removed = list(report.removed)
    if not removed:
        return dg.AssetCheckResult(
            check_name=NO_SILENT_LOSS, passed=True, severity=dg.AssetCheckSeverity.WARN,
            description="no row of the published version is dropped" if
            report.previous_version else "first version: nothing published to compare with",
            metadata={"published_version": report.previous_version or "",
                      "version": report.version, "removed_rows": 0})
    total = sum(r["count"] for r in removed)
    lines = []
    for r in removed:
        lines.append(f"- **{r['table']}**: {_rows(r['count'])} dropped"
                     + (f" ({r['note']})" if r["note"] else "")
                     + (f", key ({', '.join(r['key'])})" if r["key"] else ""))
        for row in r["rows"][:REMOVED_SHOWN]:
            lines.append(f"  - {row['key']}: {row['reason'] or 'no reason recorded'}")
        if r["count"] > min(len(r["rows"]), REMOVED_SHOWN):
            lines.append(f"  - … {r['count'] - min(len(r['rows']), REMOVED_SHOWN):,} more "
                         "(CHANGELOG.md lists them)")
    return dg.AssetCheckResult(
        check_name=NO_SILENT_LOSS, passed=False, severity=dg.AssetCheckSeverity.WARN,
        description=f"{report.name} {report.version} drops {_rows(total)} that version "
        f"{report.previous_version} published",
        metadata={"published_version": report.previous_version or "",
                  "version": report.version, "removed_rows": total,
                  "removed": dg.MetadataValue.json(removed),
                  "summary": dg.MetadataValue.md("\n".join(lines))})


def package_asset(spec: PackageSpec) -> dg.AssetsDefinition:
    deps = sorted({dg.AssetKey(t.split(".")) for t in spec.tables} | {SOURCE_TABLE},
                  key=lambda k: k.to_user_string())

    @dg.asset(
        key=package_key(spec),
        check_specs=[dg.AssetCheckSpec(
            NO_SILENT_LOSS, asset=package_key(spec), blocking=False,
            description="Warns (never blocks) when this build drops rows (primary keys, e.g. "
            "country-years) that the published version holds; lists them with the reasons "
            "recorded in assets/sources/removals/ (CHANGELOG.md lists them too).")],
        deps=deps,
        group_name="publication",
        owners=OWNERS,
        kinds=KINDS,
        description=f"Frictionless data package `{spec.name}`: {spec.title}. Resources "
        f"{', '.join(r.name for r in spec.resources)} as CSV and Parquet, with "
        "datapackage.json, README.md, CITATION.cff and CHANGELOG.md, built in the build area "
        "(its blocking `package_valid` check validates it); versioned against the published "
        "package (a data change bumps the version); refuses any column derived from a source "
        "that is not open.",
        metadata={"spec": _relative(spec.path) if spec.path else spec.name,
                  "base_version": spec.version},
        code_version=code_version(*PUBLICATION, *([spec.path] if spec.path else [])),
    )
    def _package(context: dg.AssetExecutionContext, paccto: PacctoConfig,
                 duckdb: DuckDBResource) -> dg.MaterializeResult:
        settings = paccto.settings
        folder = build_area(settings) / spec.name
        with duckdb.get_connection() as conn:
            report = build_package(conn, spec, folder,
                                           previous=settings.publish_dir / spec.name)
        ahead.submit_package(folder)  # validated meanwhile, on the second core
        if report.changes:
            context.log.info(f"{spec.name} {report.previous_version or '(new)'} -> "
                             f"{report.version}:\n" + "\n".join(report.changes))
        rows = {f.resource: f.rows for f in report.files}
        return dg.MaterializeResult(check_results=[removal_result(report)], metadata={
            "path": dg.MetadataValue.path(str(folder)),
            "version": report.version,
            "published_version": report.previous_version or "",
            "changes": dg.MetadataValue.md("\n".join(f"- {c}" for c in report.changes)
                                           or "no change to the published data"),
            "created": report.created,
            "resources": dg.MetadataValue.json(
                [{"name": name, "rows": count} for name, count in rows.items()]),
            "files": dg.MetadataValue.json([vars(f) for f in report.files]),
        })

    return _package


def package_check(spec: PackageSpec) -> dg.AssetChecksDefinition:
    """The blocking check that the package in the build area is fit to publish: frictionless
    over its tables, the bytes and sha256 of every file, its documents and Parquet twins
    (publication.validation.validate_package). A package that fails it is never released."""

    @dg.asset_check(
        asset=package_key(spec),
        name=PACKAGE_VALID,
        blocking=True,
        # after the other steps ready with it, the tables' suites included (the worker
        # validates tables first, then packages: quality/ahead.py)
        op_tags={"dagster/priority": "-2"},
        description="Validates the package as a researcher's `frictionless validate "
        "datapackage.json` does (rows against the Table Schema, primary and foreign keys), "
        "plus the bytes and sha256 of every file, README.md, CITATION.cff and CHANGELOG.md, "
        "and each Parquet table against its CSV twin. Blocks the release.",
    )
    def _check(paccto: PacctoConfig) -> dg.AssetCheckResult:
        folder = build_area(paccto.settings) / spec.name
        descriptor = folder / "datapackage.json"
        digest = validation.package_digest(folder)[0] if descriptor.is_file() else ""
        problems = ahead.package_problems(folder)
        shown = problems[:PROBLEMS_SHOWN] + (
            [f"… {len(problems) - PROBLEMS_SHOWN:,} more"] if len(problems) > PROBLEMS_SHOWN
            else [])
        return dg.AssetCheckResult(
            passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
            description=f"{spec.name} is valid" if not problems else
            f"{spec.name} is not valid: {len(problems):,} problem"
            f"{'' if len(problems) == 1 else 's'}, the first: {problems[0]}",
            metadata={"problems": len(problems),
                      "found": dg.MetadataValue.md("\n".join(f"- {p}" for p in shown)),
                      # what the release trusts: this descriptor, its files all checked
                      **({VALID_DESCRIPTOR: digest} if not problems else {})})

    return _check


def _is_defined(context: dg.AssetExecutionContext, key: dg.AssetKey) -> bool:
    """The key is an asset of these Definitions (not just a dependency stub)."""
    graph = context.job_def.asset_layer.asset_graph
    return graph.has(key) and graph.get(key).is_executable


def release_asset(specs: Sequence[PackageSpec],
                  check_keys: Sequence[dg.AssetCheckKey],
                  others: Sequence[ReleasedFolder] = OTHER_FOLDERS) -> dg.AssetsDefinition:
    folders = released_folders(specs, others)
    checked = {k.asset_key for k in check_keys}
    deps = sorted({f.key for f in folders} | checked, key=lambda k: k.to_user_string())

    @dg.asset(
        key="publication_release",
        deps=deps,
        group_name="publication",
        owners=OWNERS,
        kinds=KINDS | {"html", "svg"},
        description="Assembles every published folder of the build area (the packages, "
        f"and {', '.join(f.folder + '/' for f in others) or 'nothing else'}) into a folder "
        "beside PACCTO_PUBLISH_DIR, writes the catalogue (catalog.json, DCAT-AP "
        "catalog.jsonld, index.html and index.es.html with SVG charts), validates it all "
        "(bytes and sha256 of every file, the catalogue's links; frictionless on a package "
        "unless its passed package_valid check validated the same descriptor) and swaps it "
        "in whole, only when the latest result of every blocking check passed. An "
        "interrupted swap is repaired at the start of the next release.",
        metadata={"folders": dg.MetadataValue.json(
            [{"asset": f.key.to_user_string(), "folder": f.folder} for f in folders])},
        code_version=code_version(*SITE),
    )
    def publication_release(context: dg.AssetExecutionContext,
                            paccto: PacctoConfig) -> dg.MaterializeResult:
        with data_lock(paccto.settings, "publication_release"):
            return _release(context, paccto.settings)

    def _release(context: dg.AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
        area, target = build_area(settings), settings.publish_dir
        for line in recover(target):  # before the gate: a swap cut short is repaired anyway
            context.log.warning(line)
        passed = refuse_unless_checks_passed(context, check_keys, "packages")
        # Each package's passed `package_valid` names the descriptor it found valid: the
        # release checks every file of a package against it (validate_package) and runs
        # frictionless again only on a package whose descriptor is another one.
        for status in passed:
            if status.check == PACKAGE_VALID and status.metadata.get(VALID_DESCRIPTOR):
                validation.remember_valid((status.metadata[VALID_DESCRIPTOR], False))
        copied: list[str] = []

        def assemble(tmp: Path) -> dict:
            for f in folders:
                source = area / f.folder
                built = (source / "datapackage.json").is_file() if f.is_package \
                    else source.is_dir() and any(source.iterdir())
                if not built and not f.is_package and not _is_defined(context, f.key):
                    # Not in this job (e.g. the release materialised alone from its own
                    # definition): what is published stays exactly as it was.
                    source = target / f.folder
                    if not source.is_dir():
                        context.log.warning(f"{f.key.to_user_string()} is not in the "
                                            f"Definitions: {f.folder}/ is not published")
                        continue
                    context.log.warning(f"{f.key.to_user_string()} is not in this job and "
                                        f"not built: {f.folder}/ is kept as published")
                elif not built:
                    raise PublicationError(
                        f"{f.folder}/ is not built in {area}: materialise "
                        f"{f.key.to_user_string()} first; nothing was released")
                shutil.copytree(source, tmp / f.folder)
                copied.append(f.folder)
            return catalogue.write_catalogue(tmp)

        record = release_folder(target, assemble, catalogue.check_catalogue)
        packages = {}
        for spec in specs:
            descriptor = json.loads((target / spec.name / "datapackage.json").read_text("utf-8"))
            packages[spec.name] = {"version": descriptor["version"],
                                   "created": descriptor["created"],
                                   "files": files_metadata(target / spec.name, descriptor)}
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(target)),
            "folders": dg.MetadataValue.json(copied),
            "packages": dg.MetadataValue.json(packages),
            "charts": dg.MetadataValue.json([c["path"] for c in record["charts"]]),
            "index": dg.MetadataValue.path(str(target / "index.html")),
            "checks_passed": len(check_keys),
        })

    return publication_release


def publication_definitions(check_keys: Sequence[dg.AssetCheckKey]
                            ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The package assets and the release, which also waits for every package's blocking
    `package_valid` check; and those checks."""
    specs = list(package_specs().values())
    checks = [package_check(s) for s in specs]
    gates = [*check_keys, *(k for c in checks for k in c.check_keys)]
    return [*(package_asset(s) for s in specs), release_asset(specs, gates)], checks

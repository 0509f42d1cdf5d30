"""Helpers shared by the tests: build the real assets into a temporary directory."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml

from paccto_data.definitions import build_definitions
from paccto_data.settings import PROJECT_ROOT, Settings


def tmp_settings(root: Path, **overrides) -> Settings:
    values = dict(
        source_mode="snapshot",
        warehouse=root / "warehouse.duckdb",
        build_db=root / "build" / "warehouse.duckdb",
        raw_dir=root / "raw",
        publish_dir=root / "published",
    )
    values.update(overrides)
    return Settings(**values)


@contextmanager
def environment(settings: Settings):
    """Point the PACCTO_* variables at `settings` for code that reads the environment."""
    names = {
        "PACCTO_SOURCE_MODE": settings.source_mode,
        "PACCTO_WAREHOUSE": str(settings.warehouse),
        "PACCTO_BUILD_DB": str(settings.build_db),
        "PACCTO_RAW_DIR": str(settings.raw_dir),
        "PACCTO_PUBLISH_DIR": str(settings.publish_dir),
    }
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build(settings: Settings, instance: dg.DagsterInstance,
          selection: str | dg.AssetSelection | None = None) -> dg.ExecuteInProcessResult:
    """Materialise the real assets and checks (all, or a selection) with `dagster.materialize`,
    in-process, as `make run` does; failures are returned, not raised."""
    defs = build_definitions(settings)
    everything = [*defs.assets, *defs.asset_checks]
    if isinstance(selection, str):
        selection = dg.AssetSelection.from_string(selection)
    return dg.materialize(everything, instance=instance, resources=defs.resources,
                          selection=selection, raise_on_error=False)


@dataclass
class Build:
    """A build in `root` (tmp_settings(root): the build database, the released warehouse, the
    published folder) and its Dagster instance, persistent in root/dagster so that a copy of
    the folder is a copy of the run history and of every check result too."""

    root: Path
    settings: Settings
    instance: dg.DagsterInstance
    result: dg.ExecuteInProcessResult | None = None

    @classmethod
    def open(cls, root: Path, result: dg.ExecuteInProcessResult | None = None) -> Build:
        home = root / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        return cls(root, tmp_settings(root), dg.DagsterInstance.local_temp(tempdir=str(home)),
                   result)

    def copy(self, root: Path) -> Build:
        """The same build in `root`, to change without touching this one."""
        shutil.copytree(self.root, root, dirs_exist_ok=True)
        return Build.open(root)


def full_build(root: Path) -> Build:
    """Every asset, check and release, built offline into `root` as `make run` builds them."""
    empty = Build.open(root)
    result = build(empty.settings, empty.instance)
    assert result.success, failed_steps(result)
    return Build(root, empty.settings, empty.instance, result)


def shared_build(tmp_path_factory, name: str, make) -> Path:
    """The folder `name`, made once per test run by `make(folder)` and shared by every
    pytest-xdist worker (the first worker to ask makes it while holding a lock, the others
    wait for it). Read it or copy it (shutil.copytree), never change it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    target = base / f"shared-{name}"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (base / f"shared-{name}.done").exists():
                shutil.rmtree(target, ignore_errors=True)  # a make that failed half-way
                make(target)
                (base / f"shared-{name}.done").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def failed_steps(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Step key -> error message (with the messages of its causes), for every step that
    failed."""
    failures = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error, message = event.event_specific_data.error, ""
            while error is not None:
                message, error = message + error.message, error.cause
            failures[event.step_key] = message
    return failures


def skipped_steps(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}


COPIED = ["paccto_data", "assets", "expectations", "workspace.yaml", "pyproject.toml"]
DAGSTER = str(Path(sys.executable).parent / "dagster")


class Project:
    """A copy of the project's code, catalogue and suites in `root`, built through the real
    command line into its own data folder `data` (layout of tmp_settings(data), with
    DAGSTER_HOME data/dagster). Tests break its snapshots (and restore them), or add a source.
    """

    def __init__(self, root: Path, data: Path):
        self.root, self.data = root, data
        self.warehouse = data / "warehouse.duckdb"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(root),  # import the copy, not the checkout
            "DAGSTER_HOME": str(data / "dagster"),
            "PACCTO_WAREHOUSE": str(self.warehouse),
            "PACCTO_BUILD_DB": str(data / "build" / "warehouse.duckdb"),
            "PACCTO_RAW_DIR": str(data / "raw"),
            "PACCTO_PUBLISH_DIR": str(data / "published"),
            "PACCTO_SOURCE_MODE": "snapshot",
        }
        (data / "dagster").mkdir(parents=True, exist_ok=True)

    @classmethod
    def copy(cls, root: Path, data: Path) -> Project:
        """A copy of this checkout in `root`."""
        for name in COPIED:
            source = PROJECT_ROOT / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, root / name)
        return cls(root, data)

    def build(self, select: str = "*") -> subprocess.CompletedProcess:
        """`dagster asset materialize --select <select>` in the copy, as `make run` runs it."""
        return subprocess.run([DAGSTER, "asset", "materialize", "-m", "paccto_data.definitions",
                               "--select", select], cwd=self.root, env=self.env,
                              capture_output=True, text=True)

    def snapshot(self, source_id: str, name: str) -> Path:
        return self.root / "assets" / "snapshots" / source_id / name

    def rewrite(self, source_id: str, name: str, edit, record_sha256: bool = True) -> None:
        """Edit a snapshot's bytes; unless told otherwise, record the new sha256 in the YAML as
        a maintainer promoting a new upstream file would."""
        path = self.snapshot(source_id, name)
        path.write_bytes(edit(path.read_bytes()))
        if record_sha256:
            record_path = self.root / "assets" / "sources" / f"{source_id}.yaml"
            text = record_path.read_text()
            record = yaml.safe_load(text)
            spec = next(f for f in record["files"] if f["name"] == name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            text = text.replace(spec["sha256"], digest)
            text = re.sub(rf"(name: {re.escape(name)}\n(?:.*\n)*?\s+bytes: )\d+",
                          rf"\g<1>{path.stat().st_size}", text, count=1)
            record_path.write_text(text)

    def restore(self) -> None:
        for folder in ("assets",):
            shutil.rmtree(self.root / folder)
            shutil.copytree(PROJECT_ROOT / folder, self.root / folder)


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                   "all_proxy")


@dataclass
class ColdRun:
    """A copy of the project (`root`, its data in root/data: the layout of Project) built cold
    by `make run`, and what that command printed."""

    root: Path
    returncode: int
    stdout: str
    stderr: str

    @classmethod
    def read(cls, root: Path) -> ColdRun:
        return cls(root, **json.loads((root / "make-run.json").read_text(encoding="utf-8")))


def cold_cli_build(root: Path) -> None:
    """A copy of the project in `root`, built cold by `make run` (`python -m
    paccto_data.defs.build`, snapshot mode, with data/dagster/dagster.yaml); what it printed
    goes to root/make-run.json (ColdRun.read)."""
    project = Project.copy(root, root / "data")
    shutil.copy(PROJECT_ROOT / "data" / "dagster" / "dagster.yaml",
                project.data / "dagster" / "dagster.yaml")
    env = {k: v for k, v in project.env.items() if k not in PROXY_VARIABLES}
    env["PACCTO_AUTOMATION"] = "off"
    ran = subprocess.run([sys.executable, "-m", "paccto_data.defs.build"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=1200)
    (root / "make-run.json").write_text(json.dumps(
        {"returncode": ran.returncode, "stdout": ran.stdout, "stderr": ran.stderr}),
        encoding="utf-8")


def duckdb_1_path(version: str) -> Path:
    """A folder holding the DuckDB 1.x Python package (installed once from PyPI)."""
    target = PROJECT_ROOT / ".cache" / f"duckdb-{version}"
    if not (target / "duckdb").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--target", str(target),
                        f"duckdb=={version}"], check=True)
    return target

"""Releases from any selection are whole (issue 12, item 4): materialising
`publication_release` alone, from its own definition or from the whole graph, or with a subset
of the packages, leaves every published file it does not rebuild exactly as it was (the
quality report, the country profiles, the catalogue and its report list included), or
refuses, naming what to materialise, and releases nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import pytest

from paccto_data.definitions import build_definitions
from paccto_data.defs.publication import build_area
from paccto_data.publication import validation
from tests.support import build, failed_steps
from tests.test_package_validation import (
    break_a_year_behind_a_matching_descriptor,
    count_frictionless,
)

pytestmark = pytest.mark.e2e


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_any_selection_releases_the_whole_publication(warehouse_build_copy):
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    publish_dir = settings.publish_dir
    before = digests(publish_dir)
    assert any(p.startswith("quality/") for p in before)
    assert any(p.startswith("countries/") for p in before)
    reports = json.loads((publish_dir / "catalog.json").read_text("utf-8"))["reports"]
    assert reports

    # The release alone, its definition the only one in the job (every upstream a stub).
    defs = build_definitions(settings)
    [release] = [a for a in defs.assets if a.key == dg.AssetKey("publication_release")]
    alone = dg.materialize([release], instance=instance, resources=defs.resources,
                           raise_on_error=False)
    assert alone.success, failed_steps(alone)
    assert digests(publish_dir) == before

    # The release alone, or with one package, selected from the whole graph.
    package = dg.AssetKey(["publication", "lac_homicide"])
    for selection in (dg.AssetSelection.assets("publication_release"),
                      dg.AssetSelection.assets(package, "publication_release")):
        result = build(settings, instance, selection)
        assert result.success, (selection, failed_steps(result))
        assert digests(publish_dir) == before, selection
    assert json.loads((publish_dir / "catalog.json").read_text("utf-8"))["reports"] == reports


def test_a_folder_not_rebuilt_stays_as_published_and_a_missing_package_refuses(
        warehouse_build_copy):
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    before = digests(settings.publish_dir)
    area = build_area(settings)
    # The quality report's build-area folder is gone and the report is not in the selection:
    # the published report is kept exactly as it was.
    (area / "quality").rename(area / "quality.gone")
    result = build(settings, instance, dg.AssetSelection.assets("publication_release"))
    assert result.success, failed_steps(result)
    assert digests(settings.publish_dir) == before
    # A package that is not built cannot be kept whole: refused, nothing released.
    (area / "lac-homicide").rename(area / "lac-homicide.gone")
    result = build(settings, instance, dg.AssetSelection.assets("publication_release"))
    assert not result.success
    [message] = failed_steps(result).values()
    assert "lac-homicide/ is not built" in message
    assert "materialise publication/lac_homicide first; nothing was released" in message
    assert digests(settings.publish_dir) == before
    assert not list(settings.publish_dir.parent.glob("published.*"))


def test_a_release_trusts_the_descriptors_its_gate_passed_and_checks_every_byte(
        warehouse_build_copy, monkeypatch):
    """A release in a process that validated nothing (a `make run` after a kill, the UI
    releasing alone) takes each package's passed `package_valid` result for its descriptor:
    no frictionless, every file still checked against that descriptor; a package whose
    descriptor is another one is validated whole, and refused if it is not valid."""
    settings, instance = warehouse_build_copy.settings, warehouse_build_copy.instance
    before = digests(settings.publish_dir)
    monkeypatch.setattr(validation, "_VALID", set())  # nothing remembered by this process
    calls = count_frictionless(monkeypatch)
    result = build(settings, instance, dg.AssetSelection.assets("publication_release"))
    assert result.success, failed_steps(result)
    assert calls == [] and digests(settings.publish_dir) == before

    monkeypatch.setattr(validation, "_VALID", set())
    break_a_year_behind_a_matching_descriptor(build_area(settings) / "lac-homicide")
    result = build(settings, instance, dg.AssetSelection.assets("publication_release"))
    assert not result.success
    assert "lac-homicide/homicide_rate, row 2" in failed_steps(result)["publication_release"]
    assert [c.name for c in calls] == ["lac-homicide"]  # only the changed descriptor
    assert digests(settings.publish_dir) == before

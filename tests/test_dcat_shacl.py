"""The published catalog.jsonld against the official DCAT-AP 3.0.1 SHACL shapes
(tests/standards/dcat-ap-3.0.1/, see its SOURCE.md), as data.europa.eu validates a harvest:
pySHACL with RDFS inference.

- `dcat-ap-SHACL.ttl` with `mdr-vocabularies.shape.ttl`: no violation. The only warnings left
  say that a publisher is not in the EU corporate-body vocabulary, which none of ours is (the
  platform, UNODC, the World Bank, the UN Statistics Division, the programme).
- `shapes_recommended.ttl`: no warning.

Counted are the top-level results of the validation report (`sh:result`).
"""

from collections import Counter
from pathlib import Path

import pytest

from paccto_data.settings import Settings

SHAPES = Path(__file__).with_name("standards") / "dcat-ap-3.0.1"
PUBLISHED = Settings.from_env().publish_dir
SH = "http://www.w3.org/ns/shacl#"
CORPORATE_BODY = "http://publications.europa.eu/resource/authority/corporate-body"


def validate(data, *files: str) -> list[dict]:
    """Every top-level result: severity, path, component, focus node, value."""
    import rdflib
    from pyshacl import validate as shacl

    shapes = rdflib.Graph()
    for name in files:
        shapes.parse(SHAPES / name, format="turtle")
    _, report, _ = shacl(data, shacl_graph=shapes, inference="rdfs", advanced=True)
    sh = rdflib.Namespace(SH)
    results = []
    for root in report.subjects(rdflib.RDF.type, sh.ValidationReport):
        for r in report.objects(root, sh.result):
            source = report.value(r, sh.sourceShape)
            results.append({
                "severity": str(report.value(r, sh.resultSeverity)).removeprefix(SH),
                "path": str(report.value(r, sh.resultPath)),
                "component": str(report.value(r, sh.sourceConstraintComponent)).removeprefix(SH),
                "focus": str(report.value(r, sh.focusNode)),
                "value": str(report.value(r, sh.value)),
                "nodes": {str(n) for n in report.objects(source, sh.node)},
            })
    return results


def counts(results: list[dict]) -> Counter:
    return Counter(r["severity"] for r in results)


@pytest.fixture(scope="module")
def catalogue():
    import rdflib

    path = PUBLISHED / "catalog.jsonld"
    assert path.is_file(), f"{path}: no catalogue published (make run)"
    return rdflib.Graph().parse(path, format="json-ld")


def test_no_violation_of_the_dcat_ap_shapes_and_vocabularies(catalogue):
    results = validate(catalogue, "dcat-ap-SHACL.ttl", "mdr-vocabularies.shape.ttl")
    assert [r for r in results if r["severity"] == "Violation"] == []
    # the warnings left: publishers that are not EU corporate bodies, nothing else
    warnings = [r for r in results if r["severity"] == "Warning"]
    assert warnings and all(r["path"] == "http://purl.org/dc/terms/publisher"
                            and r["component"] == "NodeConstraintComponent"
                            for r in warnings), warnings
    import rdflib

    publisher = rdflib.URIRef("http://purl.org/dc/terms/publisher")
    publishers = {str(o) for o in catalogue.objects(None, publisher)}
    assert not [p for p in publishers if p.startswith(CORPORATE_BODY)]
    # one per catalogue or dataset with a publisher
    assert len(warnings) == len(set(catalogue.subject_objects(publisher)))


def test_no_warning_of_the_recommended_shapes(catalogue):
    assert counts(validate(catalogue, "shapes_recommended.ttl")) == Counter()


def test_the_shapes_do_find_what_the_catalogue_lacks(catalogue):
    """The same validation on a copy of the catalogue with a few values broken: not a test
    that passes on anything."""
    import rdflib

    broken = rdflib.Graph()
    for triple in catalogue:
        broken.add(triple)
    dct = rdflib.Namespace("http://purl.org/dc/terms/")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    dataset = next(broken.subjects(rdflib.RDF.type, dcat.Dataset))
    broken.remove((dataset, dct.description, None))  # a mandatory property
    location = next(broken.subjects(rdflib.RDF.type, dct.Location))
    broken.remove((location, dcat.bbox, None))  # a recommended one
    distribution = next(broken.subjects(rdflib.RDF.type, dcat.Distribution))
    broken.add((distribution, dct.license, rdflib.URIRef("https://example.org/licence")))
    mandatory = validate(broken, "dcat-ap-SHACL.ttl", "mdr-vocabularies.shape.ttl")
    assert {(r["path"].rsplit("/", 1)[-1], r["component"]) for r in mandatory
            if r["severity"] == "Violation"} == {
        ("description", "MinCountConstraintComponent"),
        ("license", "MaxCountConstraintComponent"),
        ("license", "ClassConstraintComponent")}
    recommended = validate(broken, "shapes_recommended.ttl")
    assert {(r["path"].rsplit("#", 1)[-1], r["focus"]) for r in recommended} == {
        ("bbox", str(location))}

"""The refresh records why a publisher dropped rows (`--removal-reason`), beside the source's
YAML, in the note the package builds read (paccto_data/publication/versions.py): over real
HTTP on 127.0.0.1, promoting into a copy of the assets, as tests/test_refresh.py does."""

from __future__ import annotations

import yaml

from paccto_data import refresh
from paccto_data.publication import versions
from tests.test_refresh import assets_copy, changed_homicide, serve_homicide

REASON = "OWID's export no longer has Chile's 2023 rate."


def test_the_reason_for_dropped_rows_is_recorded_with_the_rows(loopback, monkeypatch,
                                                               tmp_path, capsys):
    serve_homicide(loopback, monkeypatch, changed_homicide())  # drops CHL 2023
    root = assets_copy(tmp_path, "unodc_homicide")
    assert refresh.main(["unodc_homicide", "--yes", "--vintage", "2026-03", "--removal-reason",
                         REASON, "--assets-root", str(root)]) == 0
    note = root / "sources" / "removals" / "unodc_homicide.yaml"
    assert "Recorded why the rows were dropped in" in capsys.readouterr().out
    text = note.read_text(encoding="utf-8")
    assert text.startswith("# Rows that unodc_homicide's publisher no longer gives, and why")
    assert yaml.safe_load(text) == [{"vintage": "2026-03", "reason": REASON,
                                     "rows": [{"iso3": "CHL", "year": 2023}]}]

    # the package builds read it: the dropped row gets its reason, other rows none
    monkeypatch.setattr(versions, "REMOVALS_DIR", note.parent)
    vintages, notes = {"unodc_homicide": "2026-03"}, {}
    row = {"iso3": "CHL", "year": 2023, "value": 6.3, "source_id": "unodc_homicide"}
    assert versions.reason_for(row, (), vintages, notes) == \
        f"unodc_homicide (vintage 2026-03): {REASON}"
    assert versions.reason_for(row | {"year": 2022}, (), vintages, notes) is None

    # a later refresh that drops rows again appends a note; the first stays
    versions.record_removal("unodc_homicide", "2027", "Another reason.", [],
                            root / "sources")
    assert [n["vintage"] for n in yaml.safe_load(note.read_text(encoding="utf-8"))] == \
        ["2026-03", "2027"]


def test_without_a_reason_the_refresh_says_how_to_record_one(loopback, monkeypatch, tmp_path,
                                                             capsys):
    serve_homicide(loopback, monkeypatch, changed_homicide())
    root = assets_copy(tmp_path, "unodc_homicide")
    assert refresh.main(["unodc_homicide", "--yes", "--assets-root", str(root)]) == 0
    assert "The new files drop rows: record why in" in capsys.readouterr().out
    assert not (root / "sources" / "removals").exists()

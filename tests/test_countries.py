"""The one country resolver: codes first, reviewed overrides, exact names; never fuzzy."""

import pytest
import yaml

from paccto_data.acquire import fetch, records
from paccto_data.countries import (
    OVERRIDES_PATH,
    classify_country,
    lac_iso3,
    normalise_name,
    resolve_country,
    resolver,
)
from paccto_data.errors import SourceDataError, UnknownCountryError
from paccto_data.settings import Settings
from paccto_data.sources import staging_tables


@pytest.mark.parametrize("value, iso3", [
    # Look-alikes that a fuzzy matcher would confuse.
    ("Dominica", "DMA"), ("Dominican Republic", "DOM"), ("República Dominicana", "DOM"),
    ("Niger", "NER"), ("Nigeria", "NGA"),
    ("Guinea", "GIN"), ("Guinea-Bissau", "GNB"), ("Equatorial Guinea", "GNQ"),
    ("Congo", "COG"), ("Congo, Dem. Rep.", "COD"),
    ("Saint Kitts and Nevis", "KNA"), ("St. Kitts and Nevis", "KNA"),
    ("Sint Maarten (Dutch part)", "SXM"), ("St. Martin (French part)", "MAF"),
    # Codes: ISO3, M49 (zero-padded or not), reviewed World Bank codes.
    ("DMA", "DMA"), ("032", "ARG"), ("32", "ARG"), ("ROM", "ROU"), ("ZAR", "COD"),
    # Official, Spanish and accented forms.
    ("Bolivia (Plurinational State of)", "BOL"), ("Bolivia", "BOL"),
    ("Venezuela (Bolivarian Republic of)", "VEN"), ("Curaçao", "CUW"), ("Curacao", "CUW"),
    ("Bahamas, The", "BHS"), ("  jamaica ", "JAM"), ("Brasil", "BRA"),
])
def test_resolves(value, iso3):
    assert resolve_country(value) == iso3


@pytest.mark.parametrize("value", ["Dominca", "Nigeri", "Atlantis", "Latin America", "", "XX"])
def test_never_guesses(value):
    with pytest.raises(UnknownCountryError, match="cannot resolve country"):
        resolve_country(value)


@pytest.mark.parametrize("value, reason", [
    ("OWID_WRL", "aggregate"), ("UN_LAC", "aggregate"), ("KSV", "not_an_m49_area"),
    ("Kosovo", "not_an_m49_area"), ("TWN", "not_an_m49_area"), ("ANT", "dissolved"),
])
def test_deliberate_non_countries_carry_a_reason(value, reason):
    result = classify_country(value)
    assert (result.iso3, result.reason) == (None, reason)
    with pytest.raises(UnknownCountryError, match=reason):
        resolve_country(value)


def test_footnote_marks_and_articles_are_ignored_but_nothing_else():
    assert normalise_name("State of Palestine (the) *") == "state of palestine"
    assert normalise_name("Côte d’Ivoire") == "cote d'ivoire"
    assert resolve_country("Bahamas (the)") == "BHS"


def test_lac_is_m49_region_419_with_52_areas():
    lac = lac_iso3()
    assert len(lac) == 52
    assert {"JAM", "URY", "DMA", "DOM", "BES", "FLK"} <= lac
    assert not {"ESP", "USA", "NER"} & lac


def test_every_override_targets_an_m49_country():
    overrides = yaml.safe_load(OVERRIDES_PATH.read_text())
    for value, iso3 in overrides["to_iso3"].items():
        assert iso3 in resolver().iso3, f"{value!r} -> {iso3!r} is not in M49"
        assert resolve_country(value) == iso3


@pytest.mark.parametrize("table", sorted(staging_tables()))
def test_every_country_in_every_bundled_snapshot_resolves(table):
    """Each tidy function resolves every country name or code in its snapshot (an unknown
    one raises naming file and row); what it drops on purpose carries a reason."""
    staging = staging_tables()[table]
    files = fetch.local_files(records.source(staging.source_id), Settings.from_env())
    tidy = staging.tidy(files)
    if "iso3" in tidy.table.columns:
        assert tidy.table["iso3"].dropna().isin(resolver().iso3).all()
    unexplained = {r for r in tidy.dropped if not r}
    assert not unexplained, f"{table}: rows dropped without a reason"


def test_an_unknown_name_in_a_file_names_file_row_column_and_value(tmp_path):
    source = records.source("wb_population")
    files = fetch.local_files(source, Settings.from_env())
    lines = files["country_metadata"].read_bytes().split(b"\n")
    assert lines[1].startswith(b"ABW,")
    lines[1] = b"ATL" + lines[1][3:]  # record 2 (the first after the header): Aruba -> ATL
    broken = tmp_path / files["country_metadata"].name
    broken.write_bytes(b"\n".join(lines))
    from paccto_data.sources.wb_population import tidy_countries

    with pytest.raises(SourceDataError) as error:
        tidy_countries({**files, "country_metadata": broken})
    message = str(error.value)
    assert broken.name in message and "row 2" in message
    assert "column 'Country Code'" in message and "'ATL'" in message

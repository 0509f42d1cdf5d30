"""UN M49 areas with their codes, regions and English/Spanish names."""

from __future__ import annotations

from collections import Counter

from paccto_data.countries import read_crosswalk, read_m49
from paccto_data.errors import SourceDataError
from paccto_data.sources import Tidy
from paccto_data.sources._common import line_locators, require_columns, with_provenance

SOURCE_ID = "un_m49"

M49_COLUMNS = {
    "M49 Code": "m49",
    "ISO-alpha2 Code": "iso2",
    "ISO-alpha3 Code": "iso3",
    "Country or Area": "name_en",
    "Region Code": "region_code",
    "Region Name": "region",
    "Sub-region Code": "sub_region_code",
    "Sub-region Name": "sub_region",
    "Intermediate Region Code": "intermediate_region_code",
    "Intermediate Region Name": "intermediate_region",
    "Least Developed Countries (LDC)": "is_ldc",
    "Land Locked Developing Countries (LLDC)": "is_lldc",
    "Small Island Developing States (SIDS)": "is_sids",
}


def tidy_areas(files) -> Tidy:
    """Every M49 country or area: codes, region, sub-region, intermediate region, LDC/LLDC/SIDS
    flags, English and Spanish names, and the area's line in the M49 file (source_file,
    source_locator)."""
    m49 = read_m49(files["methodology"])
    require_columns(m49, M49_COLUMNS, files["methodology"])
    areas = m49[list(M49_COLUMNS)].rename(columns=M49_COLUMNS)
    areas = with_provenance(areas, files["methodology"], line_locators(m49["file_row"]))
    for flag in ("is_ldc", "is_lldc", "is_sids"):
        areas[flag] = areas[flag].str.strip().str.lower().eq("x")
    for code in ("m49", "region_code", "sub_region_code", "intermediate_region_code"):
        bad = areas[code].ne("") & ~areas[code].str.fullmatch(r"\d{3}")
        if bad.any():
            i = int(bad.idxmax())
            raise SourceDataError(files["methodology"], "not a three-digit M49 code",
                                  row=int(m49.at[i, "file_row"]),
                                  column=code, value=areas.at[i, code], expected="e.g. '032'")
    areas = areas.replace({"": None})

    crosswalk = read_crosswalk(files["country_codes"])
    require_columns(crosswalk, ["ISO3166-1-Alpha-3", "official_name_es", "UNTERM Spanish Short"],
                    files["country_codes"])
    spanish = crosswalk.assign(
        name_es=crosswalk["official_name_es"].where(
            crosswalk["official_name_es"] != "", crosswalk["UNTERM Spanish Short"])
    ).set_index("ISO3166-1-Alpha-3")["name_es"].replace({"": None})
    areas["name_es"] = areas["iso3"].map(spanish)
    return Tidy(areas.reset_index(drop=True), rows_read=len(m49), dropped=Counter())


TABLES = {"un_m49": tidy_areas}

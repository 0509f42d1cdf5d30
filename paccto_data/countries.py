"""The one country resolver: any name or code a source uses -> ISO 3166-1 alpha-3.

Order: exact codes of the UN M49 reference (ISO3, ISO2, M49 numeric); the reviewed override
table `assets/country_overrides.yaml`; exact names from the M49 reference and the DataHub
crosswalk (English and Spanish); exact pycountry names. Never fuzzy matching: a value that
none of these knows raises `UnknownCountryError` naming it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pandas as pd

from paccto_data.csv_reader import read_csv_frame, read_csv_table
from paccto_data.errors import UnknownCountryError
from paccto_data.fileio import read_yaml
from paccto_data.settings import ASSETS_DIR, SNAPSHOTS_DIR

OVERRIDES_PATH = ASSETS_DIR / "country_overrides.yaml"
M49_PATH = SNAPSHOTS_DIR / "un_m49" / "UNSD-Methodology.csv"
CROSSWALK_PATH = SNAPSHOTS_DIR / "un_m49" / "country-codes.datahub.csv"

_CROSSWALK_NAME_COLUMNS = (
    "UNTERM English Short", "UNTERM English Formal", "official_name_en", "CLDR display name",
    "UNTERM Spanish Short", "UNTERM Spanish Formal", "official_name_es",
)
_FOOTNOTE = re.compile(r"(\s*[*†‡]+|\s*\[\w{1,3}\])+$")
_ARTICLE = re.compile(r"\s*\((the|el|la|los|las|le|les|l')\)", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    iso3: str | None  # None: deliberately not a country (see `reason`)
    reason: str | None = None


def normalise_name(value: str) -> str:
    """Case-, accent-, spacing- and footnote-insensitive form of a name (not fuzzy)."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _FOOTNOTE.sub("", text.strip())
    text = _ARTICLE.sub("", text)
    text = text.replace("&", " and ").replace("’", "'")
    return " ".join(text.casefold().split())


def read_m49(path=M49_PATH) -> pd.DataFrame:
    """The UNSD M49 table (semicolon-separated), text cells, plus `file_row` (its line)."""
    return read_csv_table(path, delimiter=";")


def read_crosswalk(path=CROSSWALK_PATH) -> pd.DataFrame:
    return read_csv_frame(path, dtype=str, keep_default_na=False)


class CountryResolver:
    def __init__(self, m49: pd.DataFrame, crosswalk: pd.DataFrame, overrides: dict):
        m49 = m49[m49["ISO-alpha3 Code"] != ""]
        self.iso3 = frozenset(m49["ISO-alpha3 Code"])
        self._codes: dict[str, str] = {}
        for row in m49.itertuples(index=False):
            iso3, iso2, num = row[11], row[10], row[9]
            self._codes[iso3] = iso3
            if iso2:
                self._codes[iso2] = iso3
            self._codes[num.zfill(3)] = iso3
        self._overrides = {normalise_name(k): v for k, v in (overrides.get("to_iso3") or {}).items()}
        self._override_codes = {k: v for k, v in (overrides.get("to_iso3") or {}).items() if k.isupper()}
        for target in self._overrides.values():
            if target not in self.iso3:
                raise ValueError(f"{OVERRIDES_PATH}: {target!r} is not an ISO3 code in M49")
        not_countries = overrides.get("not_countries") or {}
        self._not_country_codes = {k: v for k, v in not_countries.items() if k.isupper()}
        self._not_countries = {normalise_name(k): v for k, v in not_countries.items()}
        self._patterns = [(re.compile(p), r) for p, r in
                          (overrides.get("not_country_patterns") or {}).items()]
        self._names = self._reference_names(m49, crosswalk)

    def _reference_names(self, m49: pd.DataFrame, crosswalk: pd.DataFrame) -> dict[str, str]:
        candidates: dict[str, set[str]] = {}

        def add(name: str, iso3: str) -> None:
            if name and iso3 in self.iso3:
                candidates.setdefault(normalise_name(name), set()).add(iso3)

        for name, iso3 in zip(m49["Country or Area"], m49["ISO-alpha3 Code"]):
            add(name, iso3)
        for column in _CROSSWALK_NAME_COLUMNS:
            for name, iso3 in zip(crosswalk[column], crosswalk["ISO3166-1-Alpha-3"]):
                add(name, iso3)
        import pycountry  # a library of ISO 3166 names; exact lookups only

        for country in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                add(getattr(country, attr, "") or "", country.alpha_3)
        # A name two references give to different countries is ambiguous: only the
        # reviewed override table may decide it.
        return {name: next(iter(codes)) for name, codes in candidates.items() if len(codes) == 1}

    def classify(self, value: object) -> Resolution:
        if value is None or (isinstance(value, float) and value != value):
            raise UnknownCountryError(value)
        text = str(value).strip()
        if not text:
            raise UnknownCountryError(value)
        if text.isdigit() and len(text) <= 3 and text.zfill(3) in self._codes:
            return Resolution(self._codes[text.zfill(3)])  # M49, padded or not ("32", "032")
        if len(text) == 3 and text in self._codes:
            return Resolution(self._codes[text])
        if text in self._override_codes:
            return Resolution(self._override_codes[text])
        if text in self._not_country_codes:
            return Resolution(None, self._not_country_codes[text])
        for pattern, reason in self._patterns:
            if pattern.search(text):
                return Resolution(None, reason)
        name = normalise_name(text)
        if name in self._overrides:
            return Resolution(self._overrides[name])
        if name in self._not_countries:
            return Resolution(None, self._not_countries[name])
        if name in self._names:
            return Resolution(self._names[name])
        if len(text) == 2 and text.isupper() and text in self._codes:
            return Resolution(self._codes[text])
        raise UnknownCountryError(value)

    def resolve(self, value: object) -> str:
        """ISO3 of a country; raises for unknown values and for deliberate non-countries."""
        result = self.classify(value)
        if result.iso3 is None:
            raise UnknownCountryError(f"{value} ({result.reason})")
        return result.iso3


@cache
def resolver() -> CountryResolver:
    overrides = read_yaml(OVERRIDES_PATH) or {}
    return CountryResolver(read_m49(), read_crosswalk(), overrides)


def resolve_country(value: object) -> str:
    return resolver().resolve(value)


def classify_country(value: object) -> Resolution:
    return resolver().classify(value)


@cache
def lac_iso3() -> frozenset[str]:
    """ISO3 of the 52 M49 areas in Latin America and the Caribbean (M49 419)."""
    m49 = read_m49()
    return frozenset(m49.loc[m49["Sub-region Code"] == "419", "ISO-alpha3 Code"])

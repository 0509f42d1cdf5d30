"""The catalogue's words in English and Spanish, read from paccto_data/site/strings.yaml.

`strings("es")` is every string in Spanish, by key. The file is checked as it is read: every
key must give a non-empty text in every language of `LANGUAGES`, so a string added in
English only stops the build naming the key, instead of a page with a hole in it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from paccto_data.fileio import read_yaml
from paccto_data.site import SiteError

STRINGS_FILE = Path(__file__).with_name("strings.yaml")
LANGUAGES = ("en", "es")
PAGES = {"en": "index.html", "es": "index.es.html"}  # the catalogue page in each language


def by_language(path: Path = STRINGS_FILE) -> dict[str, dict[str, str]]:
    """{language: {key: text}} from a file of `key: {en: ..., es: ...}`."""
    entries = read_yaml(path)
    if not isinstance(entries, dict):
        raise SiteError(f"{path.name}: not a mapping of keys to their texts")
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for key, texts in entries.items():
        check_languages(texts, f"{path.name}: {key}")
        for lang in LANGUAGES:
            out[lang][key] = texts[lang]
    return out


def check_languages(texts: object, where: str) -> None:
    """`texts` must be {language: non-empty text} for exactly the `LANGUAGES`."""
    if not isinstance(texts, dict):
        raise SiteError(f"{where}: give the text in each of {', '.join(LANGUAGES)}")
    missing = [lang for lang in LANGUAGES if not isinstance(texts.get(lang), str)
               or not texts[lang].strip()]
    if missing:
        raise SiteError(f"{where}: no text in {', '.join(missing)}")
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown:
        raise SiteError(f"{where}: unknown language {', '.join(map(str, unknown))}")


@cache
def _strings() -> dict[str, dict[str, str]]:
    return by_language(STRINGS_FILE)


def strings(lang: str) -> dict[str, str]:
    """Every string of the catalogue in `lang` ("en" or "es"), by key."""
    return _strings()[lang]

"""Step 1 of the refresh: every file of a source, downloaded in live mode through the one HTTP
client into a folder of its own, never under the assets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from paccto_data.acquire import fetch
from paccto_data.acquire.records import Source
from paccto_data.errors import PacctoError
from paccto_data.http import HttpClient
from paccto_data.settings import ASSETS_DIR, Settings


class RefreshError(PacctoError):
    """The refresh cannot go on (and has changed nothing)."""


def download(source: Source, raw_dir: Path, client: HttpClient | None = None,
             assets_root: Path = ASSETS_DIR) -> dict[str, fetch.RawFile]:
    """Every file of `source`, downloaded in live mode into `<raw_dir>/<id>/`."""
    raw_dir = Path(raw_dir).resolve()
    for guarded in (Path(assets_root).resolve(), ASSETS_DIR.resolve()):
        if raw_dir == guarded or raw_dir.is_relative_to(guarded):
            raise RefreshError(f"{raw_dir}: downloads never go under {guarded}")
    base = Settings.from_env()
    settings = replace(base, source_mode="live", raw_dir=raw_dir)
    return {raw.file_id: raw for raw in fetch.acquire(source, settings, client)}

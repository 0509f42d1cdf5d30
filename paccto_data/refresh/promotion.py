"""Step 3 of the refresh: the downloaded files handed to the one promoter
(`paccto_data.acquire.promote`), with the refresh's own rule for `taken_from` and the check
that the staged bytes are the ones the report showed."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from paccto_data.acquire import promote as promoter
from paccto_data.fileio import sha256_of
from paccto_data.settings import ASSETS_DIR


def promote(source_id: str, downloaded: Mapping[str, Path], *, retrieved: str, vintage: str,
            urls: Mapping[str, str] | None = None,
            reviewed: Mapping[str, str] | None = None,
            assets_root: Path = ASSETS_DIR) -> list[str]:
    """Promote the downloaded files of `source_id` through the one promoter
    (`paccto_data.acquire.promote`). A replaced file's `taken_from` (where the old bytes were
    copied from) no longer describes it: it becomes the URL actually downloaded (`urls`, by
    file id) when that differs from the catalogue's `url`, and is removed otherwise.
    `reviewed` (file id -> sha256, as the report showed it): the staged copies must be exactly
    those bytes, or nothing is promoted. Returns the ids of the files replaced."""
    source = promoter.load(source_id, assets_root)
    taken_from = {}
    for spec in source.files:
        if spec.taken_from is not None:
            url = (urls or {}).get(spec.id)
            taken_from[spec.id] = url if url and url != spec.url else None

    def as_reviewed(files: Mapping[str, Path]) -> None:
        for file_id, digest in (reviewed or {}).items():
            if sha256_of(files[file_id]) != digest:
                raise promoter.PromotionError(
                    f"{file_id}: the file to promote is not the one the report showed "
                    f"(sha256 {digest}); nothing was promoted")

    return promoter.promote(source_id, downloaded, retrieved=retrieved, vintage=vintage,
                            taken_from=taken_from, check=as_reviewed, assets_root=assets_root)

"""Layer `sources`: one asset per catalogue entry that verifies or downloads its raw files."""

import dagster as dg

from paccto_data.acquire import fetch
from paccto_data.acquire.records import Source
from paccto_data.defs import OWNERS
from paccto_data.defs.resources import PacctoConfig


def raw_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source_id])


def source_metadata(source: Source) -> dict:
    return {
        "licence": source.licence["name"],
        "licence_url": dg.MetadataValue.url(source.licence["url"]),
        "redistribution": source.redistribution,
        "vintage": source.vintage,
        "publisher": source.publisher,
        "homepage": dg.MetadataValue.url(source.homepage),
    }


def raw_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_key(source.id),
        group_name="sources",
        owners=OWNERS,
        kinds={"python", *sorted({f.format for f in source.files})},
        description=f"{source.title} — {source.publisher}. Raw files, sha256-verified "
        "(snapshot mode) or downloaded (live mode).",
        metadata={**source_metadata(source), "files": [f.name for f in source.files]},
    )
    def _raw(context: dg.AssetExecutionContext, paccto: PacctoConfig) -> dg.MaterializeResult:
        raw_files = fetch.acquire(source, paccto.settings)
        rows = [{"file": f.path.name, "url": f.url, "sha256": f.sha256, "bytes": f.bytes,
                 "retrieved": f.retrieved, "matches_snapshot": f.matches_snapshot,
                 "not_modified": f.not_modified} for f in raw_files]
        for f in raw_files:
            if f.mode == "live" and not f.matches_snapshot:
                context.log.info(f"{source.id}/{f.file_id}: upstream differs from the bundled "
                                 f"snapshot (sha256 {f.sha256}); `make refresh` shows how")
        return dg.MaterializeResult(metadata={
            **source_metadata(source),
            "mode": paccto.source_mode,
            "url": dg.MetadataValue.url(raw_files[0].url),
            "retrieved": max(f.retrieved for f in raw_files),
            "sha256": raw_files[0].sha256 if len(raw_files) == 1 else
            ", ".join(f"{f.file_id}={f.sha256[:12]}…" for f in raw_files),
            "bytes": sum(f.bytes for f in raw_files),
            "raw_files": dg.MetadataValue.json(rows),
        })

    return _raw

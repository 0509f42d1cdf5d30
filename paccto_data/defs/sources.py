"""Layer `sources`: one asset per catalogue entry that verifies or downloads its raw files,
and a check that its vintage is not older than its publisher's cadence allows."""

import itertools
import random
import time
from datetime import UTC, datetime

import dagster as dg

from paccto_data.acquire import cadence, fetch
from paccto_data.acquire.records import Source
from paccto_data.defs import OWNERS
from paccto_data.defs.conditions import daily_check, source_check
from paccto_data.defs.resources import PacctoConfig
from paccto_data.defs.versions import ACQUIRE, code_version, raw_data_version, source_yaml
from paccto_data.http import RetryableDownloadError

# Transient network errors (the HTTP client already retried within the attempt) are tried
# again after 30 s, 60 s and 120 s (± 25 %), within the step; anything else fails at once.
# Not a Dagster RetryPolicy: Dagster retries a step with one when it is interrupted, so a
# Ctrl-C or SIGTERM during a download would be retried and the build carry on to release.
RETRY_DELAYS = (30, 60, 120)


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


def is_transient(exc: BaseException) -> bool:
    """A download that failed for want of the network (refused, timed out, 5xx, cut off)."""
    while exc is not None:
        if isinstance(exc, RetryableDownloadError):
            return True
        exc = exc.__cause__
    return False


def _acquire(context: dg.AssetExecutionContext, source: Source, paccto: PacctoConfig):
    """fetch.acquire, tried again after each of RETRY_DELAYS while it fails for want of the
    network. An interrupt is not caught: it ends the run."""
    delays = iter(RETRY_DELAYS)
    for attempt in itertools.count(1):
        try:
            return fetch.acquire(source, paccto.settings)
        except Exception as exc:
            delay = next(delays, None) if is_transient(exc) else None
            if delay is None:
                raise dg.Failure(description=f"{type(exc).__name__}: {exc}",
                                 allow_retries=False) from exc
            wait = delay * random.uniform(0.75, 1.25)
            context.log.warning(f"{source.id}: attempt {attempt} of {len(RETRY_DELAYS) + 1} "
                                f"failed ({type(exc).__name__}: {exc}); trying again in "
                                f"{wait:.0f} s")
            time.sleep(wait)


def raw_asset(source: Source) -> dg.AssetsDefinition:
    rule = cadence.release(source)

    @dg.asset(
        key=raw_key(source.id),
        group_name="sources",
        owners=OWNERS,
        kinds={"python", *sorted({f.format for f in source.files})},
        description=f"{source.title} — {source.publisher}. Raw files, sha256-verified "
        "(snapshot mode) or downloaded (live mode). Data version: the files' sha256.",
        metadata={**source_metadata(source), "files": [f.name for f in source.files],
                  "cadence": rule["cadence"], "grace_days": rule["grace_days"],
                  "checked_on": cadence.check_cron(source)},
        code_version=code_version(*ACQUIRE, source_yaml(source.id)),
        automation_condition=source_check(cadence.check_cron(source)),
    )
    def _raw(context: dg.AssetExecutionContext, paccto: PacctoConfig) -> dg.MaterializeResult:
        raw_files = _acquire(context, source, paccto)
        rows = [{"file": f.path.name, "url": f.url, "sha256": f.sha256, "bytes": f.bytes,
                 "retrieved": f.retrieved, "matches_snapshot": f.matches_snapshot,
                 "not_modified": f.not_modified} for f in raw_files]
        for f in raw_files:
            if f.mode == "live" and not f.matches_snapshot:
                context.log.info(f"{source.id}/{f.file_id}: upstream differs from the bundled "
                                 f"snapshot (sha256 {f.sha256}); `make refresh` shows how")
        return dg.MaterializeResult(
            data_version=raw_data_version({f.file_id: f.sha256 for f in raw_files}),
            metadata={
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


def freshness_check(source: Source) -> dg.AssetChecksDefinition:
    """Warns when the source's newest vintage is older than its cadence plus grace allows,
    whenever its files were read."""
    rule = cadence.release(source)

    @dg.asset_check(
        asset=raw_key(source.id),
        name="vintage_freshness",
        blocking=False,
        description=f"Warns when vintage {source.vintage} is older than the publisher's "
        f"{rule['cadence']} cadence plus {rule['grace_days']} days of grace "
        "(assets/sources/*.yaml `release:`): freshness from the data's vintage, not from when "
        "the files were read.",
        automation_condition=daily_check(),
    )
    def _freshness() -> dg.AssetCheckResult:
        state = cadence.freshness(source, datetime.now(UTC).date())
        return dg.AssetCheckResult(
            passed=not state.stale,
            severity=dg.AssetCheckSeverity.WARN,
            description=state.summary(),
            metadata={"vintage": source.vintage, "cadence": state.cadence,
                      "grace_days": int(rule["grace_days"]),
                      "next_vintage_due_by": state.due.isoformat(),
                      "days_overdue": state.days_overdue},
        )

    return _freshness

"""The `upstream_changes` sensor: asks each source cheaply whether its files changed, and
requests a run of that source's lineage (its raw asset and everything downstream of it, up to
the warehouse release; the packages follow their own schedule) only when one did.

- live mode: one HEAD per distinct URL through the platform's HTTP client, conditional on the
  validators last seen (ETag, Last-Modified); a 304, or the same ETag / Last-Modified /
  Content-Length, means unchanged. The first time a URL is seen, the validators recorded in
  the download manifest (`<raw_dir>/<id>/manifest.json`) are the baseline; a source never
  downloaded counts as changed.
- snapshot mode: the sha256 of the bundled files against the data version of the raw asset's
  latest materialisation (the same observation `make run` makes).

The cursor (validators per URL, and the snapshot versions already requested) is kept by the
Dagster instance, so it survives restarts. A source that cannot be reached is logged in the
tick's log and asked again at the next tick; the sensor itself never fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

import dagster as dg
import requests

from paccto_data.acquire import fetch, records
from paccto_data.acquire.records import Source
from paccto_data.defs.versions import raw_data_version
from paccto_data.fileio import sha256_of
from paccto_data.http import HttpClient
from paccto_data.settings import Settings

SENSOR_NAME = "upstream_changes"
VALIDATORS = ("etag", "last_modified", "length")


class UpstreamError(Exception):
    """The upstream could not say whether its file changed."""


def raw_key(source_id: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source_id])


def lineage(assets: Iterable[dg.AssetsDefinition], root: dg.AssetKey,
            exclude_groups: Sequence[str] = ("publication",)) -> list[dg.AssetKey]:
    """`root` and every asset downstream of it, except those in `exclude_groups`."""
    children: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    groups: dict[dg.AssetKey, str] = {}
    for asset in assets:
        for spec in asset.specs:
            groups[spec.key] = spec.group_name
            for dep in spec.deps:
                children.setdefault(dep.asset_key, set()).add(spec.key)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return sorted((k for k in found if groups.get(k) not in exclude_groups),
                  key=lambda k: k.to_user_string())


def snapshot_version(source: Source) -> dg.DataVersion | None:
    """The data version the raw asset would record from the bundled files now, or None when
    a file is missing (the raw asset then fails and says which)."""
    shas = {}
    for spec in source.files:
        path = source.snapshot_dir / spec.name
        if not path.is_file():
            return None
        shas[spec.id] = sha256_of(path)
    return raw_data_version(shas)


def recorded_version(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    from dagster._core.definitions.data_version import extract_data_version_from_entry

    record = instance.get_latest_data_version_record(key)
    version = extract_data_version_from_entry(record.event_log_entry) if record else None
    return version.value if version else None


def probe(client: HttpClient, url: str, known: Mapping | None) -> dict:
    """The validators of `url` now, by a HEAD conditional on `known` (a 304 keeps them)."""
    headers = {}
    if known and known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known and known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    response = client.session.head(url, headers=headers, timeout=client.timeout,
                                   allow_redirects=True)
    with response:
        if response.status_code == 304 and known:
            return dict(known)
        if response.status_code in (405, 501):  # HEAD refused: headers of a GET, body unread
            response = client.session.get(url, headers=headers, timeout=client.timeout,
                                          stream=True)
            response.close()
            if response.status_code == 304 and known:
                return dict(known)
        if response.status_code != 200:
            raise UpstreamError(f"HTTP {response.status_code} {response.reason} from {url}")
        return {"etag": response.headers.get("ETag"),
                "last_modified": response.headers.get("Last-Modified"),
                "length": response.headers.get("Content-Length")
                if "Content-Encoding" not in response.headers else None}


def changed(known: Mapping | None, now: Mapping) -> bool:
    """Whether validators differ; unknown (never downloaded) counts as changed, and a
    server that sends no validators at all as unchanged (the cadence's cron fetches it)."""
    if not known:
        return True
    comparable = [k for k in VALIDATORS if known.get(k) and now.get(k)]
    return any(known[k] != now[k] for k in comparable)


def manifest_validators(settings: Settings, source: Source) -> dict[str, dict]:
    """By URL, the validators recorded at the last download of `source`."""
    path = settings.raw_dir / source.id / fetch.MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    found = {}
    for entry in manifest.values() if isinstance(manifest, dict) else []:
        if isinstance(entry, dict) and entry.get("url"):
            found[entry["url"]] = {"etag": entry.get("etag"),
                                   "last_modified": entry.get("last_modified"), "length": None}
    return found


def upstream_sensor(settings: Settings, sources: Sequence[Source] | None = None,
                    lineages: Mapping[str, Sequence[dg.AssetKey]] | None = None,
                    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
                    client: HttpClient | None = None,
                    minimum_interval_seconds: int = 6 * 3600) -> dg.SensorDefinition:
    chosen = list(sources) if sources is not None else list(records.sources().values())
    lineages = dict(lineages or {})

    @dg.sensor(
        name=SENSOR_NAME,
        target=dg.AssetSelection.all(),
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description="Asks each source whether its files changed (live: a conditional HEAD, "
        "ETag / Last-Modified / Content-Length; snapshot: the bundled files' sha256) and runs "
        "that source's lineage, up to the warehouse release, only when one did.",
    )
    def upstream_changes(context: dg.SensorEvaluationContext):
        try:
            cursor = json.loads(context.cursor) if context.cursor else {}
        except ValueError:
            cursor = {}
        cursor.setdefault("live", {})
        cursor.setdefault("snapshot", {})
        requests_, unreachable = [], []
        http = client or HttpClient(connect_timeout=5.0, read_timeout=15.0, attempts=1)
        for source in chosen:
            try:
                if settings.source_mode == "live":
                    reason = _live_change(http, settings, source, cursor["live"])
                else:
                    reason = _snapshot_change(context.instance, source, cursor["snapshot"])
            except (requests.RequestException, OSError, UpstreamError) as exc:
                unreachable.append(source.id)
                context.log.error(f"{source.id}: could not ask upstream ({type(exc).__name__}: "
                                  f"{exc}); asked again at the next tick")
                continue
            except Exception as exc:  # never stop the daemon over one source
                unreachable.append(source.id)
                context.log.error(f"{source.id}: check failed ({type(exc).__name__}: {exc}); "
                                  "asked again at the next tick")
                continue
            if reason is None:
                continue
            selection = list(lineages.get(source.id) or [raw_key(source.id)])
            context.log.info(f"{source.id}: {reason}; requesting its lineage "
                             f"({len(selection)} assets)")
            run_key = f"{source.id}:" + hashlib.sha256(reason.encode()).hexdigest()[:16]
            requests_.append(dg.RunRequest(
                run_key=run_key, asset_selection=selection,
                tags={"paccto/trigger": f"{SENSOR_NAME}:{source.id}"}))
        new_cursor = json.dumps(cursor, sort_keys=True)
        if requests_:
            return dg.SensorResult(run_requests=requests_, cursor=new_cursor)
        skip = "no source changed"
        if unreachable:
            skip += f"; could not ask {', '.join(unreachable)} (see the tick log)"
        return dg.SensorResult(skip_reason=skip, cursor=new_cursor)

    return upstream_changes


def _live_change(client: HttpClient, settings: Settings, source: Source,
                 cursor: dict) -> str | None:
    """Probe every distinct URL of `source`; update `cursor` only when all answered."""
    known = {**manifest_validators(settings, source), **cursor.get(source.id, {})}
    seen, reasons = {}, []
    for url in dict.fromkeys(fetch.file_url(source, spec) for spec in source.files):
        now = probe(client, url, known.get(url))
        if changed(known.get(url), now):
            reasons.append(f"{url} changed" if known.get(url) else f"{url} never downloaded")
            reasons[-1] += " (" + ", ".join(f"{k} {now[k]}" for k in VALIDATORS if now.get(k)) \
                + ")"
        seen[url] = now
    cursor[source.id] = seen
    return "; ".join(reasons) or None


def _snapshot_change(instance: dg.DagsterInstance, source: Source, cursor: dict) -> str | None:
    observed = snapshot_version(source)
    if observed is None:
        return None  # a missing snapshot is reported by the raw asset, not here
    recorded = recorded_version(instance, raw_key(source.id))
    if observed.value == recorded or cursor.get(source.id) == observed.value:
        return None
    cursor[source.id] = observed.value
    return f"bundled files have data version {observed.value[:12]} (recorded " \
        f"{(recorded or 'none')[:12]})"

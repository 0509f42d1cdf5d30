"""Getting a source's raw files, the one way every source does it.

snapshot mode (default): the bundled copy under `assets/snapshots/<id>/` is checked against
the sha256 in its YAML; a changed or missing file fails naming the file.
live mode: each file is downloaded through the one `HttpClient` into `<raw_dir>/<id>/`
(never over the snapshots), its kind checked, and a manifest records url, sha256, bytes,
retrieval time and the validators used for the next conditional request.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from paccto_data.catalogue import Source, SourceFile
from paccto_data.errors import PacctoError, SourceFileError
from paccto_data.http import Download, HttpClient, sha256_of
from paccto_data.settings import Settings, url_override

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class RawFile:
    """A raw file ready to read, with where it came from."""

    file_id: str
    path: Path
    url: str
    sha256: str
    bytes: int
    retrieved: str  # when the bytes were fetched (snapshot: the YAML's `retrieved`)
    mode: str
    matches_snapshot: bool  # sha256 equals the one recorded in the catalogue
    not_modified: bool = False


def file_url(source: Source, spec: SourceFile) -> str:
    return url_override(source.id, spec.id, single_file=len(source.files) == 1) or spec.url


def verify_snapshot(source: Source, spec: SourceFile) -> RawFile:
    path = source.snapshot_dir / spec.name
    if not path.is_file():
        raise SourceFileError(f"{path}: bundled snapshot of {source.id}/{spec.id} is missing")
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise SourceFileError(
            f"{path}: sha256 {digest} differs from {spec.sha256} recorded in "
            f"assets/sources/{source.id}.yaml; a snapshot is never edited: restore it, or "
            f"promote a new upstream file with `make refresh SOURCE={source.id}`"
        )
    return RawFile(spec.id, path, spec.url, digest, path.stat().st_size, source.retrieved,
                   "snapshot", True)


def check_content(path: Path, fmt: str, url: str) -> None:
    """Fail when a download is not the kind of file the catalogue promises."""
    head = path.read_bytes()[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise SourceFileError(f"{url} returned an HTML page, not {fmt} (saved as {path})")
    if fmt in ("xlsx", "zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                broken = archive.testzip()
                names = archive.namelist()
        except zipfile.BadZipFile as exc:
            raise SourceFileError(f"{url}: not a complete {fmt} file ({exc})") from exc
        if broken:
            raise SourceFileError(f"{url}: member {broken} of the {fmt} is corrupt")
        if fmt == "xlsx" and "[Content_Types].xml" not in names:
            raise SourceFileError(f"{url}: a ZIP, but not an Excel workbook")
    elif fmt == "json":
        try:
            payload = json.loads(path.read_bytes())
        except ValueError as exc:
            raise SourceFileError(f"{url}: not valid JSON ({exc})") from exc
        # The World Bank API reports errors with HTTP 200 and a one-element "message" array.
        if isinstance(payload, list) and payload and isinstance(payload[0], dict) \
                and "message" in payload[0]:
            raise SourceFileError(f"{url}: the API answered with an error: {payload[0]['message']}")
    elif fmt == "csv":
        from paccto_data.sources._common import decode_text

        try:
            decode_text(path)
        except PacctoError as exc:
            raise SourceFileError(f"{url}: {exc}") from exc


def _manifest_path(settings: Settings, source: Source) -> Path:
    return settings.raw_dir / source.id / MANIFEST


def _read_manifest(settings: Settings, source: Source) -> dict:
    path = _manifest_path(settings, source)
    return json.loads(path.read_text()) if path.exists() else {}


def _extract_member(archive_path: Path, pattern: str, target: Path, url: str) -> None:
    """Copy the one member matching `pattern` out of a ZIP to `target`; the member's own
    path is never used as a destination, so nothing can land outside the source folder."""
    with zipfile.ZipFile(archive_path) as archive:
        matches = [n for n in archive.namelist()
                   if not n.endswith("/") and fnmatch.fnmatch(PurePosixPath(n).name, pattern)]
        if len(matches) != 1:
            raise SourceFileError(
                f"{url}: expected exactly one ZIP member matching {pattern!r}, found "
                f"{matches or 'none'} among {archive.namelist()}"
            )
        partial = target.with_name(f".{target.name}.part")
        with archive.open(matches[0]) as member, open(partial, "wb") as out:
            shutil.copyfileobj(member, out)
    os.replace(partial, target)


def download_live(
    source: Source, spec: SourceFile, settings: Settings, client: HttpClient
) -> tuple[RawFile, Download]:
    folder = settings.raw_dir / source.id
    url = file_url(source, spec)
    target = folder / spec.name
    # A ZIP download is kept whole (named after its URL, so several members share it).
    fetched = folder / f"{hashlib.sha1(url.encode()).hexdigest()[:12]}.zip" if spec.member \
        else target
    previous = _read_manifest(settings, source).get(spec.id, {})
    same_url = previous.get("url") == url
    result = client.download(
        url, fetched,
        etag=previous.get("etag") if same_url else None,
        last_modified=previous.get("last_modified") if same_url else None,
    )
    if spec.member:
        check_content(fetched, "zip", url)
        _extract_member(fetched, spec.member, target, url)
    check_content(target, spec.format, url)
    digest = sha256_of(target)
    raw = RawFile(spec.id, target, url, digest, target.stat().st_size, result.retrieved_at,
                  "live", digest == spec.sha256, result.not_modified)
    return raw, result


def acquire(source: Source, settings: Settings, client: HttpClient | None = None) -> list[RawFile]:
    """Verify (snapshot) or download (live) every file of `source`."""
    if settings.source_mode == "snapshot":
        return [verify_snapshot(source, spec) for spec in source.files]
    client = client or HttpClient()
    manifest = _read_manifest(settings, source)
    raw_files = []
    for spec in source.files:
        raw, result = download_live(source, spec, settings, client)
        raw_files.append(raw)
        manifest[spec.id] = {**asdict(raw), "path": raw.path.name,
                             "etag": result.etag, "last_modified": result.last_modified}
    path = _manifest_path(settings, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return raw_files


def local_files(source: Source, settings: Settings) -> dict[str, Path]:
    """The verified files a staging step reads, by file id.

    snapshot: the bundled copies, re-verified. live: the last download, re-checked against
    the sha256 its manifest recorded (so a file touched after download is caught).
    """
    if settings.source_mode == "snapshot":
        return {spec.id: verify_snapshot(source, spec).path for spec in source.files}
    manifest = _read_manifest(settings, source)
    files = {}
    for spec in source.files:
        entry = manifest.get(spec.id)
        path = settings.raw_dir / source.id / spec.name
        if not entry or not path.exists():
            raise SourceFileError(
                f"{path}: no live download of {source.id}/{spec.id}; materialise raw/{source.id}"
            )
        if sha256_of(path) != entry["sha256"]:
            raise SourceFileError(f"{path}: changed since it was downloaded ({entry['retrieved']})")
        files[spec.id] = path
    return files

"""Getting a source's raw files, the one way every source does it.

snapshot mode (default): the bundled copy under `assets/snapshots/<id>/` is checked against
the sha256 in its YAML; a changed or missing file fails naming the file.
live mode: each file is downloaded through the one `HttpClient` into `<raw_dir>/<id>/`
(never over the snapshots), its kind checked before it replaces the last good download, and
a manifest records url, sha256, bytes, retrieval time and the validators used for the next
conditional request. Each distinct URL is fetched once per `acquire` (a ZIP whose members
are several catalogue files is downloaded once and kept whole beside them), and a
conditional request is only made while the kept file is still the one recorded.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from paccto_data.acquire.records import Source, SourceFile
from paccto_data.errors import PacctoError, SourceFileError
from paccto_data.fileio import sha256_of
from paccto_data.http import Download, HttpClient
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


def _head(path: Path, size: int = 1024) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def check_content(path: Path, fmt: str, url: str) -> None:
    """Fail when a download is not the kind of file the catalogue promises."""
    head = _head(path).removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
            head.startswith(b"<?xml") and b"<html" in head):
        raise SourceFileError(f"{url} returned an HTML page, not {fmt}")
    if fmt in ("xlsx", "zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                broken = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
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


def _read_manifest(settings: Settings, source: Source, strict: bool = False) -> dict:
    path = _manifest_path(settings, source)
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
        return manifest
    except ValueError as exc:
        if strict:
            raise SourceFileError(f"{path}: unreadable download manifest ({exc}); "
                                  f"materialise raw/{source.id} again") from exc
        return {}  # downloading again without conditional requests repairs it


def _write_manifest(settings: Settings, source: Source, manifest: dict) -> None:
    path = _manifest_path(settings, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(partial, path)


def _matching_member(archive: zipfile.ZipFile, pattern: str, url: str) -> str:
    """The one member whose file name matches `pattern` (its folders are ignored)."""
    names = archive.namelist()
    matches = [n for n in names
               if not n.endswith("/") and fnmatch.fnmatchcase(PurePosixPath(n).name, pattern)]
    if len(matches) != 1:
        raise SourceFileError(
            f"{url}: expected exactly one ZIP member matching {pattern!r}, found "
            f"{matches or 'none'} among {names}"
        )
    return matches[0]


def _check_archive(path: Path, patterns: list[str], url: str) -> None:
    """A complete ZIP holding exactly one member for each pattern."""
    check_content(path, "zip", url)
    with zipfile.ZipFile(path) as archive:
        for pattern in patterns:
            _matching_member(archive, pattern, url)


def _extract_member(archive_path: Path, spec: SourceFile, target: Path, url: str) -> None:
    """Copy the one member matching `spec.member` out of a ZIP to `target`, check it is a
    `spec.format` file, then rename it into place. The member's own path is never used as a
    destination, so a name like `../../x.csv` cannot land outside the source folder."""
    partial = target.with_name(f".{target.name}.part")
    try:
        with zipfile.ZipFile(archive_path) as archive:
            name = _matching_member(archive, spec.member, url)
            with archive.open(name) as member, open(partial, "wb") as out:
                shutil.copyfileobj(member, out)
        check_content(partial, spec.format, f"{url} (member {name})")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def _fetched_path(folder: Path, spec: SourceFile, url: str) -> Path:
    """Where the download itself is kept: the file, or for a ZIP the whole archive, named
    after its URL so that every member taken from one URL shares one download."""
    if spec.member:
        return folder / f"{hashlib.sha1(url.encode()).hexdigest()[:12]}.zip"
    return folder / spec.name


def _fetch(source: Source, specs: list[SourceFile], url: str, fetched: Path,
           manifest: dict, client: HttpClient) -> Download:
    """Download `url` once for every spec in `specs` (one file, or the members of a ZIP).

    A conditional request is made only when the file kept from the last download is still
    the one the manifest recorded, so a 304 never blesses a file changed on disk."""
    previous = next((manifest[s.id] for s in specs if s.id in manifest
                     and manifest[s.id].get("url") == url), {})
    recorded = previous.get("fetched_sha256") or (previous.get("sha256") if not specs[0].member
                                                   else None)
    conditional = bool(recorded) and fetched.is_file() and sha256_of(fetched) == recorded
    if specs[0].member:
        def validate(path: Path) -> None:
            _check_archive(path, [s.member for s in specs], url)
    else:
        def validate(path: Path) -> None:
            check_content(path, specs[0].format, url)
    return client.download(
        url, fetched,
        etag=previous.get("etag") if conditional else None,
        last_modified=previous.get("last_modified") if conditional else None,
        validate=validate,
    )


def download_live(
    source: Source, spec: SourceFile, settings: Settings, client: HttpClient,
    fetched_by_url: dict[tuple[str, Path], Download] | None = None,
) -> tuple[RawFile, Download]:
    """Download (or reuse, from `fetched_by_url`, what this acquire already fetched) one
    file of `source` into `<raw_dir>/<id>/`."""
    folder = settings.raw_dir / source.id
    url = file_url(source, spec)
    target = folder / spec.name
    fetched = _fetched_path(folder, spec, url)
    fetched_by_url = {} if fetched_by_url is None else fetched_by_url
    result = fetched_by_url.get((url, fetched))
    if result is None:
        sharing = [s for s in source.files if s.member and file_url(source, s) == url] \
            if spec.member else [spec]
        result = _fetch(source, sharing, url, fetched, _read_manifest(settings, source), client)
        fetched_by_url[(url, fetched)] = result
    if spec.member:
        _extract_member(result.path, spec, target, url)
    digest = sha256_of(target)
    retrieved = result.retrieved_at
    if result.not_modified:  # the bytes are those of the last 200: keep when that was
        retrieved = _read_manifest(settings, source).get(spec.id, {}).get("retrieved", retrieved)
    raw = RawFile(spec.id, target, url, digest, target.stat().st_size, retrieved,
                  "live", digest == spec.sha256, result.not_modified)
    return raw, result


def acquire(source: Source, settings: Settings, client: HttpClient | None = None) -> list[RawFile]:
    """Verify (snapshot) or download (live) every file of `source`.

    live: each distinct URL is downloaded once per call (the three CSVs of a World Bank bulk
    ZIP come from one download); the manifest is updated after every file, so it always
    describes what is on disk."""
    if settings.source_mode == "snapshot":
        return [verify_snapshot(source, spec) for spec in source.files]
    client = client or HttpClient()
    manifest = _read_manifest(settings, source)
    fetched_by_url: dict[tuple[str, Path], Download] = {}
    raw_files = []
    for spec in source.files:
        raw, result = download_live(source, spec, settings, client, fetched_by_url)
        raw_files.append(raw)
        manifest[spec.id] = {**asdict(raw), "path": raw.path.name,
                             "fetched": result.path.name, "fetched_sha256": result.sha256,
                             "checked": result.retrieved_at,
                             "etag": result.etag, "last_modified": result.last_modified}
        _write_manifest(settings, source, manifest)
    return raw_files


def local_files(source: Source, settings: Settings) -> dict[str, Path]:
    """The verified files a staging step reads, by file id.

    snapshot: the bundled copies, re-verified. live: the last download, re-checked against
    the sha256 its manifest recorded (so a file touched after download is caught).
    """
    if settings.source_mode == "snapshot":
        return {spec.id: verify_snapshot(source, spec).path for spec in source.files}
    manifest = _read_manifest(settings, source, strict=True)
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

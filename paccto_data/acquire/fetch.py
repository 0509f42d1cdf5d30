"""Getting a source's raw files, the one way every source does it.

snapshot mode (default): the bundled copy under `assets/snapshots/<id>/` is checked against
the sha256 in its YAML; a changed or missing file fails naming the file.
live mode: each file is downloaded through the one `HttpClient` into `<raw_dir>/<id>/`
(never over the snapshots), its kind checked before it replaces the last good download, and
a manifest records url, sha256, bytes, retrieval time and the validators used for the next
conditional request. Every download and every ZIP member stays within the file's limits
(paccto_data/limits.py, overridden in the YAML), and its content and Content-Type are checked
(paccto_data/acquire/content.py) before it replaces the last good file. Each distinct URL is fetched once per `acquire` (a ZIP whose members
are several catalogue files is downloaded once and kept whole beside them), and a
conditional request is only made while the kept file is still the one recorded.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path, PurePosixPath

from paccto_data.acquire import content
from paccto_data.acquire.records import Source, SourceFile
from paccto_data.errors import SourceFileError
from paccto_data.fileio import sha256_of
from paccto_data.http import Download, HttpClient
from paccto_data.limits import DEFAULT, LimitExceeded, Limits
from paccto_data.lock import leftovers, owned
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
    url = url_override(source.id, spec.id, single_file=len(source.files) == 1) or spec.url
    if not url.lower().startswith(("http://", "https://")):
        raise SourceFileError(f"{source.id}/{spec.id}: the URL {url!r} is not http(s); "
                              "only http and https downloads are made")
    return url


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


def check_content(path: Path, fmt: str, url: str, limits: Limits = DEFAULT) -> None:
    """Fail when a download is not the kind of file the catalogue promises, or goes past
    its limits (see paccto_data/acquire/content.py)."""
    content.check_content(path, fmt, url, limits)


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
    for leftover in leftovers(path, "part"):
        leftover.unlink(missing_ok=True)
    partial = owned(path, "part", hidden=True)
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


def _check_archive(path: Path, patterns: list[str], url: str, limits: Limits) -> None:
    """A complete ZIP within `limits` holding exactly one member for each pattern."""
    check_content(path, "zip", url, limits)
    with zipfile.ZipFile(path) as archive:
        for pattern in patterns:
            _matching_member(archive, pattern, url)


def _extract_member(archive_path: Path, spec: SourceFile, target: Path, url: str,
                    limits: Limits) -> None:
    """Copy the one member matching `spec.member` out of a ZIP to `target`, within
    `limits`, check it is a `spec.format` file, then rename it into place. The member's own
    path is never used as a destination, so a name like `../../x.csv` cannot land outside
    the source folder."""
    for leftover in leftovers(target, "part"):
        leftover.unlink(missing_ok=True)
    partial = owned(target, "part", hidden=True)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            name = _matching_member(archive, spec.member, url)
            info = archive.getinfo(name)
            label = f"{url} (member {name})"
            content.check_members(_Only(info), limits, url)
            written = 0
            with archive.open(info) as member, open(partial, "wb") as out:
                for block in iter(lambda: member.read(1 << 20), b""):
                    written += len(block)
                    if written > limits.decompressed_bytes:
                        raise LimitExceeded(label, "decompressed_bytes",
                                            limits.decompressed_bytes,
                                            f"it inflated past {written:,} bytes")
                    if limits.ratio_exceeded(written, info.compress_size):
                        raise LimitExceeded(label, "compression_ratio",
                                            limits.compression_ratio,
                                            f"it inflated {info.compress_size:,} bytes to "
                                            f"{written:,}")
                    out.write(block)
        check_content(partial, spec.format, label, limits)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        partial.unlink(missing_ok=True)
        raise SourceFileError(f"{url}: member {spec.member!r} is corrupt ({exc})") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


class _Only:
    """One member of an archive, shaped like the archive for `content.check_members`."""

    def __init__(self, info: zipfile.ZipInfo):
        self.info = info

    def infolist(self) -> list[zipfile.ZipInfo]:
        return [self.info]


def archive_limits(source: Source, specs: list[SourceFile]) -> Limits:
    """The limits of a download shared by several files (the members of one ZIP): for each
    key the largest of theirs, since the archive holds all of them; each member is then
    held to its own limits when it is extracted."""
    each = [source.limits_for(s) for s in specs]
    return Limits(**{f.name: max(getattr(x, f.name) for x in each) for f in fields(Limits)})


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
    limits = archive_limits(source, specs)
    fmt = "zip" if specs[0].member else specs[0].format
    if specs[0].member:
        def validate(path: Path) -> None:
            _check_archive(path, [s.member for s in specs], url, limits)
    else:
        def validate(path: Path) -> None:
            check_content(path, fmt, url, limits)
    return client.download(
        url, fetched,
        etag=previous.get("etag") if conditional else None,
        last_modified=previous.get("last_modified") if conditional else None,
        validate=validate,
        check_type=lambda content_type: content.check_content_type(content_type, fmt, url),
        limits=limits,
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
        _extract_member(result.path, spec, target, url, source.limits_for(spec))
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

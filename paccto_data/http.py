"""The one HTTP client: every download in the platform goes through `HttpClient.download`.

Timeouts on connect and read; retries with exponential backoff on 5xx, connection errors,
timeouts and truncated bodies; no retry on 4xx; the body streams into a temporary file beside
the target and is renamed into place only once complete, so a failed download never leaves a
half-written file. Conditional requests (ETag / Last-Modified) skip unchanged upstreams.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from paccto_data.errors import SourceFileError

USER_AGENT = "paccto-data (+https://github.com/el-paccto/paccto-data)"
CHUNK = 1 << 16


class RetryableDownloadError(SourceFileError):
    """A failure worth another try (5xx, connection reset, timeout, short body)."""


@dataclass(frozen=True)
class Download:
    url: str
    path: Path
    sha256: str
    bytes: int
    retrieved_at: str  # ISO 8601, UTC
    status: int  # 200, or 304 when the upstream was unchanged
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class HttpClient:
    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        attempts: int = 4,
        backoff: float = 1.0,
        session: requests.Session | None = None,
    ):
        self.timeout = (connect_timeout, read_timeout)
        self.attempts = attempts
        self.backoff = backoff
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)

    def download(
        self,
        url: str,
        target: Path,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Download:
        """Fetch `url` into `target` atomically. With `etag`/`last_modified` from an earlier
        download and `target` present, a 304 keeps the file and returns status 304."""
        headers = {}
        if target.exists():
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        last_error: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._fetch_once(url, target, headers)
            except RetryableDownloadError as exc:
                last_error = exc
                if attempt < self.attempts:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
        raise SourceFileError(
            f"download of {url} failed after {self.attempts} attempts: {last_error}"
        ) from last_error

    def _fetch_once(self, url: str, target: Path, headers: dict) -> Download:
        try:
            response = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableDownloadError(f"{type(exc).__name__}: {exc}") from exc
        with response:
            retrieved_at = datetime.now(UTC).replace(microsecond=0).isoformat()
            if response.status_code == 304 and target.exists():
                return Download(
                    url, target, sha256_of(target), target.stat().st_size, retrieved_at, 304,
                    etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                    last_modified=response.headers.get("Last-Modified")
                    or headers.get("If-Modified-Since"),
                    content_type=response.headers.get("Content-Type"),
                )
            if response.status_code >= 500:
                raise RetryableDownloadError(f"HTTP {response.status_code} from {url}")
            if response.status_code != 200:
                raise SourceFileError(
                    f"HTTP {response.status_code} {response.reason} from {url} (not retried)"
                )
            return self._stream_to(response, url, target, retrieved_at)

    def _stream_to(self, response, url: str, target: Path, retrieved_at: str) -> Download:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(partial, "wb") as fh:
                for block in response.iter_content(CHUNK):
                    fh.write(block)
                    digest.update(block)
                    size += len(block)
                fh.flush()
                os.fsync(fh.fileno())
            expected = response.headers.get("Content-Length")
            if expected is not None and "Content-Encoding" not in response.headers:
                if size != int(expected):
                    raise RetryableDownloadError(
                        f"truncated body from {url}: {size} of {expected} bytes"
                    )
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            partial.unlink(missing_ok=True)
            raise RetryableDownloadError(
                f"body of {url} broke off after {size} bytes: {type(exc).__name__}"
            ) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
        return Download(
            url, target, digest.hexdigest(), size, retrieved_at, 200,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
        )

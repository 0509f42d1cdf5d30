"""The one HTTP client: every download in the platform goes through `HttpClient.download`.

Timeouts on connect and read; retries with exponential backoff on 5xx, 408/429 (honouring a
short Retry-After), connection errors, timeouts and truncated bodies; no retry on other 4xx;
the body streams into a temporary file beside the target and is renamed into place only once
complete (and, given a `validate` function, only once that accepts it), so a failed download
never leaves a half-written file nor replaces a good one. Conditional requests (ETag /
Last-Modified) skip unchanged upstreams.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import urllib3.exceptions

from paccto_data.errors import SourceFileError
from paccto_data.fileio import sha256_of

USER_AGENT = "paccto-data (+https://github.com/el-paccto/paccto-data)"
CHUNK = 1 << 16
RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is capped, not obeyed


class RetryableDownloadError(SourceFileError):
    """A failure worth another try (5xx, connection reset, timeout, short body)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Inflater:
    """Decodes a gzip or deflate Content-Encoding and, unlike urllib3's decoder, notices a
    compressed body that was cut short (its end-of-stream marker never arrives)."""

    def __init__(self, encoding: str):
        self.gzip = encoding in ("gzip", "x-gzip")
        self.wbits = 16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS
        self.obj = zlib.decompressobj(self.wbits)
        self.started = False

    def decompress(self, data: bytes) -> bytes:
        out = []
        if not self.started and data and not self.gzip:
            self.started = True
            try:  # "deflate" is meant to be zlib-wrapped; some servers send it raw
                return self.obj.decompress(data)
            except zlib.error:
                self.wbits = -zlib.MAX_WBITS
                self.obj = zlib.decompressobj(self.wbits)
        while data:
            if self.obj.eof:
                if not (self.gzip and data.startswith(b"\x1f\x8b")):
                    break  # trailing bytes after the stream, as browsers tolerate
                self.obj = zlib.decompressobj(self.wbits)  # the next gzip member
            out.append(self.obj.decompress(data))
            data = self.obj.unused_data if self.obj.eof else b""
        return b"".join(out)

    def finish(self) -> bytes:
        tail = self.obj.flush()
        if not self.obj.eof:
            raise zlib.error("the compressed body ended before its end-of-stream marker")
        return tail


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (an HTTP date is ignored)."""
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


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
        if session is None:
            session = requests.Session()
            # A new Session already carries "python-requests/x.y", so setdefault would
            # never apply: name ourselves explicitly (a caller's own session is left alone).
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept-Encoding"] = "gzip, deflate"  # what _Inflater decodes
        self.session = session

    def download(
        self,
        url: str,
        target: Path,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        validate: Callable[[Path], None] | None = None,
    ) -> Download:
        """Fetch `url` into `target` atomically. With `etag`/`last_modified` from an earlier
        download and `target` present, a 304 keeps the file and returns status 304.

        `validate(path)` is called on the complete body before it replaces `target`; if it
        raises, `target` stays as it was, the rejected body is kept beside it as
        `<target>.rejected` for inspection, and the error is raised (not retried)."""
        headers = {}
        if target.exists():
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        last_error: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._fetch_once(url, target, headers, validate)
            except RetryableDownloadError as exc:
                last_error = exc
                if attempt < self.attempts:
                    pause = self.backoff * 2 ** (attempt - 1)
                    if exc.retry_after is not None:
                        pause = max(pause, exc.retry_after)
                    time.sleep(pause)
        raise SourceFileError(
            f"download of {url} failed after {self.attempts} attempts: {last_error}"
        ) from last_error

    def _fetch_once(self, url: str, target: Path, headers: dict,
                    validate: Callable[[Path], None] | None) -> Download:
        try:
            response = self.session.get(url, headers=headers, stream=True, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise RetryableDownloadError(f"{type(exc).__name__}: {exc}") from exc
        except requests.RequestException as exc:
            # A malformed URL (e.g. a PACCTO_URL_* override without a scheme), too many
            # redirects, ...: no point trying again, but say which URL.
            raise SourceFileError(
                f"download of {url} failed: {type(exc).__name__}: {exc} (not retried)"
            ) from exc
        with response:
            retrieved_at = datetime.now(UTC).replace(microsecond=0).isoformat()
            # 304 only answers a conditional request; one we did not make is an error below.
            if response.status_code == 304 and headers and target.exists():
                return Download(
                    url, target, sha256_of(target), target.stat().st_size, retrieved_at, 304,
                    etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                    last_modified=response.headers.get("Last-Modified")
                    or headers.get("If-Modified-Since"),
                    content_type=response.headers.get("Content-Type"),
                )
            if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
                raise RetryableDownloadError(
                    f"HTTP {response.status_code} {response.reason} from {url}",
                    retry_after=_retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code != 200:
                raise SourceFileError(
                    f"HTTP {response.status_code} {response.reason} from {url} (not retried)"
                )
            return self._stream_to(response, url, target, retrieved_at, validate)

    def _stream_to(self, response, url: str, target: Path, retrieved_at: str,
                   validate: Callable[[Path], None] | None) -> Download:
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise SourceFileError(f"{url}: unsupported Content-Encoding {encoding!r}")
        inflater = _Inflater(encoding) if encoding not in ("identity", "") else None
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        digest, size, received = hashlib.sha256(), 0, 0

        def write(fh, block: bytes) -> None:
            nonlocal size
            fh.write(block)
            digest.update(block)
            size += len(block)

        try:
            with open(partial, "wb") as fh:
                # The bytes as sent (chunked framing removed, Content-Encoding kept), so that
                # Content-Length can be checked and a cut compressed stream is noticed.
                for block in response.raw.stream(CHUNK, decode_content=False):
                    received += len(block)
                    write(fh, inflater.decompress(block) if inflater else block)
                if inflater:
                    write(fh, inflater.finish())
                fh.flush()
                os.fsync(fh.fileno())
            expected = response.headers.get("Content-Length")
            chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
            if expected is not None and not chunked and expected.isdigit() \
                    and received != int(expected):
                raise RetryableDownloadError(
                    f"truncated body from {url}: {received} of {expected} bytes"
                )
        except (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError,
                OSError, zlib.error) as exc:
            # urllib3's ProtocolError (IncompleteRead, a chunked body without its last
            # chunk), ReadTimeoutError (a stall mid-body), a reset socket, or a compressed
            # stream that is corrupt or cut short: all worth another try. An OSError from
            # writing the file (disk full) is not, and goes on as it is.
            partial.unlink(missing_ok=True)
            if isinstance(exc, OSError) and not isinstance(
                    exc, ConnectionError | TimeoutError | requests.RequestException):
                raise
            raise RetryableDownloadError(
                f"body of {url} broke off after {received} bytes: {type(exc).__name__}: {exc}"
            ) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        rejected = target.with_name(f"{target.name}.rejected")
        if validate is not None:
            try:
                validate(partial)
            except BaseException as exc:
                os.replace(partial, rejected)
                if isinstance(exc, SourceFileError):
                    raise SourceFileError(
                        f"{exc} (the response is kept as {rejected}; {target.name} is "
                        "unchanged)"
                    ) from exc
                raise
        os.replace(partial, target)
        rejected.unlink(missing_ok=True)
        return Download(
            url, target, digest.hexdigest(), size, retrieved_at, 200,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
        )

"""The one HTTP client: every download in the platform goes through `HttpClient.download`.

Timeouts on connect and read; retries with exponential backoff on 5xx, 408/429 (honouring a
short Retry-After), connection errors, timeouts and truncated bodies; no retry on other 4xx;
the body streams into a temporary file beside the target and is renamed into place only once
complete (and, given a `validate` function, only once that accepts it), so a failed download
never leaves a half-written file nor replaces a good one. Conditional requests (ETag /
Last-Modified) skip unchanged upstreams.

Every download is bounded (`paccto_data.limits.Limits`): the bytes received, the bytes a
Content-Encoding inflates to and its ratio, each checked block by block (a body never
inflates more than `PIECE` bytes at a time), and an overall deadline over every attempt and
pause. When the deadline passes, a watchdog shuts down the socket of the request in flight,
so a server that drips a byte at a time, each within the read timeout, cannot hold a run.
Each refusal is a `LimitExceeded` naming the file, the limit and what was seen; it is never
retried and leaves no partial file.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import requests.adapters
import urllib3.connectionpool
import urllib3.exceptions

from paccto_data.errors import SourceFileError
from paccto_data.fileio import sha256_of
from paccto_data.limits import DEFAULT, LimitExceeded, Limits
from paccto_data.lock import leftovers, owned

USER_AGENT = "paccto-data (+https://github.com/el-paccto/paccto-data)"
CHUNK = 1 << 16
RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx
MAX_RETRY_AFTER = 60.0  # seconds; a longer Retry-After is capped, not obeyed
PIECE = 1 << 18  # the most a compressed body inflates to in one step


class RetryableDownloadError(SourceFileError):
    """A failure worth another try (5xx, connection reset, timeout, short body)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Inflater:
    """Decodes a gzip or deflate Content-Encoding and, unlike urllib3's decoder, notices a
    compressed body that was cut short (its end-of-stream marker never arrives). Output comes
    in pieces of at most `PIECE` bytes, so the caller can stop a bomb before it is inflated."""

    def __init__(self, encoding: str):
        self.gzip = encoding in ("gzip", "x-gzip")
        self.wbits = 16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS
        self.obj = zlib.decompressobj(self.wbits)
        self.started = False

    def decompress(self, data: bytes) -> Iterator[bytes]:
        if not self.started and data and not self.gzip:
            self.started = True
            try:  # "deflate" is meant to be zlib-wrapped; some servers send it raw
                out = self.obj.decompress(data, PIECE)
            except zlib.error:
                self.wbits = -zlib.MAX_WBITS
                self.obj = zlib.decompressobj(self.wbits)
            else:
                if out:
                    yield out
                data = self.obj.unused_data if self.obj.eof else self.obj.unconsumed_tail
        while data:
            if self.obj.eof:
                if not (self.gzip and data.startswith(b"\x1f\x8b")):
                    break  # trailing bytes after the stream, as browsers tolerate
                self.obj = zlib.decompressobj(self.wbits)  # the next gzip member
            out = self.obj.decompress(data, PIECE)
            if out:
                yield out
            data = self.obj.unused_data if self.obj.eof else self.obj.unconsumed_tail

    def finish(self) -> bytes:
        tail = self.obj.flush()
        if not self.obj.eof:
            raise zlib.error("the compressed body ended before its end-of-stream marker")
        return tail


# --- the overall deadline -------------------------------------------------------------------

_active = threading.local()  # .deadline: the _Deadline of the download on this thread


class _Deadline:
    """The time one download may take, every attempt and pause included. The connections
    its requests use register here (`_WatchedPool`); when the time is up, their sockets are
    shut down, which ends any read blocked on them at once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.monotonic()
        self.expired = threading.Event()
        self._connections: list = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return max(self.seconds - self.elapsed(), 0.0)

    def watch(self, connection) -> None:
        with self._lock:
            self._connections.append(connection)
        if self.expired.is_set():
            self._expire()

    def _expire(self) -> None:
        self.expired.set()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cancel(self) -> None:
        self._timer.cancel()


class _Watched:
    def _get_conn(self, timeout=None):
        connection = super()._get_conn(timeout)
        deadline = getattr(_active, "deadline", None)
        if deadline is not None:
            deadline.watch(connection)
        return connection


class _WatchedHTTPPool(_Watched, urllib3.connectionpool.HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_Watched, urllib3.connectionpool.HTTPSConnectionPool):
    pass


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, whose connection pools register with the download's deadline."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:  # a SOCKS manager keeps its own pools
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


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
            # The deadline's watchdog (a caller's own session keeps only the checks between
            # blocks and read timeouts cut to the time left).
            session.mount("http://", _WatchedAdapter())
            session.mount("https://", _WatchedAdapter())
        self.session = session

    def download(
        self,
        url: str,
        target: Path,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        validate: Callable[[Path], None] | None = None,
        check_type: Callable[[str | None], None] | None = None,
        limits: Limits = DEFAULT,
    ) -> Download:
        """Fetch `url` into `target` atomically. With `etag`/`last_modified` from an earlier
        download and `target` present, a 304 keeps the file and returns status 304.

        `validate(path)` is called on the complete body, then `check_type(content_type)` on
        the response's Content-Type, before the body replaces `target`; if either raises,
        `target` stays as it was, the rejected body is kept beside it as `<target>.rejected`
        for inspection, and the error is raised (not retried). `limits` bound the bytes,
        their inflation and the time (see the module docstring)."""
        headers = {}
        if target.exists():
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        label = f"{target.name} ({url})"
        deadline = _Deadline(limits.download_seconds)
        last_error: Exception | None = None
        attempt = 0
        try:
            for attempt in range(1, self.attempts + 1):
                try:
                    return self._fetch_once(url, target, headers, validate, check_type,
                                            limits, deadline)
                except RetryableDownloadError as exc:
                    last_error = exc
                    if deadline.expired.is_set() or deadline.remaining() <= 0:
                        break
                    if attempt < self.attempts:
                        pause = self.backoff * 2 ** (attempt - 1)
                        if exc.retry_after is not None:
                            pause = max(pause, exc.retry_after)
                        if pause >= deadline.remaining():
                            break
                        time.sleep(pause)
        finally:
            deadline.cancel()
        if deadline.expired.is_set() or deadline.remaining() <= 0 \
                or attempt < self.attempts:
            raise LimitExceeded(
                label, "download_seconds", limits.download_seconds,
                f"the download had not finished after {deadline.elapsed():.1f} s "
                f"({attempt} attempt(s); last: {last_error})") from last_error
        raise SourceFileError(
            f"download of {url} failed after {self.attempts} attempts: {last_error}"
        ) from last_error

    def _fetch_once(self, url: str, target: Path, headers: dict,
                    validate: Callable[[Path], None] | None,
                    check_type: Callable[[str | None], None] | None,
                    limits: Limits, deadline: _Deadline) -> Download:
        left = max(deadline.remaining(), 0.001)
        timeout = (min(self.timeout[0], left), min(self.timeout[1], left))
        _active.deadline = deadline
        try:
            try:
                response = self.session.get(url, headers=headers, stream=True, timeout=timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise RetryableDownloadError(f"{type(exc).__name__}: {exc}") from exc
            except requests.RequestException as exc:
                # A malformed URL (e.g. a PACCTO_URL_* override without a scheme), too many
                # redirects, ...: no point trying again, but say which URL.
                raise SourceFileError(
                    f"download of {url} failed: {type(exc).__name__}: {exc} (not retried)"
                ) from exc
            with response:
                return self._answer(response, url, target, headers, validate, check_type,
                                    limits, deadline)
        finally:
            _active.deadline = None

    def _answer(self, response, url: str, target: Path, headers: dict,
                validate: Callable[[Path], None] | None,
                check_type: Callable[[str | None], None] | None,
                limits: Limits, deadline: _Deadline) -> Download:
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
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limits.download_bytes:
            raise LimitExceeded(f"{target.name} ({url})", "download_bytes",
                                limits.download_bytes,
                                f"the response declares Content-Length {int(declared):,}")
        return self._stream_to(response, url, target, retrieved_at, validate, check_type,
                               limits, deadline)

    def _stream_to(self, response, url: str, target: Path, retrieved_at: str,
                   validate: Callable[[Path], None] | None,
                   check_type: Callable[[str | None], None] | None,
                   limits: Limits, deadline: _Deadline) -> Download:
        label = f"{target.name} ({url})"
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise SourceFileError(f"{url}: unsupported Content-Encoding {encoding!r}")
        inflater = _Inflater(encoding) if encoding not in ("identity", "") else None
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in leftovers(target, "part"):  # of a download whose process died
            leftover.unlink(missing_ok=True)
        partial = owned(target, "part", hidden=True)
        digest, size, received = hashlib.sha256(), 0, 0

        def write(fh, block: bytes) -> None:
            nonlocal size
            size += len(block)
            if inflater is not None:
                if size > limits.decompressed_bytes:
                    raise LimitExceeded(
                        label, "decompressed_bytes", limits.decompressed_bytes,
                        f"its {encoding} Content-Encoding inflated past {size:,} bytes "
                        f"from {received:,}")
                if limits.ratio_exceeded(size, received):
                    raise LimitExceeded(
                        label, "compression_ratio", limits.compression_ratio,
                        f"its {encoding} Content-Encoding inflated {received:,} bytes to "
                        f"{size:,} ({size / max(received, 1):,.0f} times)")
            fh.write(block)
            digest.update(block)

        def overtime() -> LimitExceeded:
            return LimitExceeded(
                label, "download_seconds", limits.download_seconds,
                f"the body was still arriving after {deadline.elapsed():.1f} s "
                f"({received:,} bytes received)")

        try:
            with open(partial, "wb") as fh:
                # The bytes as sent (chunked framing removed, Content-Encoding kept), so that
                # Content-Length can be checked and a cut compressed stream is noticed.
                for block in response.raw.stream(CHUNK, decode_content=False):
                    received += len(block)
                    if received > limits.download_bytes:
                        raise LimitExceeded(label, "download_bytes", limits.download_bytes,
                                            f"the body reached {received:,} bytes and was cut there")
                    if deadline.expired.is_set():
                        raise overtime()
                    if inflater:
                        for piece in inflater.decompress(block):
                            write(fh, piece)
                    else:
                        write(fh, block)
                if deadline.expired.is_set():  # a shut socket can look like a closed body
                    raise overtime()
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
            if deadline.expired.is_set():
                raise overtime() from exc
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
        if validate is not None or check_type is not None:
            try:
                if validate is not None:
                    validate(partial)
                if check_type is not None:
                    check_type(response.headers.get("Content-Type"))
            except BaseException as exc:
                os.replace(partial, rejected)
                if isinstance(exc, SourceFileError):  # same class (LimitExceeded stays one)
                    exc.args = (f"{exc} (the response is kept as {rejected}; {target.name} "
                                "is unchanged)",)
                raise
        os.replace(partial, target)
        rejected.unlink(missing_ok=True)
        return Download(
            url, target, digest.hexdigest(), size, retrieved_at, 200,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
        )

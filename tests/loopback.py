"""A small scriptable HTTP replay server on 127.0.0.1 for tests: real sockets, real bytes.

    server = Loopback().start()
    server.route("/pop.zip", Reply(status=500), Reply(body=zip_bytes, etag='"v1"'))
    url = server.url("/pop.zip")
    ...
    server.requests_to("/pop.zip")  # [Request(method, path, headers), ...]
    server.stop()

Each path has a list of `Reply`s; request n gets reply n, the last one repeats. A reply can
answer with a status, send its body with a Content-Length, chunked, or close-delimited
(no length: the end of the body is the closing of the connection), truncate the body
(declare the full length or stream chunks, send fewer bytes, then close), wait before
answering (read timeouts) or after the headers (a stall mid-body), drip the body (or the
whole response) a byte at a time, stream a body made piece by piece (never held whole), and
answer 304 to a conditional request that matches its ETag / Last-Modified. Every request is logged with
its method, path and headers so tests can count attempts and see conditional headers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FRAMINGS = ("length", "chunked", "close")


@dataclass
class Reply:
    """One scripted answer.

    framing: "length" (Content-Length), "chunked" (Transfer-Encoding: chunked) or "close"
    (no length; the body ends when the connection closes).
    truncate: send only this many body bytes, then close the connection (with "length" the
    full length is still declared; with "chunked" the final 0-chunk is never sent).
    delay: seconds to wait before the status line (a read timeout before the headers);
    stall: seconds to wait after the headers and the first `stall_after` body bytes (a read
    timeout mid-body). etag / last_modified: sent as validators; a request whose
    If-None-Match / If-Modified-Since matches them gets 304 instead of a 200 reply.
    stream: a function giving the body piece by piece, for bodies too big to hold (with
    framing "length", `length` is the Content-Length sent). drip: seconds between body bytes,
    sent one at a time; with drip_headers the status line and headers drip too.
    """

    status: int = 200
    body: bytes | Path = b""
    content_type: str = "application/octet-stream"
    framing: str = "length"
    truncate: int | None = None
    delay: float = 0.0
    stall: float = 0.0  # seconds to wait after the headers and `stall_after` body bytes
    stall_after: int = 0
    etag: str | None = None
    last_modified: str | None = None  # an HTTP date; see `http_date`
    headers: dict[str, str] = field(default_factory=dict)
    chunk_size: int = 8192
    stream: Callable[[], Iterable[bytes]] | None = None
    length: int | None = None
    drip: float = 0.0
    drip_headers: bool = False

    def __post_init__(self) -> None:
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing {self.framing!r} is not one of {FRAMINGS}")
        if isinstance(self.body, Path):
            self.body = self.body.read_bytes()
        elif isinstance(self.body, str):
            self.body = self.body.encode()


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # header names lower-cased
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def _not_modified(reply: Reply, request: Request) -> bool:
    """RFC 9110 13.1: If-None-Match wins over If-Modified-Since."""
    inm = request.header("If-None-Match")
    if inm is not None:
        if reply.etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or reply.etag.removeprefix("W/") in tags
    ims = request.header("If-Modified-Since")
    if ims is not None and reply.last_modified is not None:
        try:
            return parsedate_to_datetime(reply.last_modified) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        request = Request(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()})
        loopback = self.server.loopback
        reply = loopback._next_reply(request)
        if reply is None:
            self._simple(404, b"no route for " + self.path.encode())
            return
        if reply.delay and loopback._stopping.wait(reply.delay):
            return
        if reply.status == 200 and _not_modified(reply, request):
            self.send_response(304)
            self._validators(reply)
            self.end_headers()
            return
        body = reply.body if send_body else b""
        sent = body if reply.truncate is None else body[: reply.truncate]
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self._validators(reply)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.framing == "length":
            length = reply.length if reply.stream is not None else len(reply.body)
            self.send_header("Content-Length", str(length))
        elif reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        if reply.drip_headers:  # hand the buffered status line and headers to the drip
            head, self._headers_buffer = b"".join(self._headers_buffer) + b"\r\n", []
            if not self._drip(reply, head):
                return
        else:
            self.end_headers()
        if not send_body:
            return
        if reply.stream is not None:
            for piece in reply.stream():
                self._frame(reply, piece)
            if reply.framing == "chunked":
                self.wfile.write(b"0\r\n\r\n")
        else:
            self._write(reply, sent)
        self.wfile.flush()
        if reply.truncate is not None or reply.framing == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _drip(self, reply: Reply, data: bytes) -> bool:
        """Send `data` a byte at a time, `reply.drip` seconds apart; False once stopping."""
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            if self.server.loopback._stopping.wait(reply.drip):
                return False
        return True

    def _write(self, reply: Reply, data: bytes) -> None:
        if reply.drip:
            if reply.framing == "chunked":
                data = b"".join(b"1\r\n%s\r\n" % data[i:i + 1] for i in range(len(data)))
            if self._drip(reply, data) and reply.framing == "chunked" \
                    and reply.truncate is None:
                self.wfile.write(b"0\r\n\r\n")
            return
        if reply.stall:
            head, data = data[: reply.stall_after], data[reply.stall_after:]
            self._frame(reply, head)
            self.wfile.flush()
            if self.server.loopback._stopping.wait(reply.stall):
                return
        self._frame(reply, data)
        if reply.framing == "chunked" and reply.truncate is None:
            self.wfile.write(b"0\r\n\r\n")

    def _frame(self, reply: Reply, data: bytes) -> None:
        if reply.framing != "chunked":
            self.wfile.write(data)
            return
        for start in range(0, len(data), reply.chunk_size):
            piece = data[start:start + reply.chunk_size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))

    def _validators(self, reply: Reply) -> None:
        if reply.etag:
            self.send_header("ETag", reply.etag)
        if reply.last_modified:
            self.send_header("Last-Modified", reply.last_modified)

    def _simple(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    loopback: Loopback

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout) leaves the handler writing to a closed socket.
        pass


class Loopback:
    """The replay server. `start()` binds 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._served: dict[str, int] = {}
        self._log: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> Loopback:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.loopback = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Loopback:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- scripting ---------------------------------------------------------------------
    def route(self, path: str, *replies: Reply) -> str:
        """Answer requests to `path` (query string included, if any) with `replies` in turn,
        the last one repeating; returns the full URL."""
        if not replies:
            raise ValueError("a route needs at least one Reply")
        with self._lock:
            self._routes[path] = list(replies)
            self._served[path] = 0
        return self.url(path)

    def serve_file(self, path: str, file: Path, **reply) -> str:
        """Serve the bytes of `file` at `path` (every request the same reply)."""
        return self.route(path, Reply(body=file.read_bytes(), **reply))

    def _next_reply(self, request: Request) -> Reply | None:
        with self._lock:
            self._log.append(request)
            key = request.path if request.path in self._routes else urlsplit(request.path).path
            replies = self._routes.get(key)
            if replies is None:
                return None
            n = self._served[key]
            self._served[key] = n + 1
            return replies[min(n, len(replies) - 1)]

    # -- the log -----------------------------------------------------------------------
    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path or urlsplit(r.path).path == path]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()


@contextmanager
def refused_url(path: str = "/") -> Iterator[str]:
    """A loopback URL nobody listens on: the port is bound (so nothing else takes it) but
    not listening, so every connection is refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
    finally:
        sock.close()

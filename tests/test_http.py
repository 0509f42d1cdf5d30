"""The one HTTP client, against a real HTTP server on 127.0.0.1 (tests/loopback.py)."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
import zlib
from pathlib import Path

import pytest
from loopback import Reply, http_date, refused_url

from paccto_data.errors import SourceFileError
from paccto_data.http import USER_AGENT, HttpClient
from paccto_data.settings import SNAPSHOTS_DIR

BACKOFF = 0.02  # seconds; the client waits BACKOFF, 2*BACKOFF, ... between attempts
ATTEMPTS = 3


@pytest.fixture
def client() -> HttpClient:
    return HttpClient(connect_timeout=1.0, read_timeout=0.3, attempts=ATTEMPTS, backoff=BACKOFF)


@pytest.fixture(scope="module")
def payload() -> tuple[str, bytes]:
    """Real bytes: the largest bundled snapshot file up to 512 KiB (several chunks long,
    small enough to keep the tests fast whatever snapshots are added)."""
    files = sorted((p for p in SNAPSHOTS_DIR.glob("*/*") if p.is_file()),
                   key=lambda p: (p.stat().st_size > 512 * 1024, -p.stat().st_size, p.name))
    if not files:
        pytest.skip("no bundled snapshots")
    return files[0].name, files[0].read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Temporary files a download may have left beside its target."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_download_writes_the_exact_bytes_atomically(loopback, client, payload, tmp_path,
                                                     framing):
    name, data = payload
    url = loopback.route("/data/file", Reply(body=data, framing=framing, etag='"v1"',
                                             last_modified=http_date(1_700_000_000)))
    target = tmp_path / "raw" / name

    result = client.download(url, target)

    assert target.read_bytes() == data
    assert (result.sha256, result.bytes, result.status) == (sha256(data), len(data), 200)
    assert not result.not_modified
    assert (result.etag, result.last_modified) == ('"v1"', http_date(1_700_000_000))
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # no .part left
    [request] = loopback.requests_to("/data/file")
    assert request.header("User-Agent") == USER_AGENT
    assert request.header("If-None-Match") is None


def test_500_then_success_is_retried(loopback, client, payload, tmp_path):
    name, data = payload
    url = loopback.route("/flaky", Reply(status=500, body=b"oops"), Reply(body=data))
    result = client.download(url, tmp_path / name)
    assert result.sha256 == sha256(data)
    assert len(loopback.requests_to("/flaky")) == 2


def test_retries_back_off_exponentially(loopback, client, tmp_path):
    url = loopback.route("/busy", Reply(status=503), Reply(status=502), Reply(body=b"a,b\n"))
    client.download(url, tmp_path / "x.csv")
    first, second, third = (r.at for r in loopback.requests_to("/busy"))
    assert second - first >= BACKOFF * 0.9
    assert third - second >= 2 * BACKOFF * 0.9


def test_500_forever_fails_after_all_attempts_naming_the_url(loopback, client, tmp_path):
    url = loopback.route("/down", Reply(status=500, body=b"down"))
    with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts.*HTTP 500"):
        client.download(url, tmp_path / "x.csv")
    assert len(loopback.requests_to("/down")) == ATTEMPTS
    assert list(tmp_path.iterdir()) == []


def test_429_with_retry_after_is_retried(loopback, client, tmp_path):
    url = loopback.route("/limited", Reply(status=429, headers={"Retry-After": "0"}),
                         Reply(body=b"a,b\n"))
    assert client.download(url, tmp_path / "x.csv").status == 200
    assert len(loopback.requests_to("/limited")) == 2


@pytest.mark.parametrize("status", [404, 403, 410])
def test_4xx_is_not_retried(loopback, client, tmp_path, status):
    url = loopback.route("/gone", Reply(status=status, body=b"no"))
    with pytest.raises(SourceFileError, match=f"HTTP {status}.*{url}.*not retried"):
        client.download(url, tmp_path / "x.csv")
    assert len(loopback.requests_to("/gone")) == 1
    assert list(tmp_path.iterdir()) == []


def test_redirect_is_followed(loopback, client, tmp_path):
    loopback.route("/new", Reply(body=b"a,b\n"))
    url = loopback.route("/old", Reply(status=302, headers={"Location": "/new"}))
    assert (tmp_path / "x.csv").exists() is False
    client.download(url, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == b"a,b\n"


def test_connection_refused_is_retried_then_fails(client, tmp_path):
    started = time.monotonic()
    with refused_url("/x.csv") as url:
        with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts"):
            client.download(url, tmp_path / "x.csv")
    # every attempt but the last is followed by a backoff pause: the attempts did happen
    assert time.monotonic() - started >= BACKOFF * (1 + 2) * 0.9
    assert list(tmp_path.iterdir()) == []


def test_malformed_url_fails_naming_it(client, tmp_path):
    with pytest.raises(SourceFileError, match="127.0.0.1:notaport.*not retried"):
        client.download("http://127.0.0.1:notaport/x", tmp_path / "x.csv")


def test_read_timeout_before_headers_is_retried_then_fails(loopback, client, tmp_path):
    url = loopback.route("/slow", Reply(body=b"a,b\n", delay=2.0))
    started = time.monotonic()
    with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts.*Timeout"):
        client.download(url, tmp_path / "x.csv")
    assert len(loopback.requests_to("/slow")) == ATTEMPTS
    assert time.monotonic() - started < 2.0  # gave up on each attempt after read_timeout
    assert list(tmp_path.iterdir()) == []


def test_stall_mid_body_is_retried_then_fails(loopback, client, payload, tmp_path):
    name, data = payload
    url = loopback.route("/stall", Reply(body=data, stall=2.0, stall_after=len(data) // 3))
    with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts.*broke off"):
        client.download(url, tmp_path / name)
    assert len(loopback.requests_to("/stall")) == ATTEMPTS
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("previous", [None, b"the previous good download\n"])
def test_truncated_body_fails_and_leaves_the_target_as_it_was(loopback, client, payload,
                                                               tmp_path, framing, previous):
    """Content-Length: fewer bytes than declared, then close. Chunked: the final 0-chunk
    never comes, then close. Either way nothing half-written may replace the target."""
    name, data = payload
    url = loopback.route("/cut", Reply(body=data, framing=framing, truncate=len(data) // 2))
    target = tmp_path / name
    if previous is not None:
        target.write_bytes(previous)
        os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts"):
        client.download(url, target)
    assert len(loopback.requests_to("/cut")) == ATTEMPTS
    assert leftovers(tmp_path) == []
    if previous is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == previous
        assert target.stat().st_mtime_ns == 1_000_000_000


def test_truncated_then_complete_succeeds(loopback, client, payload, tmp_path):
    name, data = payload
    url = loopback.route("/cut-once", Reply(body=data, truncate=100), Reply(body=data))
    assert client.download(url, tmp_path / name).sha256 == sha256(data)
    assert len(loopback.requests_to("/cut-once")) == 2
    assert leftovers(tmp_path) == []


def test_etag_304_keeps_the_file(loopback, client, payload, tmp_path):
    name, data = payload
    url = loopback.route("/etag", Reply(body=data, etag='"abc"'))
    target = tmp_path / name
    first = client.download(url, target)
    mtime = target.stat().st_mtime_ns

    second = client.download(url, target, etag=first.etag)

    assert second.status == 304 and second.not_modified
    assert (second.sha256, second.bytes, second.etag) == (sha256(data), len(data), '"abc"')
    assert target.read_bytes() == data and target.stat().st_mtime_ns == mtime
    _, conditional = loopback.requests_to("/etag")
    assert conditional.header("If-None-Match") == '"abc"'


def test_last_modified_304_keeps_the_file(loopback, client, payload, tmp_path):
    name, data = payload
    stamp = http_date(1_700_000_000)
    url = loopback.route("/lm", Reply(body=data, last_modified=stamp))
    target = tmp_path / name
    first = client.download(url, target)

    second = client.download(url, target, last_modified=first.last_modified)

    assert second.not_modified and target.read_bytes() == data
    assert loopback.requests_to("/lm")[1].header("If-Modified-Since") == stamp


def test_changed_upstream_replaces_the_file(loopback, client, tmp_path):
    target = tmp_path / "x.csv"
    url = loopback.route("/v", Reply(body=b"a\n1\n", etag='"1"'), Reply(body=b"a\n2\n", etag='"2"'))
    first = client.download(url, target)
    second = client.download(url, target, etag=first.etag)
    assert (second.status, second.etag, target.read_bytes()) == (200, '"2"', b"a\n2\n")


def test_no_conditional_request_without_the_file(loopback, client, tmp_path):
    url = loopback.route("/x", Reply(body=b"a,b\n", etag='"abc"'))
    result = client.download(url, tmp_path / "x.csv", etag='"abc"', last_modified="x")
    assert result.status == 200
    [request] = loopback.requests_to("/x")
    assert request.header("If-None-Match") is None
    assert request.header("If-Modified-Since") is None


def test_unsolicited_304_is_an_error(loopback, client, tmp_path):
    (tmp_path / "x.csv").write_bytes(b"old\n")
    url = loopback.route("/x", Reply(status=304))
    with pytest.raises(SourceFileError, match="HTTP 304"):
        client.download(url, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == b"old\n"


def test_rejected_body_never_replaces_the_target(loopback, client, tmp_path):
    html = b"<!DOCTYPE html><html><body>Maintenance</body></html>"
    url = loopback.route("/page", Reply(body=html, content_type="text/html"))
    target = tmp_path / "x.csv"
    target.write_bytes(b"good\n")

    def validate(path: Path) -> None:
        if path.read_bytes().startswith(b"<!DOCTYPE"):
            raise SourceFileError(f"{url} returned an HTML page")

    with pytest.raises(SourceFileError, match="HTML page.*kept as .*x.csv.rejected"):
        client.download(url, target, validate=validate)
    assert target.read_bytes() == b"good\n"
    assert (tmp_path / "x.csv.rejected").read_bytes() == html
    assert len(loopback.requests_to("/page")) == 1  # a wrong kind of file is not retried
    assert leftovers(tmp_path) == []

    loopback.route("/page", Reply(body=b"new\n"))
    client.download(url, target, validate=validate)
    assert target.read_bytes() == b"new\n"
    assert not (tmp_path / "x.csv.rejected").exists()


def _deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODINGS = {
    "gzip": gzip.compress,
    "gzip-two-members": lambda d: gzip.compress(d[:1000]) + gzip.compress(d[1000:]),
    "deflate": zlib.compress,  # zlib-wrapped, as RFC 9110 means it
    "deflate-raw": _deflate_raw,  # what some servers send instead
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_compressed_body_is_stored_decoded(loopback, client, payload, tmp_path, encoding,
                                           framing):
    name, data = payload
    header = encoding.split("-")[0]
    url = loopback.route("/z", Reply(body=ENCODINGS[encoding](data), framing=framing,
                                     headers={"Content-Encoding": header}))
    result = client.download(url, tmp_path / name)
    assert (tmp_path / name).read_bytes() == data
    assert (result.sha256, result.bytes) == (sha256(data), len(data))
    assert loopback.requests_to("/z")[0].header("Accept-Encoding") == "gzip, deflate"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_truncated_compressed_body_fails(loopback, client, payload, tmp_path, encoding,
                                         framing):
    """A close-delimited compressed body cut short is only visible in the compressed stream
    itself: its end-of-stream marker never comes (urllib3's own decoder does not notice)."""
    name, data = payload
    packed = ENCODINGS[encoding](data)
    url = loopback.route("/z-cut", Reply(body=packed, framing=framing, truncate=len(packed) // 2,
                                         headers={"Content-Encoding": encoding}))
    with pytest.raises(SourceFileError, match=f"{url}.*after {ATTEMPTS} attempts"):
        client.download(url, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_unsupported_content_encoding_fails_clearly(loopback, client, tmp_path):
    url = loopback.route("/br", Reply(body=b"xx", headers={"Content-Encoding": "br"}))
    with pytest.raises(SourceFileError, match="unsupported Content-Encoding 'br'"):
        client.download(url, tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []

"""Shared pytest fixtures. Each block belongs to one area; add yours as a separate block."""

from __future__ import annotations

import pytest

# --- loopback HTTP server (tests/loopback.py): real HTTP on 127.0.0.1, never the internet ---

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")


@pytest.fixture
def loopback(monkeypatch):
    """A started `loopback.Loopback` replay server, stopped after the test."""
    from loopback import Loopback

    for name in _PROXY_VARIABLES:  # a proxy from the environment must not see loopback calls
        monkeypatch.delenv(name, raising=False)
    with Loopback() as server:
        yield server

# --- end of loopback block ---

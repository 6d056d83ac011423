"""The test-suite network latch: non-loopback connections fail, loopback and AF_UNIX servers work."""

from __future__ import annotations

import socket
import socketserver
import threading
import urllib.request
from pathlib import Path

import pytest

BLOCKED = "agentrt tests: network access to 93.184.216.34:80 blocked"


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(1024).upper())


@pytest.fixture
def echo_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def test_connect_to_a_public_address_is_refused_by_the_latch():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(RuntimeError, match=BLOCKED):
            sock.connect(("93.184.216.34", 80))
        with pytest.raises(RuntimeError, match=BLOCKED):
            sock.connect_ex(("93.184.216.34", 80))


def test_create_connection_to_a_host_name_is_refused_before_any_dns_lookup(monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("the latch must refuse before resolving the name")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(RuntimeError, match="network access to example.com:443 blocked"):
        socket.create_connection(("example.com", 443), timeout=1)


def test_http_clients_are_refused_too():
    with pytest.raises(RuntimeError, match=BLOCKED):
        urllib.request.urlopen("http://93.184.216.34/", timeout=1)


def test_ipv6_public_address_is_refused():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    blocked = r"network access to 2606:2800:220:1:248:1893:25c8:1946:80 blocked"
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock, pytest.raises(RuntimeError, match=blocked):
        sock.connect(("2606:2800:220:1:248:1893:25c8:1946", 80))


def test_loopback_server_still_works(echo_server):
    host, port = echo_server
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"ping")
        assert sock.recv(1024) == b"PING"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        assert sock.connect_ex(("127.0.0.1", port)) == 0
    with socket.create_connection(("localhost", port), timeout=5) as sock:
        sock.sendall(b"pong")
        assert sock.recv(1024) == b"PONG"


def test_unix_socket_still_works(tmp_path: Path):
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
            conn, _ = server.accept()
            with conn:
                client.sendall(b"hi")
                assert conn.recv(16) == b"hi"
    finally:
        server.close()


def test_offline_env_defaults_and_private_cache_dir_are_set():
    import os

    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert os.environ["GOOGLE_API_USE_CLIENT_CERTIFICATE"] == "false"
    cache = Path(os.environ["AGENTRT_CACHE_DIR"])
    assert cache.is_dir() and Path.home() / ".cache" not in cache.parents

    from agentrt.calendars import cache_dir

    assert cache_dir() == cache

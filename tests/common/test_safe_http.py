"""The SSRF-safe HTTP client (SPEC §12), against a real server on loopback.

Refusals aim at a listening socket on 127.0.0.1 where they can: a destination that slipped
through would show up there as a connection, so "nothing was sent" is checked, not assumed.
"""

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from apps.common.safe_http import (
    HttpRequestError,
    SafeHttpClient,
    UnsafeUrlError,
    non_public_reason,
)
from tests import httpserver

LOOPBACK = "which is a loopback address"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def assert_nothing_arrived(sock: socket.socket) -> None:
    # A client's connect() returns only once the kernel has queued the connection here.
    with pytest.raises(BlockingIOError):
        sock.accept()


@pytest.fixture
def client() -> SafeHttpClient:
    # A short timeout so that a destination wrongly let through fails fast instead of hanging.
    return SafeHttpClient(timeout=2)


@pytest.fixture
def trusting_client(http_test_server: httpserver.TestHttpServer) -> SafeHttpClient:
    """Allowed to reach the test server's port on loopback, and no other."""
    return SafeHttpClient(allowed_hosts=[_loopback(http_test_server)], timeout=5)


def _loopback(server: httpserver.TestHttpServer, host: str = "127.0.0.1") -> str:
    return f"{host}:{server.server.server_address[1]}"


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer made-up names; every other lookup goes to the real resolver. Returns the log."""
    real_getaddrinfo = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host not in answers:
            return real_getaddrinfo(host, port, *args, **kwargs)
        if not answers[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def redirect_url(server: httpserver.TestHttpServer, to: str, code: int = 302) -> str:
    return f"{server.url}/redirect?to={quote(to, safe='')}&code={code}"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:{port}/", "Refused: 127.0.0.1 is a loopback address"),
        (
            "http://localhost:{port}/",
            r"Refused: localhost resolves to (127\.0\.0\.1|::1), " + LOOPBACK,
        ),
        ("http://LocalHost:{port}/", r"Refused: localhost resolves to (127\.0\.0\.1|::1)"),
        ("http://2130706433:{port}/", "Refused: 2130706433 resolves to 127.0.0.1, " + LOOPBACK),
        ("http://0177.0.0.1:{port}/", "Refused: 0177.0.0.1 resolves to 127.0.0.1, " + LOOPBACK),
        ("http://0x7f000001:{port}/", "Refused: 0x7f000001 resolves to 127.0.0.1, " + LOOPBACK),
        ("http://0x7f.0.0.1:{port}/", "Refused: 0x7f.0.0.1 resolves to 127.0.0.1, " + LOOPBACK),
        ("http://127.1:{port}/", "Refused: 127.1 resolves to 127.0.0.1, " + LOOPBACK),
        ("http://0.0.0.0:{port}/", "Refused: 0.0.0.0 is an unspecified address"),
        ("http://[::1]:{port}/", "Refused: ::1 is a loopback address"),
        ("http://[::]:{port}/", "Refused: :: is an unspecified address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "IPv4-mapped form of 127.0.0.1, " + LOOPBACK),
        ("http://[::ffff:7f00:1]:{port}/", "IPv4-mapped form of 127.0.0.1, " + LOOPBACK),
        ("http://[::127.0.0.1]:{port}/", "IPv4-compatible form of 127.0.0.1, " + LOOPBACK),
        ("http://10.0.0.1/", "Refused: 10.0.0.1 is a private address"),
        ("http://10.255.255.254:8080/", "Refused: 10.255.255.254 is a private address"),
        ("http://172.16.0.1/", "Refused: 172.16.0.1 is a private address"),
        ("http://172.31.255.254/", "Refused: 172.31.255.254 is a private address"),
        ("http://192.168.1.1/", "Refused: 192.168.1.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "Refused: 169.254.169.254 is a link-local"),
        ("http://100.64.0.1/", "Refused: 100.64.0.1 is a carrier-grade NAT"),
        ("http://100.127.255.254/", "Refused: 100.127.255.254 is a carrier-grade NAT"),
        ("http://224.0.0.1/", "Refused: 224.0.0.1 is a multicast address"),
        ("http://240.0.0.1/", "Refused: 240.0.0.1 is a reserved address"),
        ("http://192.0.2.1/", "Refused: 192.0.2.1 is not a public address"),
        ("http://[fe80::1]/", "Refused: fe80::1 is a link-local address"),
        ("http://[fe80::1%25lo]/", "Refused: fe80::1 is a link-local address"),
        ("http://[fc00::1]/", "Refused: fc00::1 is a unique-local address"),
        ("http://[fd12:3456::1]/", "Refused: fd12:3456::1 is a unique-local address"),
        ("http://[fec0::1]/", "Refused: fec0::1 is a site-local address"),
        ("http://[ff02::1]/", "Refused: ff02::1 is a multicast address"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped form of 10.0.0.1, which is a private address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 form of 169.254.169.254, which is a link-local"),
        ("http://[2002:c0a8:101::1]/", "6to4 form of 192.168.1.1, which is a private address"),
    ],
)
def test_it_refuses_non_public_destinations_before_connecting(
    client: SafeHttpClient, listener: socket.socket, url: str, message: str
) -> None:
    port = listener.getsockname()[1]
    with pytest.raises(UnsafeUrlError, match=message):
        client.request("GET", url.format(port=port))
    assert_nothing_arrived(listener)


def test_it_refuses_a_name_that_resolves_to_loopback(
    client: SafeHttpClient, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"rebind.test": ["127.0.0.1"]})
    port = listener.getsockname()[1]
    with pytest.raises(UnsafeUrlError) as refused:
        client.request("GET", f"http://rebind.test:{port}/")
    assert str(refused.value) == f"Refused: rebind.test resolves to 127.0.0.1, {LOOPBACK}"
    assert_nothing_arrived(listener)


def test_it_refuses_a_name_when_any_of_its_addresses_is_private(
    client: SafeHttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"mixed.test": ["93.184.215.14", "10.1.2.3"]})
    message = r"mixed\.test resolves to 10\.1\.2\.3, which is a private address"
    with pytest.raises(UnsafeUrlError, match=message):
        client.request("GET", "http://mixed.test/")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/", "gopher://127.0.0.1:70/_", "dict://x:11211/"],
)
def test_it_refuses_schemes_other_than_http(client: SafeHttpClient, url: str) -> None:
    scheme = url.split(":")[0]
    with pytest.raises(UnsafeUrlError) as refused:
        client.request("GET", url)
    assert (
        str(refused.value) == f"Refused: only http and https URLs may be fetched, not {scheme}://"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http:///no-host", "has no host"),
        ("http://[::1/", "is not a valid URL"),
        ("http://example.com:99999/", "is not a valid URL"),
        ("example.com/path", "not a URL without a scheme"),
    ],
)
def test_it_refuses_malformed_urls(client: SafeHttpClient, url: str, message: str) -> None:
    with pytest.raises(UnsafeUrlError, match=message):
        client.request("GET", url)


def test_it_checks_hosts_missing_from_the_allow_list(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    port = http_test_server.server.server_address[1]
    with pytest.raises(UnsafeUrlError, match="localhost resolves to"):
        trusting_client.request("GET", f"http://localhost:{port}/json")
    with pytest.raises(UnsafeUrlError, match=r"127\.1 resolves to 127\.0\.0\.1"):
        trusting_client.request("GET", f"http://127.1:{port}/json")


@pytest.mark.parametrize("to", ["http://10.0.0.1/", "http://127.0.0.2:{port}/json"])
def test_it_refuses_a_redirect_to_a_non_public_address_at_the_hop(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient, to: str
) -> None:
    to = to.format(port=http_test_server.server.server_address[1])
    start = redirect_url(http_test_server, to)
    with pytest.raises(UnsafeUrlError) as refused:
        trusting_client.request("GET", start)
    host = to.split("/")[2].split(":")[0]
    assert str(refused.value).startswith(f"Refused: {host} is a ")
    assert str(refused.value).endswith(f"(in a redirect from {start})")


def test_it_classifies_public_addresses_as_public() -> None:
    for public in [
        "8.8.8.8",
        "1.1.1.1",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ]:
        assert non_public_reason(ipaddress.ip_address(public)) is None, public


# --- requests that go through -----------------------------------------------------------------


def test_it_fetches_from_an_allow_listed_loopback_server(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request("GET", f"{http_test_server.url}/json")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"
    assert response.url == f"{http_test_server.url}/json"


def test_it_round_trips_a_json_post_with_its_headers(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request(
        "POST",
        f"{http_test_server.url}/echo?page=2",
        headers={"X-Request-Id": "abc-123", "Host": "evil.example"},
        json={"animals": ["otter", "heron"], "count": 2},
    )
    echo = response.json()
    assert echo["method"] == "POST"
    assert echo["query"] == {"page": "2"}
    assert echo["body"] == {"animals": ["otter", "heron"], "count": 2}
    assert echo["headers"]["X-Request-Id"] == "abc-123"
    assert echo["headers"]["Content-Type"] == "application/json"
    # The Host header always names the checked destination.
    assert echo["headers"]["Host"] == http_test_server.url.removeprefix("http://")


def test_it_sends_text_content_and_reads_text(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    echo = trusting_client.request("PUT", f"{http_test_server.url}/echo", content="plain words")
    assert echo.json()["body"] == "plain words"
    text = trusting_client.request("GET", f"{http_test_server.url}/text?body=caf%C3%A9")
    assert text.text == "café"


def test_it_connects_to_the_address_it_checked_without_asking_dns_again(
    http_test_server: httpserver.TestHttpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = fake_dns(monkeypatch, {"pinned.test": ["127.0.0.1"]})
    port = http_test_server.server.server_address[1]
    client = SafeHttpClient(allowed_hosts=[f"pinned.test:{port}"], timeout=5)
    echo = client.request("GET", f"http://pinned.test:{port}/echo").json()
    assert asked.count("pinned.test") == 1
    assert echo["headers"]["Host"] == f"pinned.test:{port}"


def test_it_follows_redirects_and_reports_the_final_url(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request("GET", redirect_url(http_test_server, "/json"))
    assert response.json() == {"hello": "world"}
    assert response.url == f"{http_test_server.url}/json"


def test_it_strips_credentials_on_a_cross_origin_redirect(
    http_test_server: httpserver.TestHttpServer,
) -> None:
    port = http_test_server.server.server_address[1]
    client = SafeHttpClient(
        allowed_hosts=[_loopback(http_test_server), _loopback(http_test_server, "localhost")],
        timeout=5,
    )
    response = client.request(
        "GET",
        redirect_url(http_test_server, f"http://localhost:{port}/echo"),
        headers={
            "Authorization": "Bearer secret",
            "Cookie": "session=secret",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Trace": "kept",
        },
    )
    headers = {name.lower(): value for name, value in response.json()["headers"].items()}
    assert "authorization" not in headers
    assert "cookie" not in headers
    assert "proxy-authorization" not in headers
    assert headers["x-trace"] == "kept"
    assert headers["host"] == f"localhost:{port}"


def test_it_keeps_credentials_on_a_same_origin_redirect(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request(
        "GET",
        redirect_url(http_test_server, "/echo"),
        headers={"Authorization": "Bearer secret", "Cookie": "session=secret"},
    )
    headers = response.json()["headers"]
    assert headers["Authorization"] == "Bearer secret"
    assert headers["Cookie"] == "session=secret"


def test_it_turns_a_post_into_a_get_without_body_on_303(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request(
        "POST", redirect_url(http_test_server, "/echo", code=303), json={"form": "data"}
    )
    echo = response.json()
    assert echo["method"] == "GET"
    assert echo["body"] is None
    assert "Content-Type" not in echo["headers"]


def test_it_keeps_method_and_body_on_307(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    response = trusting_client.request(
        "POST", redirect_url(http_test_server, "/echo", code=307), json={"form": "data"}
    )
    echo = response.json()
    assert echo["method"] == "POST"
    assert echo["body"] == {"form": "data"}


def test_it_gives_up_after_too_many_redirects(http_test_server: httpserver.TestHttpServer) -> None:
    url = "/json"
    for _ in range(3):
        url = redirect_url(http_test_server, url)
    client = SafeHttpClient(allowed_hosts=[_loopback(http_test_server)], max_redirects=2, timeout=5)
    with pytest.raises(HttpRequestError, match="redirected more than 2 times"):
        client.request("GET", url)
    enough = SafeHttpClient(allowed_hosts=[_loopback(http_test_server)], max_redirects=3, timeout=5)
    assert enough.request("GET", url).json() == {"hello": "world"}


# --- limits -----------------------------------------------------------------------------------


def test_it_refuses_a_response_over_the_size_limit(
    http_test_server: httpserver.TestHttpServer,
) -> None:
    client = SafeHttpClient(
        allowed_hosts=[_loopback(http_test_server)], max_response_bytes=1000, timeout=5
    )
    assert len(client.request("GET", f"{http_test_server.url}/bytes?n=1000").content) == 1000
    with pytest.raises(HttpRequestError, match="larger than the 1000 byte limit"):
        client.request("GET", f"{http_test_server.url}/bytes?n=1001")


class _ChunkedHandler(BaseHTTPRequestHandler):
    """Streams 64 KiB chunks without a Content-Length, so only counting can stop it."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(64):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up, as it should


@pytest.fixture
def chunked_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_it_stops_reading_a_stream_once_it_passes_the_size_limit(chunked_server: str) -> None:
    loopback = chunked_server.removeprefix("http://")
    client = SafeHttpClient(allowed_hosts=[loopback], max_response_bytes=100_000, timeout=5)
    with pytest.raises(HttpRequestError, match="larger than the 100000 byte limit"):
        client.request("GET", chunked_server)
    roomy = SafeHttpClient(allowed_hosts=[loopback], max_response_bytes=64 * 65536, timeout=5)
    assert len(roomy.request("GET", chunked_server).content) == 64 * 65536


def test_it_gives_up_on_a_response_slower_than_the_timeout(
    http_test_server: httpserver.TestHttpServer, trusting_client: SafeHttpClient
) -> None:
    started = time.monotonic()
    with pytest.raises(HttpRequestError, match=r"timed out after 0\.5 seconds"):
        trusting_client.request("GET", f"{http_test_server.url}/slow?seconds=3", timeout=0.5)
    assert time.monotonic() - started < 2


def test_it_reports_a_name_that_does_not_resolve(
    client: SafeHttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"nowhere.test": []})
    with pytest.raises(HttpRequestError, match=r"Could not resolve host nowhere\.test"):
        client.request("GET", "http://nowhere.test/")


def test_it_reports_a_refused_connection(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()
    trusting = SafeHttpClient(allowed_hosts=[f"127.0.0.1:{port}"], timeout=5)
    with pytest.raises(HttpRequestError, match=f"Could not connect to http://127.0.0.1:{port}/"):
        trusting.request("GET", f"http://127.0.0.1:{port}/")


def test_it_gives_other_clients_the_checked_address_to_connect_to(
    client: SafeHttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"llm.test": ["93.184.215.14"], "inside.test": ["10.0.0.7"]})
    assert client.checked_destination("http://llm.test:8080/v1/chat/completions?x=1") == (
        "http://93.184.215.14:8080/v1/chat/completions?x=1",
        "llm.test:8080",
        {},
    )
    assert client.checked_destination("https://llm.test/v1") == (
        "https://93.184.215.14:443/v1",
        "llm.test",
        {"sni_hostname": "llm.test"},
    )
    with pytest.raises(UnsafeUrlError, match=r"to 10\.0\.0\.7, which is a private address"):
        client.checked_destination("http://inside.test/v1")


def test_it_gives_up_on_a_name_lookup_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    stalled = threading.Event()

    def silent_resolver(host, port, *args, **kwargs):  # a DNS server that never answers
        stalled.wait(10)
        raise socket.gaierror("no answer")

    monkeypatch.setattr(socket, "getaddrinfo", silent_resolver)
    started = time.monotonic()
    try:
        with pytest.raises(HttpRequestError, match=r"Could not resolve host slow\.test: no answer"):
            SafeHttpClient(timeout=0.5).request("GET", "http://slow.test/")
        assert time.monotonic() - started < 2
    finally:
        stalled.set()


# --- the allow-list names ports (apps.common.http_allowlist) ------------------------------


def test_it_opens_only_the_named_port_of_an_allow_listed_host(
    http_test_server: httpserver.TestHttpServer, listener: socket.socket
) -> None:
    other_port = listener.getsockname()[1]
    client = SafeHttpClient(allowed_hosts=[_loopback(http_test_server)], timeout=2)
    assert client.request("GET", f"{http_test_server.url}/json").json() == {"hello": "world"}
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.1 is a loopback address"):
        client.request("GET", f"http://127.0.0.1:{other_port}/")
    bare = SafeHttpClient(allowed_hosts=["127.0.0.1"], timeout=2)  # 80 and 443 only
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.1 is a loopback address"):
        bare.request("GET", f"{http_test_server.url}/json")


def test_it_checks_the_port_of_every_redirect_hop(
    http_test_server: httpserver.TestHttpServer, listener: socket.socket
) -> None:
    # An allow-listed localhost once redirected to localhost:5432 (PostgreSQL) and reached it.
    other_port = listener.getsockname()[1]
    client = SafeHttpClient(allowed_hosts=[_loopback(http_test_server)], timeout=2)
    with pytest.raises(UnsafeUrlError, match="in a redirect from"):
        client.request("GET", redirect_url(http_test_server, f"http://127.0.0.1:{other_port}/"))
    assert_nothing_arrived(listener)

"""BLOCK_HTTP_ALLOWED_HOSTS entries name a host and its ports (issue 21: a bare `localhost`
opened every port of it, PostgreSQL's included). The client's use of them is tested in
test_safe_http.py."""

import pytest

from apps.common.http_allowlist import parse_allowed_host


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("localhost", [("localhost", 80, 80), ("localhost", 443, 443)]),
        ("LocalHost.:8080", [("localhost", 8080, 8080)]),
        ("127.0.0.1:9000-9100", [("127.0.0.1", 9000, 9100)]),
        ("[::1]:8443", [("::1", 8443, 8443)]),
        ("::1", [("::1", 80, 80), ("::1", 443, 443)]),
    ],
)
def test_it_reads_allow_list_entries_as_host_and_ports(entry: str, expected: list) -> None:
    assert [(a.host, a.low, a.high) for a in parse_allowed_host(entry)] == expected


@pytest.mark.parametrize(
    "entry", ["", "host:", "host:0", "host:65536", "host:9100-9000", "host:³", "[::1", ":80"]
)
def test_it_refuses_an_allow_list_entry_it_cannot_read(entry: str) -> None:
    with pytest.raises(ValueError, match=r"no host|a port is 1-65535|expected \[address\]:port"):
        parse_allowed_host(entry)

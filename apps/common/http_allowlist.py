"""`BLOCK_HTTP_ALLOWED_HOSTS` entries (SPEC §12): a host and the ports of it that blocks may
reach even on a non-public address. Read by the SSRF-safe client (`safe_http`) and checked at
start-up (`autogpt.checks`)."""

import ipaddress
from dataclasses import dataclass

from apps.common.numbers import parse_int

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A bare host opens the ports of the schemes blocks may use.
DEFAULT_PORTS = (80, 443)


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def normalise_host(host: str) -> str:
    host = host.strip().strip("[]").rstrip(".").lower()
    address = ip_literal(host)
    return str(address) if address is not None else host


@dataclass(frozen=True)
class AllowedHost:
    """One allow-list entry: a host and the ports of it that may be reached."""

    host: str
    low: int
    high: int

    def admits(self, host: str, port: int) -> bool:
        return host == self.host and self.low <= port <= self.high


def parse_allowed_host(entry: str) -> tuple[AllowedHost, ...]:
    """`host:port`, `host:low-high`, `[v6]:port`; a bare host (or IP) opens only 80 and 443.

    Raises ValueError for an entry that cannot be read, so a typo fails at start-up rather
    than opening (or closing) something unseen."""
    text = entry.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r}: expected [address]:port")
        ports = rest[1:] if rest else None
    elif ip_literal(text) is not None:  # a bare IPv6 address holds colons of its own
        host, ports = text, None
    else:
        host, colon, ports_text = text.rpartition(":")
        host, ports = (host, ports_text) if colon else (text, None)
    host = normalise_host(host)
    if not host:
        raise ValueError(f"{entry!r}: no host")
    if ports is None:
        return tuple(AllowedHost(host, port, port) for port in DEFAULT_PORTS)
    low_text, dash, high_text = ports.partition("-")
    low = parse_int(low_text)
    high = parse_int(high_text) if dash else low
    if low is None or high is None or not 1 <= low <= high <= 65535:
        raise ValueError(f"{entry!r}: a port is 1-65535, a range low-high")
    return (AllowedHost(host, low, high),)

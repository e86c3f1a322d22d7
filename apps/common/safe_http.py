"""Outgoing HTTP for blocks that cannot be turned against the platform's own network (SPEC §12).

A URL supplied by a user is only fetched if every address its host resolves to is public. The
connection then goes to the address that was checked, never to a second DNS answer, so a name that
resolves to a public address for the check and to 127.0.0.1 for the connection (DNS rebinding)
gains nothing. Redirects are followed here, one checked hop at a time. Plain Python: no Django.
"""

import base64
import ipaddress
import json as jsonlib
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from apps.common.http_allowlist import ip_literal, normalise_host, parse_allowed_host
from apps.common.numbers import parse_int

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = {"http": 80, "https": 443}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Credentials meant for one origin must not be handed to whichever origin it redirects to.
CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
# Name lookups of every client in the process; one the deadline gave up on ends on its own.
_RESOLVER = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dns")

# First match names the reason. Ranges Python's `is_global` gets wrong (multicast is "global" in
# 3.11) or names too vaguely are listed explicitly; anything else not global is caught after.
_REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("0.0.0.0/8", "an unspecified address"),
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("169.254.0.0/16", "a link-local address"),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("fc00::/7", "a unique-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeUrlError(ValueError):
    """The destination is refused (scheme, non-public address, malformed URL); nothing was sent."""


class HttpRequestError(Exception):
    """The request was allowed but failed: network, timeout, too many redirects, too large.
    `sent` is False when it never left this machine (its host did not resolve, no address took
    the connection): a caller may send such a request again whatever its method."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class SafeResponse:
    status_code: int
    headers: dict[str, str]
    content: bytes
    url: str

    @property
    def text(self) -> str:
        message = Message()
        message["content-type"] = self.headers.get("content-type", "")
        charset = message.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


@dataclass(frozen=True)
class _Target:
    """One checked hop: where it claims to go and the addresses it may be connected to."""

    url: str  # as shown to the user: no credentials, no fragment
    scheme: str
    host: str  # ASCII, without IPv6 brackets
    port: int
    path: str  # path and query
    host_header: str
    addresses: tuple[IPAddress, ...]
    userinfo: tuple[str, str] | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    def url_for(self, address: IPAddress) -> str:
        literal = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def extensions(self) -> dict[str, Any]:
        # The certificate must be checked against the name the user asked for, not the address.
        if self.scheme == "https" and ip_literal(self.host) is None:
            return {"sni_hostname": self.host}
        return {}


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped form", address.ipv4_mapped
    if address.sixtofour is not None:
        return "a 6to4 form", address.sixtofour
    if address in _NAT64_WELL_KNOWN:
        return "a NAT64 form", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return "an IPv4-compatible form", ipaddress.IPv4Address(int(address))
    return None


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` must not be contacted ("a loopback address"), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind, ipv4 = embedded
            inner = non_public_reason(ipv4)
            if inner is not None:
                return f"{kind} of {ipv4}, which is {inner}"
            if kind in ("an IPv4-mapped form", "a NAT64 form"):
                return None  # the packets go to the embedded IPv4 address, which is public
    for network, label in _REFUSED_NETWORKS:
        if address in network:
            return label
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


class SafeHttpClient:
    """HTTP for user-supplied URLs: public destinations only, bounded in time and size.

    `allowed_hosts` names hosts (as written in URLs) or IP literals, each with the port or
    port range that may be reached on a non-public address, e.g. a trusted internal service
    (`parse_allowed_host`). Everything else is checked, at every redirect hop.
    """

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        timeout: float = 30,
        max_response_bytes: int = 10 * 1024 * 1024,
        max_redirects: int = 5,
    ) -> None:
        self.allowed_hosts = tuple(
            allowed for entry in allowed_hosts for allowed in parse_allowed_host(entry)
        )
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_redirects = max_redirects

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        timeout: float | None = None,
    ) -> SafeResponse:
        """Send one request, following redirects; raises UnsafeUrlError or HttpRequestError."""
        method = method.upper()
        body = self._body(json, content)
        request_headers = _headers(headers or {})
        if json is not None and "content-type" not in request_headers:
            request_headers["Content-Type"] = "application/json"
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit

        target = self._check(url, deadline)
        for redirects in range(self.max_redirects + 1):
            if target.userinfo is not None and "authorization" not in request_headers:
                request_headers["Authorization"] = _basic_auth(*target.userinfo)
            request_headers["Host"] = target.host_header
            status, response_headers, data = self._send(
                method, target, request_headers, body, deadline, limit
            )
            location = response_headers.get("location")
            if status not in REDIRECT_STATUSES or not location:
                return SafeResponse(status, response_headers, data, target.url)
            if redirects == self.max_redirects:
                break
            next_url = urljoin(target.url, location.strip())
            try:
                next_target = self._check(next_url, deadline)
            except UnsafeUrlError as exc:
                raise UnsafeUrlError(f"{exc} (in a redirect from {target.url})") from None
            if next_target.origin != target.origin:
                for name in CREDENTIAL_HEADERS:
                    request_headers.pop(name, None)
            if _redirect_becomes_get(status, method):
                method, body = "GET", None
                for name in BODY_HEADERS:
                    request_headers.pop(name, None)
            target = next_target
        raise HttpRequestError(
            f"Too many redirects: {url} redirected more than {self.max_redirects} times"
        )

    def checked_destination(self, url: str) -> tuple[str, str, dict[str, Any]]:
        """For clients of other libraries (the LLM blocks' openai client) that must obey the
        same rule: check `url` like a request would, and answer (the URL to connect to, the
        Host header, transport extensions), pinned to the checked address."""
        target = self._check(url, time.monotonic() + self.timeout)
        return target.url_for(target.addresses[0]), target.host_header, target.extensions

    # --- checks -------------------------------------------------------------------------------

    def _check(self, url: str, deadline: float) -> _Target:
        """Parse `url` and resolve its host, refusing it unless every address may be contacted."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise UnsafeUrlError(f"Refused: {url!r} is not a valid URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            shown = f"{scheme}://" if scheme else "a URL without a scheme"
            raise UnsafeUrlError(f"Refused: only http and https URLs may be fetched, not {shown}")
        if not parts.hostname:
            raise UnsafeUrlError(f"Refused: {url!r} has no host")
        try:
            host = unquote(parts.hostname).encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeUrlError(f"Refused: {parts.hostname!r} is not a valid host name") from None
        default_port = ALLOWED_SCHEMES[scheme]
        port = default_port if port is None else port
        addresses = self._resolve(host, port, deadline)
        named = normalise_host(host)
        if not any(allowed.admits(named, port) for allowed in self.allowed_hosts):
            literal = ip_literal(host.split("%")[0])
            for address in addresses:
                reason = non_public_reason(address)
                if reason is None:
                    continue
                if literal == address:
                    raise UnsafeUrlError(f"Refused: {address} is {reason}")
                raise UnsafeUrlError(f"Refused: {host} resolves to {address}, which is {reason}")
        bracketed = f"[{host}]" if ":" in host else host
        netloc = bracketed if port == default_port else f"{bracketed}:{port}"
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        userinfo = None
        if parts.username is not None:
            userinfo = (unquote(parts.username), unquote(parts.password or ""))
        return _Target(
            url=f"{scheme}://{netloc}{path}",
            scheme=scheme,
            host=host,
            port=port,
            path=path,
            host_header=netloc,
            addresses=addresses,
            userinfo=userinfo,
        )

    def _resolve(self, host: str, port: int, deadline: float) -> tuple[IPAddress, ...]:
        # getaddrinfo reads odd spellings (2130706433, 0177.0.0.1, 0x7f.1, 127.1) the way the
        # connection would, so the answer is checked rather than the string. It has no timeout
        # of its own (the system resolver's can be tens of seconds), so it is waited for on a
        # thread only until the request's deadline.
        lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout=max(0.0, deadline - time.monotonic()))
        except FuturesTimeout:
            raise HttpRequestError(
                f"Could not resolve host {host}: no answer in time", sent=False
            ) from None
        except (socket.gaierror, UnicodeError) as exc:
            raise HttpRequestError(f"Could not resolve host {host}: {exc}", sent=False) from None
        addresses: list[IPAddress] = []
        for family, _, _, _, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise HttpRequestError(f"Could not resolve host {host}: no IP address", sent=False)
        return tuple(addresses)

    # --- sending ------------------------------------------------------------------------------

    @staticmethod
    def _body(json: Any, content: bytes | str | None) -> bytes | None:
        if json is not None and content is not None:
            raise ValueError("Give the request body as json or as content, not both")
        if json is not None:
            try:
                return jsonlib.dumps(json, allow_nan=False).encode()
            except (TypeError, ValueError) as exc:
                raise ValueError(f"The request body cannot be sent as JSON: {exc}") from None
        if isinstance(content, str):
            return content.encode()
        return content

    def _send(
        self,
        method: str,
        target: _Target,
        headers: httpx.Headers,
        body: bytes | None,
        deadline: float,
        limit: float,
    ) -> tuple[int, dict[str, str], bytes]:
        """One hop to the checked addresses in turn; a redirect's body is not read."""
        timed_out = HttpRequestError(f"Request to {target.url} timed out after {limit:g} seconds")
        failure: Exception | None = None
        for address in target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timed_out
            try:
                return self._send_to(method, target, address, headers, body, deadline, remaining)
            except httpx.ConnectError as exc:
                failure = exc  # e.g. an IPv6 answer without IPv6 routing: try the next one
            except httpx.TimeoutException:
                raise timed_out from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise HttpRequestError(f"Request to {target.url} failed: {exc}") from None
        raise HttpRequestError(f"Could not connect to {target.url}: {failure}", sent=False)

    def _send_to(
        self,
        method: str,
        target: _Target,
        address: IPAddress,
        headers: httpx.Headers,
        body: bytes | None,
        deadline: float,
        remaining: float,
    ) -> tuple[int, dict[str, str], bytes]:
        # A fresh client per hop: a pooled connection is keyed by address only and could carry
        # a request for one TLS name over a connection verified for another. trust_env=False so
        # proxy variables cannot reroute a checked request and ~/.netrc adds no credentials.
        with (
            httpx.Client(follow_redirects=False, trust_env=False) as client,
            client.stream(
                method,
                target.url_for(address),
                headers=headers,
                content=body,
                timeout=remaining,
                extensions=target.extensions,
            ) as response,
        ):
            response_headers = _flatten(response.headers)
            if response.status_code in REDIRECT_STATUSES and "location" in response_headers:
                return response.status_code, response_headers, b""
            declared = parse_int(response_headers.get("content-length"))
            if (
                declared is not None
                and declared > self.max_response_bytes
                and "content-encoding" not in response_headers
            ):
                raise self._too_large(target)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise self._too_large(target)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("deadline passed while reading the body")
                chunks.append(chunk)
            return response.status_code, response_headers, b"".join(chunks)

    def _too_large(self, target: _Target) -> HttpRequestError:
        return HttpRequestError(
            f"Response from {target.url} is larger than the {self.max_response_bytes} byte limit"
        )


def _redirect_becomes_get(status: int, method: str) -> bool:
    """What browsers do, and what servers answering a form POST with 301/302 expect."""
    return (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST")


def _headers(headers: Mapping[str, str]) -> httpx.Headers:
    try:
        return httpx.Headers(headers)
    except UnicodeError:
        raise ValueError("Header names and values must be plain ASCII text") from None


def _flatten(headers: httpx.Headers) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in headers.multi_items():
        name = name.lower()
        flat[name] = f"{flat[name]}, {value}" if name in flat else value
    return flat


def _basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")

"""Where a webhook may be sent: http(s) only, and never to a loopback, link-local, private,
multicast or otherwise non-public address unless the host is on the allow-list.

The host is resolved and every address checked; the delivery then connects to a checked
address (`post_pinned`), so a name that resolves differently a moment later (DNS rebinding)
cannot steer a request inside the network.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """This URL may not receive webhooks; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query string
    addresses: tuple[str, ...]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 forms that carry an IPv4 address a router or a NAT64 gateway will reach: each
# carried address is checked as if it had been given (2002:a9fe:a9fe:: is 169.254.169.254).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def carried_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """(form, IPv4 address) for each IPv4 address an IPv6 transition form carries: 6to4,
    Teredo (server and client), NAT64, IPv4-compatible and IPv4-translated."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        found += [("Teredo", ip.teredo[0]), ("Teredo", ip.teredo[1])]
    if any(ip in net for net in _NAT64):
        found.append(("NAT64", low32))
    if ip in _COMPATIBLE and int(ip) > 1:
        found.append(("IPv4-compatible", low32))
    if ip in _TRANSLATED:
        found.append(("IPv4-translated", low32))
    return found


def _refusal(ip: IPAddress) -> str | None:
    for reason, hit in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if hit:
            return reason
    return None if ip.is_global else "not public"


def address_refusal(address: str) -> str | None:
    """Why this address may not be a webhook target, or None for a public address. An
    IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, Teredo, NAT64, ...) is
    refused for what it carries too."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _refusal(ip.ipv4_mapped)
        for form, carried in carried_ipv4(ip):
            reason = _refusal(carried)
            if reason:
                return f"{reason} ({form} for {carried})"
    return _refusal(ip)


def _allowed(host: str, allow_hosts: Sequence[str]) -> bool:
    return host.lower().strip("[]") in {h.lower().strip("[]") for h in allow_hosts}


def check_target(url: str, *, allow_hosts: Sequence[str], resolver: Resolver = resolve) -> Target:
    """The URL parsed and resolved, or `TargetRefused` saying why it may not be used."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs can receive webhooks, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not accepted; sign with the secret instead")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(f"the URL's port is not valid: {exc}") from exc
    host = parts.hostname
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise TargetRefused(f"{host} does not resolve: {exc}") from exc
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    if not _allowed(host, allow_hosts):
        for address in addresses:
            reason = address_refusal(address)
            if reason:
                raise TargetRefused(f"{host} resolves to a {reason} address ({address}); allow-list it to use it")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, tuple(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post_pinned(target: Target, body: bytes, headers: Mapping[str, str], *, timeout: float) -> int:
    """POST to the first checked address of `target`; the HTTP status. Redirects are not
    followed (a redirect could point anywhere). Network errors raise OSError."""
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = cls(target.host, target.port, target.addresses[0], timeout)
    try:
        conn.request("POST", target.path, body=body, headers=dict(headers))
        response = conn.getresponse()
        response.read(64 * 1024)  # a receiver's reply is not used; read a little so the socket closes cleanly
        return int(response.status)
    except http.client.HTTPException as exc:
        raise OSError(f"bad HTTP response: {exc}") from exc
    finally:
        conn.close()

"""Where a fetch may connect. A crawled page can point anywhere, including the cluster's own
metadata service (169.254.169.254) or a database on the worker's network, so every URL is
checked before connecting and again at every redirect hop: only http and https, and only
hosts whose every address is public. The fetcher then connects to the addresses checked here
(never resolving the name a second time), so a name that changes its answer between the check
and the connection cannot slip through."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

SCHEMES = {"http": 80, "https": 443}


class AddressRefused(Exception):
    """A URL the fetcher will not connect to; `reason` is the rejection reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to call the host (Host header, TLS name)."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, allow_private: bool = False, resolver: Resolver = system_resolver,
              allow_networks: Sequence[str] = ()) -> Target:
    """The URL's connection target, or AddressRefused with `bad_url`, `dns_error` or
    `private_address`. `allow_networks` (CIDR strings) admits those private networks only,
    for an intranet crawl that must still not reach the rest."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a malformed port or IPv6 literal
        raise AddressRefused("bad_url", str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise AddressRefused("bad_url", f"scheme {scheme or '(none)'!r} is not http or https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressRefused("bad_url", "no host")
    port = port or SCHEMES[scheme]
    literal = numeric_host(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            names = resolver(host, port)
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in names]
        except (OSError, UnicodeError, ValueError) as exc:
            raise AddressRefused("dns_error", f"{host}: {exc}") from None
        if not addresses:
            raise AddressRefused("dns_error", f"{host}: no address")
    if not allow_private:
        allowed = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
        for addr in addresses:
            if not is_public(addr) and not any(addr in net for net in allowed):
                raise AddressRefused("private_address", f"{host} is {addr}")
    return Target(scheme, host, port, tuple(str(a) for a in addresses))


def is_public(addr: IPAddress) -> bool:
    """A globally routable unicast address. IPv6 forms that carry an IPv4 address (mapped,
    compatible, 6to4, Teredo, NAT64) are judged by the IPv4 address they lead to."""
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return is_public(embedded)
    return not (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast
                or addr.is_reserved or addr.is_unspecified or getattr(addr, "is_site_local", False)
                or not addr.is_global)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]  # the client's address; the server half is Teredo's own
    if addr in _NAT64 or (addr in _COMPATIBLE and int(addr) > 1):  # "::" and "::1" are IPv6's own
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host stands for, as browsers and inet_aton read it: an IPv6
    literal, or an IPv4 address of one to four parts, each decimal, octal (leading 0) or hex
    (0x), the last filling the remaining bytes ("2130706433", "0177.0.0.1", "127.1" are all
    127.0.0.1). None for a name."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.strip("[]").split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if not parts or len(parts) > 4 or not all(parts):
        return None
    values = []
    for part in parts:
        value = _number(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    n = 0
    for v in head:
        n = n * 256 + v
    return ipaddress.IPv4Address((n << 8 * (5 - len(values))) | last)


def _number(part: str) -> int | None:
    p = part.lower()
    try:
        if p.startswith("0x"):
            return int(p[2:] or "0", 16)
        if len(p) > 1 and p.startswith("0"):
            return int(p[1:], 8)
        return int(p, 10) if p.isdigit() else None
    except ValueError:
        return None

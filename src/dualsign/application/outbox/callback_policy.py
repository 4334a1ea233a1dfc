"""Where webhook callbacks may be sent: public addresses, and the networks an operator allows.

A callback URL is chosen by the integrator, but the platform makes the request: left open, it would
let an API key holder reach the platform's own network (metadata services, databases, admin pages).
So a callback must resolve to public addresses only, unless the operator lists a network as allowed
(``DUALSIGN_WEBHOOK_ALLOW_NETWORKS``, e.g. an internal receiver at 10.1.2.0/24). Literal addresses and
``localhost`` are refused when the session is created; host names are resolved and checked at each
delivery (a refused delivery fails, is retried and ends dead with the reason).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]  # host, port → the addresses it resolves to


class CallbackRefused(Exception):
    """A callback that must not be sent; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_networks(items: Sequence[str]) -> tuple[Network, ...]:
    """``["127.0.0.1", "10.0.0.0/8"]`` → networks (ValueError naming the bad entry)."""
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(out)


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class CallbackPolicy:
    allowed: tuple[Network, ...] = ()

    def address_refusal(self, address: str) -> str | None:
        """Why ``address`` may not receive a callback, or None when it may."""
        ip = _unmapped(ipaddress.ip_address(address.split("%", 1)[0]))
        if any(ip.version == n.version and ip in n for n in self.allowed):
            return None
        if not ip.is_global or ip.is_multicast:
            return f"{ip} is not a public address (loopback, private, link-local or reserved)"
        return None

    def url_problem(self, url: str) -> str | None:
        """What is wrong with ``url`` as a callback, knowable without resolving it."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
            return "must be an absolute http(s) URL"
        if parts.username or parts.password:
            return "must not carry credentials (the delivery is signed instead)"
        try:
            parts.port  # noqa: B018 (raises on a port out of range)
        except ValueError:
            return "has an invalid port"
        host = parts.hostname.rstrip(".").lower()
        if host == "localhost" or host.endswith(".localhost"):
            host = "127.0.0.1"
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return None  # a name: checked when it is resolved, at each delivery
        refusal = self.address_refusal(host)
        return f"must reach a public address: {refusal}" if refusal else None

    def check_delivery(self, url: str, resolve: Resolver) -> None:
        """Raise ``CallbackRefused`` unless every address ``url``'s host resolves to may be reached."""
        problem = self.url_problem(url)
        if problem:
            raise CallbackRefused(f"callback_url {problem}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise CallbackRefused(f"callback host {host!r} does not resolve: {exc}") from None
        for address in addresses:
            refusal = self.address_refusal(address)
            if refusal:
                raise CallbackRefused(f"callback host {host!r} resolves to {refusal}")

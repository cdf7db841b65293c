"""Which addresses we may contact, enforced where the connection is actually made.

:class:`GuardedResolver` wraps aiohttp's resolver and drops every address the
:class:`AddressPolicy` refuses, so the check applies to the very address aiohttp connects
to (no DNS-rebinding window). aiohttp does not resolve literal IPs, so callers also check
those with :meth:`AddressPolicy.check_host`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from federation.errors import UnsafeAddress

log = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

_NAT64 = ip_network("64:ff9b::/96")


def parse_ip(text: str) -> IPAddress | None:
    """The address in ``text`` (brackets and zone ids allowed), or None if it is a name."""
    text = text.strip("[]")
    try:
        return ip_address(text)
    except ValueError:
        return None


def _embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True for globally routable unicast addresses; False for loopback, private,
    link-local, multicast, unspecified, reserved, shared (CGNAT) and documentation
    ranges, in IPv4 and IPv6, including IPv4 embedded in IPv6 (mapped, 6to4, NAT64)."""
    if isinstance(ip, IPv6Address):
        if ip.teredo is not None:
            return False
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public_address(inner)
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, unless ``allow_private``; ``allowed_networks`` are exceptions
    (e.g. ``127.0.0.1/32`` for a test peer or a trusted internal relay)."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def build(
        cls, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()
    ) -> AddressPolicy:
        return cls(allow_private, tuple(ip_network(net) for net in allowed_networks))

    def is_allowed(self, ip: IPAddress) -> bool:
        if self.allow_private:
            return True
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return True
        return is_public_address(ip)

    def check_host(self, host: str) -> None:
        """Refuse a literal IP host we may not contact; names are left to the resolver."""
        ip = parse_ip(host)
        if ip is not None and not self.is_allowed(ip):
            raise UnsafeAddress(f"refusing to contact non-public address {host}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that only returns addresses the policy allows."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = ThreadedResolver()
        results = await self._inner.resolve(host, port, family)
        allowed = []
        for result in results:
            ip = parse_ip(result["host"])
            if ip is not None and self._policy.is_allowed(ip):
                allowed.append(result)
        if not allowed:
            log.warning("refused %s: it resolves only to non-public addresses", host)
            raise UnsafeAddress(f"refusing to contact {host}: it resolves to no public address")
        return allowed

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()

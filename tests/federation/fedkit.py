"""Helpers for the federation tests (``tests.federation.fedkit``): key pairs, a static key
resolver, a fake DNS and AS2 answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.errors import FetchError
from federation.httpsig import PublicKeyInfo, sign_request
from federation.keys import Signer

ACTOR = "https://remote.example/users/ana"
KEY_ID = f"{ACTOR}#main-key"

# sign_request with RFC 9421 HTTP Message Signatures instead of draft-cavage
sign_rfc9421 = partial(sign_request, scheme="rfc9421")


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str

    def signer(self, key_id: str = KEY_ID) -> Signer:
        return Signer(key_id, self.private_pem)


def ed25519_pair() -> KeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private, public)


@dataclass
class StaticKeys:
    """A KeyResolver over a dict; records every call as (key_id, refresh)."""

    keys: dict[str, PublicKeyInfo] = field(default_factory=dict)
    calls: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, pair: KeyPair, key_id: str = KEY_ID, owner: str = ACTOR) -> StaticKeys:
        self.keys[key_id] = PublicKeyInfo(key_id, owner, pair.public_pem)
        return self

    async def resolve(self, key_id: str, *, refresh: bool = False) -> PublicKeyInfo:
        self.calls.append((key_id, refresh))
        if key_id not in self.keys:
            raise FetchError(f"no key {key_id}")
        return self.keys[key_id]


class FakeDNS(AbstractResolver):
    """Maps test host names to addresses; never asks real DNS (unknown names fail)."""

    def __init__(self, names: dict[str, Iterable[str]]) -> None:
        self.names = {name: list(addresses) for name, addresses in names.items()}
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"FakeDNS: unknown host {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.names[host]
        ]

    async def close(self) -> None:
        return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ServerFactory = Callable[[dict[str, Handler]], Awaitable[TestServer]]


def as2(document: Any, *, content_type: str = "application/activity+json") -> web.Response:
    """A JSON response with exactly this Content-Type."""
    return web.Response(body=json.dumps(document).encode(), headers={"Content-Type": content_type})

"""Shared pieces of HTTP signatures: results, key info, HTTP dates, header access, crypto."""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import NamedTuple, cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from multidict import CIMultiDict, CIMultiDictProxy

from federation.errors import SignatureError
from federation.httpsig.knock import Scheme
from federation.keys import PrivateKey, PublicKey, load_public_key
from federation.origins import authority

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, start=1)}
_last_date: list[tuple[int, str]] = [(-1, "")]  # one tuple, swapped atomically

# Stateless cryptography parameter objects, shared by every call.
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_SHA512 = hashes.SHA512()
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(_SHA512), salt_length=64)

RSA_V1_5 = frozenset({"rsa-sha256", "hs2019", "rsa-v1_5-sha256"})
# Methods whose body a signature must cover with a digest.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Headers the signers compute themselves; callers' copies are replaced.
SIGNER_OWNED_HEADERS = frozenset(
    {"host", "date", "digest", "signature", "signature-input", "content-digest"}
)


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """A resolved public key: its id, the actor that owns it, and its PEM."""

    key_id: str
    owner: str
    public_key_pem: str = field(repr=False)

    @property
    def public_key(self) -> PublicKey:
        return load_public_key(self.public_key_pem)


class Prepared(NamedTuple):
    """A signature whose syntax, coverage, time and digest checks passed: only crypto is left."""

    scheme: Scheme
    key_id: str
    algorithm: str | None  # None: decided by the key type
    data: bytes
    signature: bytes


class VerifiedSignature(NamedTuple):
    """What a valid signature proves: this key, owned by this actor, signed the request."""

    key_id: str
    owner: str
    scheme: Scheme
    algorithm: str


def http_date(timestamp: float | None = None) -> str:
    """IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), memoised for the current second."""
    second = int(time.time() if timestamp is None else timestamp)
    cached_second, cached_text = _last_date[0]
    if cached_second == second:
        return cached_text
    t = time.gmtime(second)
    text = (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
    _last_date[0] = (second, text)
    return text


@lru_cache(maxsize=1024)
def parse_http_date(value: str) -> float:
    """Seconds since the epoch of an HTTP date; raises ValueError when unparseable.

    Memoised: an inbox sees the same Date value in many requests of the same second.
    """
    value = value.strip()
    if len(value) == 29 and value[3:5] == ", " and value.endswith(" GMT"):
        month = _MONTH_NUMBERS.get(value[8:11])
        if month is not None and value[7] == value[11] == value[16] == " ":
            day, year = int(value[5:7]), int(value[12:16])
            hour, minute, sec = int(value[17:19]), int(value[20:22]), int(value[23:25])
            if 1 <= day <= 31 and hour < 24 and minute < 60 and sec < 61:
                return float(calendar.timegm((year, month, day, hour, minute, sec)))
        raise ValueError(f"invalid HTTP date {value!r}")
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"invalid HTTP date {value!r}") from exc
    if parsed.tzinfo is None:  # "-0000": UTC without a claim about local time
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers keyed by lower-case name; repeated fields joined with ', ' (RFC 9110 5.3).

    Works for plain dicts and for multidicts (``request.headers``), whose ``items()``
    yields every field line.
    """
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):  # aiohttp: values already stripped
        out = {name.lower(): value for name, value in headers.items()}
    else:
        out = {name.lower(): value.strip() for name, value in headers.items()}
    if len(out) == len(headers):
        return out
    out = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out


@lru_cache(maxsize=1_000)
def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, authority without default port, path-with-query) of an absolute URL.

    Memoised for the inboxes a fan-out signs for again and again; the URLs of keys, which
    other servers choose, come once each, so only the last thousand are kept.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, authority(scheme, parts.hostname or "", parts.port), target


def sign_bytes(key: PrivateKey, data: bytes, algorithm: str = "rsa-sha256") -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):  # next to ~1 ms of RSA, isinstance is free
        if algorithm == "rsa-pss-sha512":
            return key.sign(data, _PSS_SHA512, _SHA512)
        return key.sign(data, _PKCS1, _SHA256)
    return key.sign(data)


_KINDS: dict[type, str] = {}


def key_kind(key: PublicKey | PrivateKey) -> str:
    """ "rsa" or "ed25519", memoised by class (isinstance against the ABCs costs ~1 us)."""
    kind = _KINDS.get(type(key))
    if kind is None:
        if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
            kind = "rsa"
        elif isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
            kind = "ed25519"
        else:
            raise SignatureError("unsupported key type")
        _KINDS[type(key)] = kind
    return kind


def default_algorithm(key: PublicKey | PrivateKey) -> str:
    return "rsa-v1_5-sha256" if key_kind(key) == "rsa" else "ed25519"


def encode_base(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise SignatureError("signed header values cannot be encoded") from exc


def verify_bytes(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is valid; SignatureError when the algorithm does not fit the key."""
    try:
        if key_kind(key) == "rsa":
            rsa_key = cast(rsa.RSAPublicKey, key)
            if algorithm in RSA_V1_5:
                rsa_key.verify(signature, data, _PKCS1, _SHA256)
            elif algorithm == "rsa-pss-sha512":
                rsa_key.verify(signature, data, _PSS_SHA512, _SHA512)
            else:
                raise SignatureError(f"algorithm {algorithm!r} cannot be used with an RSA key")
        elif algorithm in ("ed25519", "hs2019"):
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
        else:
            raise SignatureError(f"algorithm {algorithm!r} cannot be used with an Ed25519 key")
    except InvalidSignature:
        return False
    return True


def check_time_window(label: str, timestamp: float, now: float, max_skew: float) -> None:
    if timestamp > now + max_skew:
        raise SignatureError(f"{label} is too far in the future")
    if timestamp < now - max_skew:
        raise SignatureError(f"{label} is too old (more than {int(max_skew)} s)")

"""``copub doctor``: is this installation fit to federate? One :class:`Check` per question.

- config: which file was read (the root group already refused a wrong one);
- database: reachable (a SQLite file that is missing is not created here);
- schema: at this code's migration head (``actors.store.health``);
- keys: the server's and every community's pair parse and belong together;
- base_url: answers over the network with the actor document (a community's, else the
  Application actor's), as a peer would ask for it;
- clock: within :data:`MAX_SKEW` of the ``Date`` of that answer (signatures carry the
  time; peers refuse those too far off);
- email (with ``[email]``): the SMTP server takes a connection, TLS and sign-in as set.

Nothing is written: no migration, no key made.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from actors.digests import mailer
from actors.settings import Settings
from actors.store import health, keypairs
from actors.store.db import AsyncSession, create_engine, redacted_url, sessionmaker, sqlite_file
from actors.urls import Urls
from federation.clock import utcnow
from federation.keys import load_private_key, load_public_key
from federation.vocab import AS2_MEDIA_TYPE

MAX_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok`` None when it could not be checked (skipped)."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class _Found:
    """What the database told: a community whose actor to ask for."""

    slug: str | None = None


async def run_checks(settings: Settings, *, seconds: float = 5.0) -> list[Check]:
    found = _Found()
    checks = [_config_check(settings)]
    checks += await _database_checks(settings, found, seconds)
    urls = Urls(settings.server.base_url)
    actor = urls.community(found.slug) if found.slug else urls.application()
    checks += await _network_checks(settings, actor, seconds)
    if settings.email.enabled:  # [email]: the digests' SMTP server
        checks.append(await _email_check(settings))
    return checks


async def _email_check(settings: Settings) -> Check:
    problem = await mailer.probe(settings.email)
    if problem is not None:
        return Check("email", False, f"{problem} (see [email] in the config)")
    return Check("email", True, f"{settings.email.host}:{settings.email.port} takes mail")


def _config_check(settings: Settings) -> Check:
    return Check("config", True, f"read {os.path.abspath(settings.source)}")


async def _database_checks(settings: Settings, found: _Found, seconds: float) -> list[Check]:
    url = settings.database.url
    file = sqlite_file(url)
    skipped = [Check(name, None, "not checked: no database") for name in ("schema", "keys")]
    if file is not None and not file.is_file():
        return [Check("database", False, f"{file} does not exist: run copub migrate (or "
                      "copub serve) to create it, or fix [database] url"), *skipped]  # fmt: skip
    # asyncpg waits 60 s for a connection unless told otherwise
    engine = create_engine(url, connect_args={} if file else {"timeout": seconds})
    try:
        async with sessionmaker(engine)() as session:
            try:
                async with asyncio.timeout(seconds):
                    await health.ping(session)
            except Exception as exc:  # noqa: BLE001 (whatever the driver raises)
                why = " ".join(str(exc).split())[:300] or type(exc).__name__
                return [Check("database", False, f"{redacted_url(url)} cannot be reached: "
                              f"{why} (is the database server up, are the [database] url "
                              "and its password right?)"), *skipped]  # fmt: skip
            problem = await health.schema_problem(session)
            return [
                Check("database", True, f"reachable at {redacted_url(url)}"),
                Check("schema", problem is None, problem or "at the migration head"),
                await _keys_check(session, found),
            ]
    finally:
        await engine.dispose()


def _pair_problem(private_pem: str, public_pem: str) -> str | None:
    if not private_pem.strip():
        return "has no private key"
    try:
        private = load_private_key(private_pem)
    except (ValueError, TypeError) as exc:
        return f"has a private key that does not parse ({exc})"
    try:
        public = load_public_key(public_pem)
    except (ValueError, TypeError) as exc:
        return f"has a public key that does not parse ({exc})"
    if private.public_key() != public:
        return "has a public key that is not its private key's"
    return None


async def _keys_check(session: AsyncSession, found: _Found) -> Check:
    try:
        server, communities = await keypairs.stored_key_pairs(session)
    except Exception as exc:  # noqa: BLE001 (a schema far behind: the tables differ)
        return Check("keys", False, f"cannot be read: {' '.join(str(exc).split())[:200]}")
    pairs = ([server] if server else []) + communities
    bad = {
        pair.owner: why
        for pair in pairs
        if (why := _pair_problem(pair.private_pem, pair.public_pem))
    }
    found.slug = next((pair.slug for pair in communities if pair.owner not in bad), None)
    problems = [f"{owner} {why}" for owner, why in list(bad.items())[:3]]
    if len(bad) > 3:
        problems.append(f"and {len(bad) - 3} more")
    if bad:
        problems[-1] += " (restore these key pairs from a backup of the database)"
    if server is None:
        problems.insert(0, "the server has no key yet (copub serve makes it when it starts)")
    if problems:
        return Check("keys", False, "; ".join(problems))
    return Check("keys", True, f"the server's and {len(communities)} communities' pairs match")


async def _network_checks(settings: Settings, actor: str, seconds: float) -> list[Check]:
    base = settings.server.base_url
    context = ssl.create_default_context(cafile=settings.federation.ca_file or None)
    headers = {"Accept": AS2_MEDIA_TYPE, "User-Agent": settings.federation.user_agent}
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=seconds),
                connector=aiohttp.TCPConnector(ssl=context),
            ) as client,
            client.get(actor, headers=headers, allow_redirects=False) as response,
        ):
            status, date = response.status, response.headers.get("Date")
            document = await response.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        return [
            Check("base_url", False, f"GET {actor} failed: {why} (is copub serve running, "
                  f"and does {base} reach it from here, through any proxy?)"),
            Check("clock", None, "not checked: base_url did not answer"),
        ]  # fmt: skip
    return [_actor_check(actor, status, document), _clock_check(date, utcnow())]


def _actor_check(actor: str, status: int, document: object) -> Check:
    if status != 200:
        return Check("base_url", False, f"GET {actor} answered {status}, not the actor "
                     "(does the proxy pass every path to copub?)")  # fmt: skip
    got = document.get("id") if isinstance(document, dict) else None
    if got != actor:
        return Check("base_url", False, f"GET {actor} answered a document with id {got!r} "
                     "(another server behind this address, or a base_url that is not the "
                     "address peers use?)")  # fmt: skip
    return Check("base_url", True, f"{actor} answers with its actor document")


def _clock_check(date: str | None, now: datetime) -> Check:
    if not date:
        return Check("clock", False, "the answer had no Date header to compare the clock with")
    try:
        theirs = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return Check("clock", False, f"the answer's Date header {date!r} does not parse")
    skew = now - theirs
    seconds = abs(skew.total_seconds())
    if abs(skew) > MAX_SKEW:
        side = "ahead of" if skew > timedelta(0) else "behind"
        return Check("clock", False, f"this clock is {seconds:.0f} s {side} the server's "
                     f"(Date: {date}); peers refuse signatures that far off: keep both "
                     "clocks synchronised (NTP, e.g. timedatectl set-ntp true)")  # fmt: skip
    return Check("clock", True, f"within {seconds:.0f} s of the server's Date")

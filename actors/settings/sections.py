"""The sections of the configuration file, each a frozen dataclass with its defaults.

A section that belongs to one part of copub is kept with that part and only named here
(``[console]``: actors/accounts/config.py, ``[email]``: actors/digests/config.py,
``[retention]``, ``[threads]``, ``[limits]``: federation/intake.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from actors.accounts.config import ConsoleSettings
from actors.digests.config import EmailSettings
from actors.retention import RetentionSettings
from actors.threads.limits import ThreadSettings
from federation.httpsig.knock import Scheme, as_scheme
from federation.intake import Limits


@dataclass(frozen=True)
class ServerSettings:
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    secure_mode: bool = False
    # glibc's malloc: at most this many arenas for the process's threads (0: glibc's own
    # choice, up to eight per core; MALLOC_ARENA_MAX in the environment wins)
    malloc_arenas: int = 2
    # glibc's malloc: blocks of this many KiB and more are mmapped, and unmapped when freed
    # (0: glibc's threshold, which rises with the largest block freed; MALLOC_MMAP_THRESHOLD_
    # in the environment wins)
    malloc_mmap_threshold_kib: int = 256
    # Every this many seconds, memory the process freed goes back to the system (glibc's
    # malloc_trim); 0: never
    release_memory_seconds: float = 60.0

    @property
    def domain(self) -> str:
        """The host part of handles: ``slug@domain`` (includes a non-default port)."""
        return urlsplit(self.base_url).netloc


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///data/copub.sqlite3"


@dataclass(frozen=True)
class FederationSettings:
    allow_private_addresses: bool = False
    user_agent: str = "copub/0.1"
    fetch_timeout_seconds: float = 10.0
    delivery_timeout_seconds: float = 15.0
    max_body_bytes: int = 1_048_576
    # A PEM file of extra certificate authorities to trust for outgoing https (a private CA);
    # empty: the system's authorities only
    ca_file: str = ""
    # Fetching the keys of incoming requests: at most key_fetch_per_host at once per host,
    # key_fetch_queue_per_host more waiting for it, key_fetch_total (running and waiting)
    # for all hosts; beyond, a request whose key is not cached gets 503 at once, so a host
    # that never answers delays no other
    key_fetch_per_host: int = 4
    key_fetch_queue_per_host: int = 16
    key_fetch_total: int = 256
    # A signature that fails with a cached key fetches the key again (a rotated key), at
    # most once per this many seconds per key
    key_refresh_cooldown_seconds: float = 60.0
    # Public keys of other servers' actors kept in memory (the database keeps them all);
    # beyond, the least recently used leave memory
    key_cache_entries: int = 2_000
    # The signature scheme of the first knock on a server whose choice is not known yet:
    # "cavage" (draft-cavage, what every server verifies today) or "rfc9421"; a server that
    # answers 401 is asked again with the other, which is remembered when it passes
    signature_scheme: str = "cavage"

    @property
    def first_knock(self) -> Scheme:
        """``signature_scheme`` as a Scheme (ValueError when it names none)."""
        return as_scheme(self.signature_scheme)


@dataclass(frozen=True)
class DeliverySettings:
    """Outgoing deliveries: the worker loop (see ``copub worker``)."""

    in_process_worker: bool = True
    concurrency: int = 64
    per_host_concurrency: int = 8
    poll_interval_seconds: float = 1.0
    lease_seconds: float = 300.0
    give_up_after_hours: float = 48.0
    # Failing servers whose circuit breaker state is kept (any number of servers can fail);
    # beyond, the one that failed least recently is forgotten
    breaker_max_hosts: int = 10_000


@dataclass(frozen=True)
class InboxSettings:
    """Incoming activities: stored durably before the 202, then applied in the background."""

    # false: only accept and store; items wait until a server with it true runs (tests of
    # crash recovery use this to stop between the 202 and the processing)
    in_process: bool = True


@dataclass(frozen=True)
class MetricsSettings:
    """``/metrics`` in Prometheus's text format, on a listener of its own (actors/web/metrics.py).

    Off by default. ``listen`` is ``host:port`` (``[::1]:9464`` for IPv6); the main port
    never serves metrics. With several processes set ``PROMETHEUS_MULTIPROC_DIR``."""

    enabled: bool = False
    listen: str = "127.0.0.1:9464"

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of ``listen``; ValueError when it is not ``host:port``."""
        host, sep, port = self.listen.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(self.listen)
        return host, int(port)


@dataclass(frozen=True)
class LogSettings:
    """How log lines look: ``text`` (for people) or ``json`` (one object a line, for log
    collectors: time, level, logger, message, and the activity id, community and peer of
    the lines that carry them; actors/logformat.py)."""

    format: str = "text"


@dataclass(frozen=True)
class ParticipationSettings:
    """How the community page sorts people into circles of participation (actors/circles.py).

    A contribution is a post or reply to the community, or (when counted) joining one of
    its events, within the last ``window_days``."""

    window_days: int = 90
    # at least this many contributions in the window: the core
    core_min_contributions: int = 10
    # at least this many (and fewer than the core's): the active ring
    active_min_contributions: int = 3
    # joining an event counts as a contribution
    count_event_participation: bool = True
    # coordinators (the moderators) are in the core whatever their count
    coordinators_are_core: bool = True
    # at most this many names listed for each of the core and the active ring
    max_listed: int = 50
    # the circles are counted at most this often per community, in seconds (0: every view)
    refresh_seconds: float = 60.0


@dataclass(frozen=True)
class PagesSettings:
    """Conditional GET and the render cache of public pages (actors/web/page_cache.py)."""

    # rendered pages kept in each process: at most this many, and this many bytes (0: none)
    cache_entries: int = 512
    cache_bytes: int = 32 * 1024 * 1024
    # HTML pages also change with time (upcoming events, the circles, remote people's
    # names): their validator changes at least this often, in seconds (0: HTML never cached)
    html_seconds: float = 60.0


@dataclass(frozen=True)
class ContentSettings:
    """Stories, practices and events: how members' posts are filed, and event defaults."""

    # A member's top-level post carrying one of these hashtags (without '#', any case) is
    # filed as a practice or an event; other posts stay posts.
    practice_tags: tuple[str, ...] = ("practice", "howto")
    event_tags: tuple[str, ...] = ("event", "meetup")
    # A member's top-level post with one of value_tags and a cycle's tag (#valuestory
    # #applied) is filed as a value-creation story of that cycle (actors/values.py).
    value_tags: tuple[str, ...] = ("valuestory",)
    immediate_tags: tuple[str, ...] = ("immediate",)
    potential_tags: tuple[str, ...] = ("potential",)
    applied_tags: tuple[str, ...] = ("applied",)
    realized_tags: tuple[str, ...] = ("realized", "realised")
    reframing_tags: tuple[str, ...] = ("reframing",)
    # The IANA time zone of an event whose author names none (CLI and API).
    default_timezone: str = "UTC"


CYCLE_TAG_KEYS = ("immediate_tags", "potential_tags", "applied_tags", "realized_tags",
                  "reframing_tags")  # fmt: skip


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str


@dataclass(frozen=True)
class CommunitySeed:
    slug: str
    name: str
    summary: str = ""
    closed: bool = False
    fields: tuple[ProfileField, ...] = ()


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    participation: ParticipationSettings = field(default_factory=ParticipationSettings)
    pages: PagesSettings = field(default_factory=PagesSettings)
    content: ContentSettings = field(default_factory=ContentSettings)
    # Sessions, one-time links, passwords, sign-in waits (actors/accounts/config.py)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    # How long finished work is kept, and the purge (actors/retention.py)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # How much of a conversation is fetched, and how often threads are looked at again
    # (actors/threads/limits.py)
    threads: ThreadSettings = field(default_factory=ThreadSettings)
    # How much of a remote document is read: lists capped, URLs and dates checked
    # (federation/intake.py, ``[limits]``)
    limits: Limits = field(default_factory=Limits)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    # The operator's SMTP server, for digests (actors/digests/config.py; off when no host)
    email: EmailSettings = field(default_factory=EmailSettings)
    log: LogSettings = field(default_factory=LogSettings)
    communities: tuple[CommunitySeed, ...] = ()
    # Modules loaded by name at start, each with ``setup(app, settings)`` (e.g. adapters.discourse)
    adapters: tuple[str, ...] = ()
    # Each listed adapter's own section, raw as TOML gave it, by section name (the module's
    # last dotted part: ``[[discourse]]`` for adapters.discourse); the adapter validates it.
    adapter_config: dict[str, Any] = field(default_factory=dict, hash=False)
    source: str = "<defaults>"

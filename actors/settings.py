"""Configuration: one TOML file loaded into frozen dataclasses.

The file is found by ``--config``, else ``$COPUB_CONFIG``, else ``./config.toml``,
else ``./config.example.toml``. Unknown keys and wrong types are errors that name
the key and the file, raised before anything starts.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from actors.accounts.config import ConsoleSettings
from actors.digests.config import EmailSettings
from actors.errors import CopubError
from actors.retention import RetentionSettings
from actors.threads.limits import ThreadSettings
from federation.clock import zone_named
from federation.httpsig.common import Scheme
from federation.httpsig.knock import SCHEMES, as_scheme
from federation.intake import Limits

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")


class ConfigError(CopubError):
    """The configuration file is missing or wrong; the message says where."""

    http_status = 500  # the server's own configuration


@dataclass(frozen=True)
class ServerSettings:
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    secure_mode: bool = False
    # glibc's malloc: at most this many arenas for the process's threads (0: glibc's own
    # choice, up to eight per core; MALLOC_ARENA_MAX in the environment wins)
    malloc_arenas: int = 2
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


T = TypeVar("T")


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The configuration file every command uses, in the documented order."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("COPUB_CONFIG")
    if env:
        return Path(env)
    for candidate in (Path("config.toml"), Path("config.example.toml")):
        if candidate.exists():
            return candidate
    raise ConfigError(
        "no configuration found: pass --config, set COPUB_CONFIG, "
        "or create ./config.toml (see config.example.toml)"
    )


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    file = find_config(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from exc
    return settings_from_dict(raw, source=str(file))


def settings_from_dict(raw: dict[str, Any], *, source: str = "<dict>") -> Settings:
    for reserved in ("source", "adapter_config"):
        if reserved in raw:
            raise ConfigError(f"{source}: unknown key '{reserved}'")
    raw, sections = _adapter_sections(raw, source)
    settings = _build(Settings, {**raw, "source": source}, source, "")
    settings = dataclasses.replace(settings, adapter_config=sections)
    _validate(settings)
    return settings


def adapter_section_name(module: str) -> str:
    """The config section of an adapter module: its last dotted part."""
    return module.rsplit(".", 1)[-1]


def _adapter_sections(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split off the sections of the listed adapters (kept raw for them to validate)."""
    modules = raw.get("adapters", [])
    if not isinstance(modules, list):
        return raw, {}  # _build reports the wrong type
    own = {f.name for f in dataclasses.fields(Settings)}
    names = [adapter_section_name(m) for m in modules if isinstance(m, str)]
    for name in names:
        if name in own:
            raise ConfigError(f"{source}: adapter section '{name}' collides with a copub section")
    rest = {k: v for k, v in raw.items() if k not in names}
    unknown = [k for k, v in rest.items() if k not in own and isinstance(v, dict | list)]
    if unknown:
        raise ConfigError(
            f"{source}: unknown key '{unknown[0]}' (an adapter's section is read only when "
            f'the adapter is listed, e.g. adapters = ["adapters.{unknown[0]}"])'
        )
    return rest, {k: v for k, v in raw.items() if k in names}


def _build(cls: type[T], data: Any, source: str, where: str) -> T:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{where or 'top level'}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{path}'")
        kwargs[key] = _convert(hints[key], value, source, path)
    return cls(**kwargs)


def _convert(hint: Any, value: Any, source: str, path: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, path)  # type: ignore[arg-type]
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{source}: '{path}' must be a list")
        return tuple(
            _convert(item_hint, item, source, f"{path}[{i}]") for i, item in enumerate(value)
        )
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{source}: '{path}' has an unsupported type")  # pragma: no cover
    expected: tuple[type, ...] = (int, float) if hint is float else (hint,)
    if (hint is not bool and isinstance(value, bool)) or not isinstance(value, expected):
        raise ConfigError(f"{source}: '{path}' must be {hint.__name__}, got {type(value).__name__}")
    return float(value) if hint is float and isinstance(value, int | float) else value


def _validate(settings: Settings) -> None:
    src = settings.source
    parts = urlsplit(settings.server.base_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or "@" in parts.netloc
        or "?" in settings.server.base_url
        or "#" in settings.server.base_url
    ):
        raise ConfigError(
            f"{src}: 'server.base_url' must be an http(s) origin like https://cop.example"
        )
    if not 0 < settings.server.port < 65536:
        raise ConfigError(f"{src}: 'server.port' must be between 1 and 65535")
    if settings.server.malloc_arenas < 0 or settings.server.release_memory_seconds < 0:
        raise ConfigError(
            f"{src}: 'server.malloc_arenas' and 'server.release_memory_seconds' must not be "
            "negative"
        )
    _validate_key_fetching(settings.federation, src)
    _validate_delivery(settings.delivery, settings.federation, src)
    _validate_content(settings.content, src)
    _validate_participation(settings.participation, src)
    if min(settings.pages.cache_entries, settings.pages.cache_bytes) < 0 or (
        settings.pages.html_seconds < 0
    ):
        raise ConfigError(f"{src}: the 'pages' settings must not be negative")
    _validate_operations(settings.metrics, settings.log, src)
    for section, problems in (
        ("console", settings.console.problems()),
        ("limits", settings.limits.problems()),
        ("retention", settings.retention.problems()),
        ("threads", settings.threads.problems()),
        ("email", settings.email.problems()),
    ):
        if problems:
            name, why = problems[0]
            raise ConfigError(f"{src}: '{section}.{name}' {why}")
    if settings.federation.ca_file and not Path(settings.federation.ca_file).is_file():
        raise ConfigError(
            f"{src}: 'federation.ca_file' {settings.federation.ca_file!r} is not a file"
        )
    slugs: set[str] = set()
    for i, seed in enumerate(settings.communities):
        if not SLUG_RE.match(seed.slug):
            raise ConfigError(
                f"{src}: 'communities[{i}].slug' must be lowercase letters, digits or _"
            )
        if seed.slug in slugs:
            raise ConfigError(f"{src}: 'communities[{i}].slug' repeats '{seed.slug}'")
        slugs.add(seed.slug)


def _validate_content(content: ContentSettings, src: str) -> None:
    if zone_named(content.default_timezone) is None:
        raise ConfigError(
            f"{src}: 'content.default_timezone' {content.default_timezone!r} is not an IANA "
            "time zone (e.g. Europe/Paris)"
        )
    for key in ("practice_tags", "event_tags", "value_tags", *CYCLE_TAG_KEYS):
        for tag in getattr(content, key):
            if not tag.strip().lstrip("#"):
                raise ConfigError(f"{src}: 'content.{key}' has an empty tag")


def _validate_key_fetching(federation: FederationSettings, src: str) -> None:
    if federation.key_fetch_per_host < 1 or federation.key_fetch_total < 1:
        raise ConfigError(
            f"{src}: 'federation.key_fetch_per_host' and 'federation.key_fetch_total' must be "
            "at least 1"
        )
    if federation.key_cache_entries < 1:
        raise ConfigError(f"{src}: 'federation.key_cache_entries' must be at least 1")
    if federation.signature_scheme not in SCHEMES:
        raise ConfigError(f"{src}: 'federation.signature_scheme' must be cavage or rfc9421")
    if federation.key_fetch_queue_per_host < 0 or federation.key_refresh_cooldown_seconds < 0:
        raise ConfigError(
            f"{src}: 'federation.key_fetch_queue_per_host' and "
            "'federation.key_refresh_cooldown_seconds' must not be negative"
        )


def _validate_delivery(
    delivery: DeliverySettings, federation: FederationSettings, src: str
) -> None:
    if delivery.concurrency < 1 or delivery.per_host_concurrency < 1:
        raise ConfigError(
            f"{src}: 'delivery.concurrency' and 'delivery.per_host_concurrency' must be at least 1"
        )
    if delivery.breaker_max_hosts < 1:
        raise ConfigError(f"{src}: 'delivery.breaker_max_hosts' must be at least 1")
    if delivery.poll_interval_seconds <= 0 or delivery.give_up_after_hours <= 0:
        raise ConfigError(
            f"{src}: 'delivery.poll_interval_seconds' and 'delivery.give_up_after_hours' "
            "must be positive"
        )
    if delivery.lease_seconds < 2 * federation.delivery_timeout_seconds:
        raise ConfigError(
            f"{src}: 'delivery.lease_seconds' must be at least twice "
            "'federation.delivery_timeout_seconds'"
        )


def _validate_operations(metrics: MetricsSettings, log: LogSettings, src: str) -> None:
    try:
        metrics.address  # noqa: B018 (parsed to check it)
    except ValueError:
        raise ConfigError(
            f"{src}: 'metrics.listen' must be host:port, e.g. 127.0.0.1:9464"
        ) from None
    if log.format not in ("text", "json"):
        raise ConfigError(f"{src}: 'log.format' must be text or json")


def _validate_participation(participation: ParticipationSettings, src: str) -> None:
    if participation.window_days < 1:
        raise ConfigError(f"{src}: 'participation.window_days' must be at least 1")
    if participation.active_min_contributions < 1:
        raise ConfigError(f"{src}: 'participation.active_min_contributions' must be at least 1")
    if participation.core_min_contributions <= participation.active_min_contributions:
        raise ConfigError(
            f"{src}: 'participation.core_min_contributions' must be greater than "
            "'participation.active_min_contributions'"
        )
    if participation.max_listed < 0 or participation.refresh_seconds < 0:
        raise ConfigError(
            f"{src}: 'participation.max_listed' and 'participation.refresh_seconds' "
            "must not be negative"
        )

"""The checks of a loaded configuration that its types alone cannot make: ranges, URLs,
time zones, slugs. Each failure is a :class:`ConfigError` naming the key and the file."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from actors.errors import CopubError
from actors.settings.sections import (
    CYCLE_TAG_KEYS,
    ContentSettings,
    DeliverySettings,
    FederationSettings,
    LogSettings,
    MetricsSettings,
    ParticipationSettings,
    Settings,
)
from federation.clock import zone_named
from federation.httpsig.knock import SCHEMES

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")


class ConfigError(CopubError):
    """The configuration file is missing or wrong; the message says where."""

    http_status = 500  # the server's own configuration


def validate(settings: Settings) -> None:
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
    for key in ("malloc_arenas", "malloc_mmap_threshold_kib", "release_memory_seconds"):
        if getattr(settings.server, key) < 0:
            raise ConfigError(f"{src}: 'server.{key}' must not be negative")
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

"""The adapter's configuration: one ``[[discourse]]`` table per connected community.

copub hands the raw tables over (``Settings.adapter_config["discourse"]``, read only when
``adapters = ["adapters.discourse"]``); they are checked here, with errors that name the
key and the file, like copub's own settings.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from actors.items import PUBLISHED_KINDS, ItemKind
from actors.settings import SLUG_RE, ConfigError, Settings

SECTION = "discourse"
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")


@dataclass(frozen=True)
class ForumConfig:
    """One community connected to one Discourse category."""

    community: str
    base_url: str
    api_key: str
    api_username: str
    category: str  # the category's numeric id or its slug, as text
    webhook_secret: str
    # forum tag -> kind; a first post with an [event] block is an event; the rest stories
    tag_kinds: dict[str, ItemKind] = field(
        default_factory=lambda: {"practice": ItemKind.PRACTICE, "event": ItemKind.EVENT},
        hash=False,
    )
    # topics whose first post has a discourse-calendar [event ...] block become events
    calendar_events: bool = True
    # reconciliation that catches what webhooks missed; 0 turns it off
    poll_interval_seconds: float = 300.0
    # each poll also reads this many mirrored topics again in full, the least recently
    # read first (edits that bump nothing, deleted posts and topics, topics moved away);
    # 0 turns it off
    recheck_topics_per_poll: int = 10
    # ... among this many mirrored topics, the newest (older ones: `sync --full`)
    recheck_recent_topics: int = 100
    # seconds before a request to the forum gives up
    timeout_seconds: float = 30.0
    # first retry of a failed forum write or webhook event; doubled each time, up to an hour
    retry_seconds: float = 5.0
    # addresses allowed even when federation.allow_private_addresses is false
    # (a forum on the organisation's network), e.g. ["10.1.2.3/32"]
    allowed_networks: tuple[str, ...] = ()

    @property
    def category_id(self) -> int | None:
        return int(self.category) if self.category.isdigit() else None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def kind_of_tag(self, tag: str) -> ItemKind | None:
        return self.tag_kinds.get(tag.lower())


_FIELDS: dict[str, tuple[type, ...]] = {
    "community": (str,),
    "base_url": (str,),
    "api_key": (str,),
    "api_username": (str,),
    "category": (str, int),
    "webhook_secret": (str,),
    "tag_kinds": (dict,),
    "calendar_events": (bool,),
    "poll_interval_seconds": (int, float),
    "recheck_topics_per_poll": (int,),
    "recheck_recent_topics": (int,),
    "timeout_seconds": (int, float),
    "retry_seconds": (int, float),
    "allowed_networks": (list,),
}
_REQUIRED = ("community", "base_url", "api_key", "api_username", "category", "webhook_secret")


def forums_of(settings: Settings) -> tuple[ForumConfig, ...]:
    """The forums configured in ``settings`` (none when the section is absent)."""
    raw = settings.adapter_config.get(SECTION)
    if raw is None:
        return ()
    return parse_forums(raw, settings.source)


def parse_forums(raw: Any, source: str) -> tuple[ForumConfig, ...]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ConfigError(f"{source}: '{SECTION}' must be a table or [[{SECTION}]] tables")
    forums = tuple(_forum(item, source, f"{SECTION}[{i}]") for i, item in enumerate(raw))
    seen: set[str] = set()
    for i, forum in enumerate(forums):
        if forum.community in seen:
            raise ConfigError(
                f"{source}: '{SECTION}[{i}].community' repeats '{forum.community}' "
                "(one forum category per community)"
            )
        seen.add(forum.community)
    return forums


def _forum(item: Any, source: str, where: str) -> ForumConfig:
    if not isinstance(item, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    for key, value in item.items():
        if key not in _FIELDS:
            raise ConfigError(f"{source}: unknown key '{where}.{key}'")
        types = _FIELDS[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise ConfigError(
                f"{source}: '{where}.{key}' must be {names}, got {type(value).__name__}"
            )
    for key in _REQUIRED:
        if key not in item or (isinstance(item[key], str) and not item[key].strip()):
            raise ConfigError(f"{source}: '{where}.{key}' is required")
    values = dict(item)
    values["category"] = str(values["category"]).strip()
    values["base_url"] = values["base_url"].rstrip("/")
    if "tag_kinds" in values:
        values["tag_kinds"] = _tag_kinds(values["tag_kinds"], source, f"{where}.tag_kinds")
    if "allowed_networks" in values:
        values["allowed_networks"] = _networks(values["allowed_networks"], source, where)
    for key in ("poll_interval_seconds", "timeout_seconds", "retry_seconds"):
        if key in values:
            values[key] = float(values[key])
    forum = ForumConfig(**values)
    _validate(forum, source, where)
    return forum


def _tag_kinds(raw: dict[str, Any], source: str, where: str) -> dict[str, ItemKind]:
    kinds: dict[str, ItemKind] = {}
    for tag, kind in raw.items():
        if not isinstance(kind, str) or kind not in PUBLISHED_KINDS:
            known = ", ".join(PUBLISHED_KINDS)
            raise ConfigError(f"{source}: '{where}.{tag}' must be one of {known}")
        if not _TAG_RE.match(tag.lower()):
            raise ConfigError(f"{source}: '{where}' has an invalid tag {tag!r}")
        kinds[tag.lower()] = ItemKind(kind)
    return kinds


def _networks(raw: list[Any], source: str, where: str) -> tuple[str, ...]:
    for i, net in enumerate(raw):
        try:
            ipaddress.ip_network(net)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{source}: '{where}.allowed_networks[{i}]' is not a network like 10.0.0.0/8"
            ) from exc
    return tuple(raw)


def _validate(forum: ForumConfig, source: str, where: str) -> None:
    if not SLUG_RE.match(forum.community):
        raise ConfigError(f"{source}: '{where}.community' is not a community slug")
    parts = urlsplit(forum.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            f"{source}: '{where}.base_url' must be the forum's http(s) address, "
            "like https://forum.example.org"
        )
    if forum.category.startswith("-") or "/" in forum.category:
        raise ConfigError(f"{source}: '{where}.category' must be a category id or slug")
    if len(forum.webhook_secret) < 12:
        raise ConfigError(
            f"{source}: '{where}.webhook_secret' must be at least 12 characters "
            "(the same secret as in Discourse's webhook settings)"
        )
    if forum.recheck_topics_per_poll < 0 or forum.recheck_recent_topics < 0:
        raise ConfigError(
            f"{source}: '{where}.recheck_topics_per_poll' and '{where}.recheck_recent_topics' "
            "must not be negative"
        )
    if forum.poll_interval_seconds < 0 or forum.timeout_seconds <= 0 or forum.retry_seconds <= 0:
        raise ConfigError(
            f"{source}: '{where}.poll_interval_seconds' must not be negative, "
            f"'{where}.timeout_seconds' and '{where}.retry_seconds' must be positive"
        )


def forum_for(forums: tuple[ForumConfig, ...], slug: str) -> ForumConfig | None:
    return next((f for f in forums if f.community == slug), None)

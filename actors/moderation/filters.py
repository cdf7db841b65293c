"""Words, phrases and link domains that hold a post for the coordinators (never drop it
silently), per community or server-wide.

A word filter matches the post's text case-insensitively on word boundaries (``spam``
holds "Spam!" but not "spammer's"; a phrase matches as written). A domain filter matches a
link to the domain or to any host under it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from actors.errors import Invalid
from actors.store import moderation as store
from actors.store.db import AsyncSession
from actors.store.models_moderation import FilterKind

VALUE_MAX = 200
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_BARE_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}")


class InvalidFilter(Invalid):
    """Not a word, phrase or domain a filter can hold on."""


@dataclass(frozen=True)
class Filter:
    kind: FilterKind
    value: str
    server_wide: bool = False

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


def parse_filter(kind: str, value: str) -> Filter:
    """``kind`` ``word`` (a word or phrase) or ``domain`` (``spam.example``; a URL gives
    its host); ``InvalidFilter`` else."""
    try:
        filter_kind = FilterKind(kind.strip().lower())
    except ValueError:
        raise InvalidFilter("a filter is a 'word' or a 'domain'", field="kind") from None
    text = " ".join(value.split()).lower()
    if filter_kind == FilterKind.DOMAIN:
        if "://" in text:
            text = urlsplit(text).hostname or ""
        text = text.lstrip("@").rstrip(".")
        if not _DOMAIN.fullmatch(text) or len(text) > VALUE_MAX:
            raise InvalidFilter("give a domain, e.g. spam.example", field="value")
    elif not text or len(text) > VALUE_MAX:
        raise InvalidFilter(f"give a word or phrase of 1 to {VALUE_MAX} characters", field="value")
    return Filter(filter_kind, text)


def link_hosts(html: str) -> set[str]:
    """The hosts the post links to (its anchors and bare URLs)."""
    hosts = set()
    for url in _HREF.findall(html) + _BARE_URL.findall(html):
        try:
            host = urlsplit(url).hostname
        except ValueError:
            continue
        if host:
            hosts.add(host.lower().rstrip("."))
    return hosts


def _word_pattern(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE)


def first_match(filters: Iterable[Filter], text: str, html: str) -> Filter | None:
    """The first filter the post (its plain ``text`` and its ``html``) matches, if any."""
    hosts: set[str] | None = None
    for candidate in filters:
        if candidate.kind == FilterKind.WORD:
            if _word_pattern(candidate.value).search(text):
                return candidate
        else:
            hosts = link_hosts(html) if hosts is None else hosts
            domain = candidate.value
            if any(h == domain or h.endswith("." + domain) for h in hosts):
                return candidate
    return None


async def filters_for(session: AsyncSession, community_id: int | None) -> list[Filter]:
    """The community's filters and the server's (server-wide ones alone for None)."""
    return [
        Filter(row.kind, row.value, row.community_id is None)
        for row in await store.list_filters(session, community_id)
    ]


async def add_filter(session: AsyncSession, community_id: int | None, new: Filter) -> bool:
    """Add a filter (server-wide for None); False if it was there already."""
    return await store.add_filter(session, community_id, new.kind, new.value)


async def remove_filter(session: AsyncSession, community_id: int | None, old: Filter) -> bool:
    """Remove a filter; False if there was none."""
    return await store.remove_filter(session, community_id, old.kind, old.value)

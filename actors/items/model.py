"""The write model of an item: what is stored of it, who tells of a change, and a practice's
revision. Built by its callers (publishing, inbound filing, links, adapters); written by
:mod:`actors.items.write`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actors.community import Community
from actors.content import ItemKind
from actors.events import EventDraft
from actors.urls import Urls
from actors.values import ValueClaim
from federation.vocab import JSON

__all__ = ["Item", "ItemKind", "Owner", "Revision", "Send", "community_item"]


@dataclass(frozen=True)
class Owner:
    """Whose an item is: the community that holds it, who wrote it, and whether it was
    written here."""

    community_id: int
    attributed_to: str
    local: bool

    @classmethod
    def community(cls, urls: Urls, community: Community) -> Owner:
        """The community's own item, by its Group actor."""
        return cls(community.id, urls.community(community.slug), local=True)

    @classmethod
    def remote(cls, community_id: int, author: str) -> Owner:
        """A member's post, or an item that came over a link, by its remote author."""
        return cls(community_id, author, local=False)


@dataclass(frozen=True)
class Item:
    """An item as it is to be stored: its AS2 object (``obj``, kept as sent or received)
    and what pages, feeds and queries read of it. ``owner``, ``kind``, ``published`` and
    where it replies are fixed when it is stored; a revision takes the rest. ``event`` is
    an event's time and place (None: none that can be read); ``value`` the claim of a
    value-creation story."""

    kind: ItemKind
    owner: Owner
    obj: JSON
    ap_type: str
    published: datetime
    updated: datetime | None = None
    title: str | None = None
    content_html: str = ""
    source_markdown: str | None = None
    summary: str | None = None
    status: str | None = None  # a practice's (emerging, established, ...)
    in_reply_to: str | None = None
    thread_root: str | None = None
    event: EventDraft | None = None
    value: ValueClaim | None = None  # a value-creation story's claim (actors.values)

    @property
    def ap_id(self) -> str:
        return str(self.obj["id"])


def community_item(
    urls: Urls,
    community: Community,
    kind: ItemKind,
    obj: JSON,
    published: datetime,
    updated: datetime | None = None,
) -> Item:
    """The community's own item (by its Group actor, typed as its object is); what is read
    of it is given with ``dataclasses.replace``."""
    owner = Owner.community(urls, community)
    return Item(kind, owner, obj, str(obj["type"]), published=published, updated=updated)


@dataclass(frozen=True)
class Send:
    """The activity that tells of a change, from ``community``: delivered to every follower
    (``fan_out``), or only written to its outbox (history, not news: a backfilled topic).
    Where no activity is sent (``send=None``), another path relays the change, or none."""

    urls: Urls
    community: Community
    fan_out: bool = True


@dataclass(frozen=True)
class Revision:
    """A practice's saved version: who made it, their note (None: none), and when."""

    editor: str
    note: str | None
    when: datetime

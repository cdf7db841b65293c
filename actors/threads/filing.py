"""Storing posts of a conversation that reached copub by fetching, not by delivery: in
the community's thread, as replies, relayed to nobody (they were not sent to the
community; its followers' servers fetch a conversation themselves)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from actors.community import Community
from actors.hooks import ObjectObserver
from actors.inbound.filing import FilingRules, filed_item
from actors.inbound.linked import authors
from actors.items import ItemKind, store_item
from actors.moderation.filters import filters_for, first_match
from actors.moderation.posting import texts, thread_locked
from actors.store import social
from actors.store.db import AsyncSession
from actors.threads.gather import parent_id
from federation.intake import DEFAULT_LIMITS, Limits
from federation.origins import same_origin
from federation.vocab import JSON

log = logging.getLogger(__name__)

NO_TAGS = FilingRules()


def author_of(obj: JSON) -> str | None:
    """The author who lives where the post does (gather.confirmed made sure there is one)."""
    return next((a for a in authors(obj) if same_origin(str(obj["id"]), a)), None)


async def file_posts(
    session: AsyncSession,
    community: Community,
    posts: Sequence[JSON],
    *,
    observers: Sequence[ObjectObserver] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Store ``posts`` (parents first) in ``community``'s threads; how many were new. A
    post held already (a removed one too), by someone the community blocks, matching one
    of its filters (or the server's), in a locked thread or replying to a post of another
    community, is left out. The posting policy and the rate limit are about what is
    relayed to followers: nothing fetched is."""
    stored = 0
    filters = await filters_for(session, community.id)
    for obj in posts:
        author = author_of(obj)
        if author is None or await social.get_object(session, str(obj["id"])) is not None:
            continue
        if await social.is_blocked(session, community.id, author):
            continue
        above = parent_id(obj)
        parent = await social.get_object(session, above) if above else None
        if parent is not None and parent.community_id != community.id:
            continue
        filtered = first_match(filters, *texts(obj)) is not None
        if filtered or await thread_locked(session, parent):
            log.info("%s not filed: a locked thread or a filter", obj["id"])
            continue
        item, _ = filed_item(community, obj, author, parent, NO_TAGS, limits)
        item = replace(item, kind=ItemKind.REPLY, event=None)
        await store_item(session, item, send=None, observers=observers)
        stored += 1
    if stored:
        log.info("%d posts of a conversation fetched", stored, extra={"community": community.slug})
    return stored

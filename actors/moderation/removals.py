"""A coordinator removes a post from the community (and restores it), or locks a thread
(and unlocks it).

A removed post is hidden as a withdrawn one is (pages, collections, the outbox) and kept,
so it can be restored; followers get what Lemmy's moderators send: the community's
``Delete`` with the reason, announced (FEP-1b12), and its ``Undo`` on a restore. A locked
thread relays no more replies (``actors.moderation.posting``); followers get ``Lock`` and
its ``Undo``. Each decision writes its modlog line and its activity in the caller's
transaction, and only when it changes something: doing it twice sends nothing more.

The console and ``copub remove|restore|lock|unlock`` call these.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from actors import outbound
from actors.community import Community
from actors.errors import Invalid, NotFound
from actors.hooks import ObjectObserver
from actors.items import ItemKind, Send, remove_item, restore_item
from actors.moderation import modlog
from actors.moderation.modlog import Moderator
from actors.store import links, mod_actions, social
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from actors.store.models_moderation import ModAction
from actors.urls import Urls
from federation.clock import utcnow
from federation.vocab import JSON

log = logging.getLogger(__name__)


class NotAPost(NotFound):
    """The URL names no post the community holds."""


class OwnItem(Invalid):
    """The community's own item: its coordinators withdraw it (``copub delete``)."""


async def find_post(
    session: AsyncSession, community: Community, url: str, *, own: bool = False
) -> ObjectRow:
    """The post (or reply, or item that came over a link) ``url`` in the community, shown
    or not; ``NotAPost`` if the community holds none, ``OwnItem`` for its own items unless
    ``own`` (a thread to lock may begin with the community's own story)."""
    url = url.strip()
    row = await social.get_object(session, url)
    if row is not None and row.community_id != community.id:
        held = row.kind == ItemKind.LINKED and await links.has_item(session, community.id, row.id)
        row = row if held else None
    if row is None:
        raise NotAPost(f"{community.slug} holds no post {url}")
    if row.local and not own:
        raise OwnItem(
            f"{url} is {community.slug}'s own {row.kind}: withdraw it with "
            f"copub delete {community.slug} {url}"
        )
    return row


# -- remove and restore --------------------------------------------------------------------


async def remove_post(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    post: str | ObjectRow,
    *,
    by: Moderator,
    reason: str = "",
    observers: Sequence[ObjectObserver] = (),
) -> bool:
    """Remove ``post`` (its URL, or its row found already: a ban's posts) from the
    community; False if it was not shown (removed or withdrawn already: nothing changes,
    nothing is sent)."""
    row = await find_post(session, community, post) if isinstance(post, str) else post
    reason = modlog.clean_reason(reason)
    send = Send(urls, community)
    if not await remove_item(session, row, send=send, reason=reason, observers=observers):
        return False
    await modlog.record(session, community, ModAction.REMOVED, row.ap_id, by, reason)
    log.info("removed %s", row.ap_id, extra={"community": community.slug})
    return True


async def restore_post(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    url: str,
    *,
    by: Moderator,
    observers: Sequence[ObjectObserver] = (),
) -> bool:
    """Show a removed post again; False if it was not removed (a post its author deleted
    stays deleted)."""
    row = await find_post(session, community, url)
    send = Send(urls, community)
    if not await restore_item(session, row, send=send, observers=observers):
        return False
    await modlog.record(session, community, ModAction.RESTORED, row.ap_id, by)
    log.info("restored %s", row.ap_id, extra={"community": community.slug})
    return True


# -- lock and unlock -----------------------------------------------------------------------


async def thread_of(session: AsyncSession, community: Community, url: str) -> ObjectRow:
    """The first post of the thread ``url`` is in (``url`` itself for a first post), the
    community's own story included."""
    row = await find_post(session, community, url, own=True)
    if row.thread_root is None or row.thread_root == row.ap_id:
        return row
    root = await social.get_object(session, row.thread_root)
    if root is None:
        raise NotAPost(f"the first post of the thread of {url} is not stored here")
    return root


async def lock_thread(
    session: AsyncSession,
    urls: Urls,
    community: Community,
    url: str,
    *,
    by: Moderator,
    reason: str = "",
) -> bool:
    """Lock the thread ``url`` is in: replies to it are no longer relayed. False if it was
    locked already."""
    root = await thread_of(session, community, url)
    if root.locked_at is not None:
        return False
    root.locked_at = utcnow()
    reason = modlog.clean_reason(reason)
    lock = outbound.build_lock(urls, community, root.ap_id, reason)
    await _announce(session, urls, community, lock, root.ap_id)
    await modlog.record(session, community, ModAction.LOCKED, root.ap_id, by, reason)
    return True


async def unlock_thread(
    session: AsyncSession, urls: Urls, community: Community, url: str, *, by: Moderator
) -> bool:
    """Unlock the thread ``url`` is in; False if it was not locked."""
    root = await thread_of(session, community, url)
    if root.locked_at is None:
        return False
    root.locked_at = None
    lock = await mod_actions.latest_sent(
        session, community.id, root.ap_id, "Lock", urls.moderation()
    ) or outbound.build_lock(urls, community, root.ap_id)
    undo = outbound.build_moderation_undo(urls, community, lock)
    await _announce(session, urls, community, undo, root.ap_id)
    await modlog.record(session, community, ModAction.UNLOCKED, root.ap_id, by)
    return True


async def _announce(
    session: AsyncSession, urls: Urls, community: Community, activity: JSON, about: str
) -> None:
    announce = outbound.announced(urls, community, activity)
    await outbound.send_to_followers(session, community, announce, object_id=about)
    log.info(
        "%s %s",
        activity.get("type"),
        about,
        extra={"community": community.slug, "activity_id": announce["id"]},
    )

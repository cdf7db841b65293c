"""Storing, revising, withdrawing and removing (or restoring) an item: the one place that
writes an item's row, an event's time and place, a practice's revisions, the activity that
tells of the change and what observers (:mod:`actors.hooks`) are told. All of it happens
in the caller's transaction: the item and what it causes commit together or not at all.

A practice keeps every version the caller names (``revision``); other kinds keep none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from actors import hooks, outbound
from actors.content import ItemKind
from actors.events import detail_row
from actors.hooks import ObjectObserver
from actors.items.model import Item, Revision, Send
from actors.store import practice, social
from actors.store import values as value_store
from actors.store.db import AsyncSession
from actors.store.models import ObjectRow
from federation.vocab import JSON

log = logging.getLogger(__name__)

# kinds that may be told as value-creation stories: a revision without a claim drops one
_TOLD = frozenset({ItemKind.STORY, ItemKind.LINKED})


async def store_item(
    session: AsyncSession,
    item: Item,
    *,
    send: Send | None,
    revision: Revision | None = None,
    observers: Sequence[ObjectObserver] = (),
) -> ObjectRow:
    """Store a new item: its row, its event details, a value-creation story's claim, a
    practice's first revision; tell the observers; send ``Create`` (``send``). The row has
    its id on return, except where the inserts wait for the commit: outbox only, with
    nothing that needs the id."""
    row = ObjectRow(
        ap_id=item.ap_id,
        community_id=item.owner.community_id,
        kind=item.kind,
        ap_type=item.ap_type,
        local=item.owner.local,
        attributed_to=item.owner.attributed_to,
        in_reply_to=item.in_reply_to,
        thread_root=item.thread_root,
        published=item.published,
        updated=item.updated,
    )
    _take(row, item)
    session.add(row)
    batched = send is not None and not send.fan_out and not observers
    if not batched or item.event is not None or item.value is not None or _keeps(row, revision):
        await session.flush()  # the details, the revision and the observers need its id
    if item.event is not None:
        session.add(detail_row(row.id, item.event))
    if item.value is not None:
        await value_store.save_claim(session, row.id, item.value)
    await _save_revision(session, row, revision)
    await hooks.object_stored(observers, session, row)
    if send is not None:
        await _tell(
            session, send, row, outbound.build_create(send.urls, send.community, row.ap_json)
        )
    return row


async def revise_item(
    session: AsyncSession,
    row: ObjectRow,
    item: Item,
    *,
    send: Send | None,
    revision: Revision | None = None,
    observers: Sequence[ObjectObserver] = (),
) -> ObjectRow:
    """Take ``item`` as the new version of ``row`` (updated at ``item.updated``, else now):
    its fields, its event details, a story's value claim, a practice's revision; tell the
    observers; send ``Update``. The kind, owner, thread and publication time stay as stored."""
    if item.kind != row.kind:
        raise ValueError(f"a revision keeps the kind: {row.ap_id} is {row.kind}, not {item.kind}")
    _take(row, item)
    row.ap_type = item.ap_type
    row.updated = item.updated or datetime.now(UTC)
    if item.event is not None:
        await practice.save_event_detail(session, detail_row(row.id, item.event))
    if item.value is not None or item.kind in _TOLD:
        await value_store.save_claim(session, row.id, item.value)
    await _save_revision(session, row, revision)
    await hooks.object_updated(observers, session, row)
    if send is not None:
        update = outbound.build_update(send.urls, send.community, row.ap_json, row.updated)
        await _tell(session, send, row, update)
    return row


async def withdraw_item(
    session: AsyncSession,
    row: ObjectRow,
    *,
    send: Send | None,
    observers: Sequence[ObjectObserver] = (),
) -> ObjectRow:
    """Withdraw an item: it is deleted (its URL answers 410), the activities that carried
    it leave the outbox; tell the observers; send ``Delete`` (a Tombstone)."""
    row.deleted_at = datetime.now(UTC)
    await social.withdraw_activities(session, row.ap_id)
    await hooks.object_deleted(observers, session, row)
    if send is not None:
        delete = outbound.build_delete(send.urls, send.community, row.ap_id, row.ap_type)
        await _tell(session, send, row, delete)
    return row


async def remove_item(
    session: AsyncSession,
    row: ObjectRow,
    *,
    send: Send | None,
    reason: str = "",
    observers: Sequence[ObjectObserver] = (),
) -> bool:
    """A coordinator removes an item: withdrawn as by its author (hidden, its activities out
    of the outbox), and marked removed, so it can be restored; tell the observers; send the
    community's ``Delete`` with the reason (Lemmy's removal), announced. False, and nothing
    done, when it is not shown (removed or withdrawn already)."""
    if row.deleted_at is not None:
        return False
    row.removed_at = row.deleted_at = datetime.now(UTC)
    await social.withdraw_activities(session, row.ap_id)
    await hooks.object_deleted(observers, session, row)
    if send is not None:
        removal = outbound.build_remove_item(send.urls, send.community, row.ap_id, reason)
        await _tell(session, send, row, outbound.announced(send.urls, send.community, removal))
    return True


async def restore_item(
    session: AsyncSession,
    row: ObjectRow,
    *,
    send: Send | None,
    observers: Sequence[ObjectObserver] = (),
) -> bool:
    """Bring back a removed item: shown again, the activities that carried it back in the
    outbox; the observers are told of it as newly stored; send ``Undo`` of the removal,
    announced. False, and nothing done, when it is not a removed item (one its author
    withdrew stays withdrawn)."""
    from actors.store import mod_actions  # moderation's tables: not mapped by every writer

    if row.removed_at is None:
        return False
    row.removed_at = row.deleted_at = None
    await mod_actions.republish_activities(session, row.ap_id)
    await hooks.object_stored(observers, session, row)
    if send is not None:
        urls, community = send.urls, send.community
        removal = await mod_actions.latest_sent(
            session, community.id, row.ap_id, "Delete", urls.moderation()
        ) or outbound.build_remove_item(urls, community, row.ap_id)
        undo = outbound.build_moderation_undo(urls, community, removal)
        await _tell(session, send, row, outbound.announced(urls, community, undo))
    return True


def _take(row: ObjectRow, item: Item) -> None:
    """What a new version changes: the object and what is read of it."""
    row.ap_json = item.obj
    row.title = item.title
    row.content_html = item.content_html
    row.source_markdown = item.source_markdown
    row.summary = item.summary
    row.status = item.status


def _keeps(row: ObjectRow, revision: Revision | None) -> bool:
    return revision is not None and row.kind == ItemKind.PRACTICE


async def _save_revision(session: AsyncSession, row: ObjectRow, revision: Revision | None) -> None:
    if revision is not None and _keeps(row, revision):
        await practice.add_revision(
            session, row, editor=revision.editor, change_note=revision.note, when=revision.when
        )


async def _tell(session: AsyncSession, send: Send, row: ObjectRow, activity: JSON) -> None:
    if send.fan_out:
        await outbound.send_to_followers(session, send.community, activity, object_id=row.ap_id)
    else:
        await outbound.record_in_outbox(session, send.community, activity, object_id=row.ap_id)
    log.log(
        logging.INFO if send.fan_out else logging.DEBUG,
        "%s %s %s",
        activity["type"],
        row.kind,
        row.ap_id,
        extra={"community": send.community.slug, "activity_id": activity["id"]},
    )

"""Join, Leave and Undo(Join) of a community's events (as Mobilizon sends them)."""

from __future__ import annotations

import logging

from actors import attendance
from actors.inbound.context import InboundContext
from actors.items import ItemKind
from actors.store import practice as store
from actors.store import queries, social
from actors.store.models import ObjectRow
from federation.vocab import JSON, actor_of, get_id, object_id_of

log = logging.getLogger(__name__)


def _is_open_event(row: ObjectRow | None) -> bool:
    return row is not None and row.kind == ItemKind.EVENT and row.local and row.deleted_at is None


async def on_join(ctx: InboundContext, activity: JSON) -> None:
    actor_id = actor_of(activity)
    event_id = object_id_of(activity)
    if not actor_id or not event_id or not ctx.urls.is_local(event_id):
        log.info("Join of %s ignored: not one of our events", event_id)
        return
    async with ctx.read() as session:
        row = await social.get_object(session, event_id)
        community = (
            await queries.get_community_by_id(session, row.community_id)
            if row is not None and _is_open_event(row)
            else None
        )
    if community is None:
        log.info("Join of %s ignored: no such event", event_id)
        return
    actor = await ctx.lookup_actor(actor_id, community)  # may fetch: outside the transaction
    async with ctx.write() as session:
        row = await social.get_object(session, event_id)
        if row is None or not _is_open_event(row):
            return
        await attendance.join(
            session, ctx.urls, community, row, activity, actor_id=actor_id, inbox=actor.inbox
        )


async def on_leave(ctx: InboundContext, activity: JSON) -> None:
    actor_id = actor_of(activity)
    event_id = object_id_of(activity)
    if not actor_id or not event_id:
        return
    async with ctx.write() as session:
        row = await social.get_object(session, event_id)
        if row is not None and _is_open_event(row):
            await attendance.leave(session, actor_id, event=row)


async def undoes_a_join(ctx: InboundContext, activity: JSON) -> bool:
    """An Undo naming its object by id alone: is that id a Join we accepted?"""
    actor_id = actor_of(activity)
    join_id = object_id_of(activity)
    if not actor_id or not join_id:
        return False
    async with ctx.read() as session:
        return await store.joined_with(session, actor_id, join_id)


async def on_undo_join(ctx: InboundContext, activity: JSON) -> None:
    """Undo of a Join, embedded (its object is the event) or by the Join's id alone."""
    actor_id = actor_of(activity)
    inner = activity.get("object")
    join_id = get_id(inner)
    event_id = object_id_of(inner) if isinstance(inner, dict) else None
    if not actor_id or not join_id:
        return
    async with ctx.write() as session:
        row = await social.get_object(session, event_id) if event_id else None
        if row is not None and _is_open_event(row):
            await attendance.leave(session, actor_id, event=row)
        else:
            await attendance.leave(session, actor_id, join_activity_id=join_id)

"""Reports from other servers (``Flag``): one row in one queue (actors/moderation/reports.py).

The inbox refused already what names no URL (federation.intake.flag_problem, a 400); what
comes here is read in every shape the fediverse sends and kept, even when it is about a
post we do not have (the coordinators see the URL)."""

from __future__ import annotations

import logging

from actors.inbound.context import InboundContext
from actors.moderation import reports
from federation.vocab import JSON

log = logging.getLogger(__name__)


async def on_flag(ctx: InboundContext, activity: JSON) -> None:
    try:
        flag = reports.read_flag(activity, ctx.urls, ctx.limits)
    except reports.InvalidReport as exc:
        log.info(
            "Flag %s not kept: %s",
            activity.get("id"),
            exc.message,
            extra={"activity_id": activity.get("id"), "activity_type": "Flag"},
        )
        return
    async with ctx.write() as session:
        community = await reports.queue_for(session, ctx.urls, flag, ctx.recipient_slug)
        kept = await reports.receive_flag(session, flag, community)
    log.info(
        "report %s from %s %s in the queue of %s",
        flag.activity_id,
        flag.reporter,
        "kept" if kept else "already kept",
        community.slug if community else "the server",
        extra={
            "activity_id": flag.activity_id,
            "activity_type": "Flag",
            "community": community.slug if community else None,
        },
    )

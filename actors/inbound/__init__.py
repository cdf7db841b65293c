"""The dispatch table: one handler per incoming activity type."""

from __future__ import annotations

from actors.inbound.context import InboundContext
from actors.inbound.events import on_join, on_leave, on_undo_join, undoes_a_join
from actors.inbound.filing import FilingRules
from actors.inbound.flags import on_flag
from actors.inbound.follow import on_follow, on_undo_follow
from actors.inbound.links import (
    on_accept,
    on_announce,
    on_group_update,
    on_linked_change,
    on_linked_create,
    on_reject,
)
from actors.inbound.moderation import moderate, on_moderation, on_moderation_announce
from actors.inbound.posts import inner_types, on_create, on_delete, on_reaction, on_update
from actors.inbound.who_knows import on_who_knows_request
from actors.settings import ContentSettings
from federation.intake import DEFAULT_LIMITS, Limits
from federation.routing import ActivityRouter
from federation.vocab import JSON, actor_of


async def on_undo(ctx: InboundContext, activity: JSON) -> None:
    kinds = inner_types(activity)
    inner = activity.get("object")
    if "Join" in kinds or (isinstance(inner, str) and await undoes_a_join(ctx, activity)):
        await on_undo_join(ctx, activity)
    elif "Follow" in kinds or isinstance(inner, str):
        await on_undo_follow(ctx, activity, inner if isinstance(inner, dict | str) else "")
    elif "Like" in kinds:
        await on_reaction(ctx, activity)
    elif kinds & {"Delete", "Lock", "Block"}:  # a linked Group takes back a decision
        await moderate(ctx, str(actor_of(activity)), activity)


def build_router(
    content: ContentSettings | None = None, limits: Limits = DEFAULT_LIMITS
) -> ActivityRouter[InboundContext]:
    """``content``: how members' posts are filed (``[content]`` of the settings);
    ``limits``: how much of a remote document is read (``[limits]``)."""
    rules = FilingRules.from_settings(content or ContentSettings())

    async def create(ctx: InboundContext, activity: JSON) -> None:
        if await on_linked_create(ctx, activity):  # from a linked community
            return
        if not await on_who_knows_request(ctx, activity):  # "leave me out of who-knows"
            await on_create(ctx, activity, rules)

    async def update(ctx: InboundContext, activity: JSON) -> None:
        if await on_group_update(ctx, activity):  # a Group's own actor document
            return
        if not await on_linked_change(ctx, str(actor_of(activity)), activity):
            await on_update(ctx, activity, rules)

    async def delete(ctx: InboundContext, activity: JSON) -> None:
        if not await on_linked_change(ctx, str(actor_of(activity)), activity):
            await on_delete(ctx, activity)

    async def announce(ctx: InboundContext, activity: JSON) -> None:
        if not await on_moderation_announce(ctx, activity):  # a linked Group's moderation
            await on_announce(ctx, activity)

    router: ActivityRouter[InboundContext] = ActivityRouter(limits)
    router.on("Follow", on_follow)
    router.on("Undo", on_undo)
    router.on("Create", create)
    router.on("Update", update)
    router.on("Delete", delete)
    router.on("Like", on_reaction)
    router.on("Join", on_join)
    router.on("Leave", on_leave)
    router.on("Flag", on_flag)  # reports (actors/moderation/reports.py)
    # links between communities (actors/inbound/links.py)
    router.on("Accept", on_accept)
    router.on("Reject", on_reject)
    router.on("Announce", announce)
    # moderation (actors/inbound/moderation.py)
    for verb in ("Add", "Remove", "Lock", "Block"):
        router.on(verb, on_moderation)
    return router

"""The dispatch table: one handler per incoming activity type."""

from __future__ import annotations

from actors.inbound.context import InboundContext
from actors.inbound.follow import on_follow, on_undo_follow
from actors.inbound.posts import inner_type, on_create, on_delete, on_reaction, on_update
from federation.routing import ActivityRouter
from federation.vocab import JSON


async def on_undo(ctx: InboundContext, activity: JSON) -> None:
    kind = inner_type(activity)
    inner = activity.get("object")
    if kind == "Follow" or (kind is None and isinstance(inner, str)):
        await on_undo_follow(ctx, activity, inner if isinstance(inner, dict | str) else "")
    elif kind == "Like":
        await on_reaction(ctx, activity)


def build_router() -> ActivityRouter[InboundContext]:
    router: ActivityRouter[InboundContext] = ActivityRouter()
    router.on("Follow", on_follow)
    router.on("Undo", on_undo)
    router.on("Create", on_create)
    router.on("Update", on_update)
    router.on("Delete", on_delete)
    router.on("Like", on_reaction)
    return router

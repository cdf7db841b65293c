"""The one dispatch table for incoming activities: ``router.on("Follow", on_follow)``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from federation.vocab import JSON

log = logging.getLogger(__name__)

Ctx = TypeVar("Ctx")
Handler = Callable[[Ctx, JSON], Awaitable[None]]


class ActivityRouter(Generic[Ctx]):
    """Maps an activity ``type`` to its handler; unknown types are normal and ignored."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler[Ctx]] = {}

    def on(self, activity_type: str, handler: Handler[Ctx]) -> None:
        if activity_type in self._handlers:
            raise ValueError(f"a handler for {activity_type} is already registered")
        self._handlers[activity_type] = handler

    def handles(self, activity_type: str) -> bool:
        return activity_type in self._handlers

    async def dispatch(self, ctx: Ctx, activity: JSON) -> bool:
        """Run the handler for ``activity``; False when its type has none."""
        activity_type = activity.get("type")
        handler = self._handlers.get(activity_type) if isinstance(activity_type, str) else None
        if handler is None:
            log.info(
                "ignoring activity of type %s",
                activity_type,
                extra={"activity_id": activity.get("id"), "activity_type": activity_type},
            )
            return False
        await handler(ctx, activity)
        return True

"""The one dispatch table for incoming activities: ``router.on("Follow", on_follow)``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from federation.intake import DEFAULT_LIMITS, Limits, bound_document
from federation.vocab import JSON, types_of

log = logging.getLogger(__name__)

Ctx = TypeVar("Ctx")
Handler = Callable[[Ctx, JSON], Awaitable[None]]


class ActivityRouter(Generic[Ctx]):
    """Maps an activity ``type`` to its handler; unknown types are normal and ignored.

    Before a handler sees an activity, its lists (addressing, tags, attachments, of the
    activity and the objects it embeds) are bounded by ``limits`` (federation/intake.py).
    A ``type`` may be a list (JSON-LD allows it): the one registered name it holds decides.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._handlers: dict[str, Handler[Ctx]] = {}

    def on(self, activity_type: str, handler: Handler[Ctx]) -> None:
        if activity_type in self._handlers:
            raise ValueError(f"a handler for {activity_type} is already registered")
        self._handlers[activity_type] = handler

    async def dispatch(self, ctx: Ctx, activity: JSON) -> bool:
        """Run the handler for ``activity``; False when its type has none (or several)."""
        activity = bound_document(activity, self.limits)
        types = types_of(activity)
        names = [name for name in self._handlers if name in types]
        if len(names) != 1:
            log.info(
                "ignoring activity of type %s",
                ", ".join(sorted(types)) or "(none)",
                extra={"activity_id": activity.get("id"), "activity_type": sorted(types)},
            )
            return False
        await self._handlers[names[0]](ctx, activity)
        return True

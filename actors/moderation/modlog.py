"""The public moderation log: who decided what (by role; by name when the community says
so), when, about which post or actor, and why. Every moderation decision writes its line
in the transaction that makes it, so the log never misses one that took effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from actors.community import Community
from actors.store import moderation as store
from actors.store.db import AsyncSession
from actors.store.models_moderation import ModAction, ModlogRow

REASON_MAX = 500


@dataclass(frozen=True)
class Moderator:
    """Who takes a moderation decision: a console account (its name and role), the
    operator at the command line, or the community's own rules (``policy``/``filter``)."""

    name: str
    role: str  # coordinator, admin, operator, policy, filter


OPERATOR = Moderator("operator", "operator")  # the ``copub`` command
RULES = Moderator("", "policy")  # the posting policy, a filter or a limit


def clean_reason(text: str | None) -> str:
    """A reason as the log keeps it: one line, at most ``REASON_MAX`` characters."""
    return " ".join((text or "").split())[:REASON_MAX]


async def record(
    session: AsyncSession,
    community: Community,
    action: ModAction,
    target: str,
    by: Moderator,
    reason: str = "",
) -> ModlogRow:
    return await store.add_modlog(
        session,
        community.id,
        action,
        target,
        reason=clean_reason(reason),
        role=by.role,
        moderator=by.name,
    )


@dataclass(frozen=True)
class LogLine:
    """A line as the public log shows it."""

    id: int
    action: str
    target: str
    reason: str
    role: str
    moderator: str | None  # None unless the community shows names
    when: datetime

    def to_json(self) -> dict[str, object]:
        line: dict[str, object] = {
            "id": self.id,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "role": self.role,
            "at": self.when.isoformat().replace("+00:00", "Z"),
        }
        if self.moderator is not None:
            line["moderator"] = self.moderator
        return line


async def public_log(
    session: AsyncSession, community: Community, *, before: int | None = None, limit: int = 50
) -> list[LogLine]:
    """The community's log, newest first, as anyone may read it."""
    rows = await store.list_modlog(session, community.id, before=before, limit=limit)
    return [
        LogLine(
            id=row.id,
            action=row.action.value,
            target=row.target,
            reason=row.reason,
            role=row.role,
            moderator=(row.moderator or None) if community.modlog_names else None,
            when=row.created_at,
        )
        for row in rows
    ]

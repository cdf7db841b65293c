"""What the moderation tests look for on the wire and in the store: announced moderation
activities, their shape beside Lemmy's (tests/fixtures/activities/moderation/), the log."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from actors.store.models import ActivityRow, ObjectRow
from actors.store.models_moderation import ModlogRow
from federation.vocab import JSON, get_id
from tests.flows.copub import Copub
from tests.flows.remote import Delivery

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activities" / "moderation"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

Predicate = Callable[[list[Delivery]], list[Delivery]]


def lemmy(name: str) -> JSON:
    """A recorded Lemmy activity (``lemmy-<name>.json``)."""
    document: JSON = json.loads((FIXTURES / f"lemmy-{name}.json").read_text(encoding="utf-8"))
    return document


def _undone(activity: Any) -> Any:
    """What an activity is about: its object's id, or for an Undo its inner one's."""
    inner = activity.get("object") if isinstance(activity, dict) else None
    if isinstance(activity, dict) and activity.get("type") == "Undo" and isinstance(inner, dict):
        return get_id(inner.get("object"))
    return get_id(inner)


def announced(verb: str, about: str, *, undo: bool = False, path: str | None = None) -> Predicate:
    """Verified Announces of a ``verb`` (of its Undo) whose object is ``about`` (to the
    inbox at ``path``)."""

    def check(got: list[Delivery]) -> list[Delivery]:
        found = []
        for d in got:
            inner = d.activity.get("object")
            if not (d.ok and d.type == "Announce" and isinstance(inner, dict)):
                continue
            if path is not None and d.path != path:
                continue
            if undo != (inner.get("type") == "Undo"):
                continue
            taken = inner.get("object") if undo else inner
            if isinstance(taken, dict) and taken.get("type") == verb and _undone(inner) == about:
                found.append(d)
        return found

    return check


def sent_alone(verb: str, about: str, path: str | None = None) -> Predicate:
    """Verified deliveries of a ``verb`` itself (not announced) about ``about``."""

    def check(got: list[Delivery]) -> list[Delivery]:
        return [
            d
            for d in got
            if d.ok
            and d.type == verb
            and _undone(d.activity) == about
            and (path is None or d.path == path)
        ]

    return check


def moderation_actor(group: str) -> str:
    """The moderation actor of the server ``group`` lives on."""
    parts = urlsplit(group)
    return f"{parts.scheme}://{parts.netloc}/moderation"


def assert_lemmy_shape(ours: JSON, recorded: JSON, group: str) -> None:
    """``ours`` has every field Lemmy's has (its ``@context`` aside, and the values Lemmy
    fills in per instance: ``expires``/``endTime``), of the same kinds, addressed to the
    Public and the community, and spoken by the server's moderation actor (a Service on the
    community's host: Lemmy takes a moderator's action from no Group)."""
    optional = {"@context", "expires", "endTime"}
    missing = set(recorded) - set(ours) - optional
    assert not missing, f"{ours.get('type')} lacks {sorted(missing)}"
    assert ours["type"] == recorded["type"]
    assert ours["actor"] == moderation_actor(group)
    assert PUBLIC in ours["to"]
    assert group in ours["cc"]
    for key in set(recorded) & set(ours) - optional:
        assert type(ours[key]) is type(recorded[key]) or key == "object", key


async def log_lines(copub: Copub, slug_id: int | None = None) -> list[tuple[str, str, str, str]]:
    """Every modlog line: (action, target, reason, role), oldest first."""
    query = select(ModlogRow.action, ModlogRow.target, ModlogRow.reason, ModlogRow.role)
    if slug_id is not None:
        query = query.where(ModlogRow.community_id == slug_id)
    async with copub.sessions() as session:
        rows = await session.execute(query.order_by(ModlogRow.id))
        return [(str(a), t, r, role) for a, t, r, role in rows]


async def stored(copub: Copub, object_id: str) -> ObjectRow:
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))
    assert row is not None, object_id
    return row


async def public_activities(copub: Copub, object_id: str) -> list[str]:
    """Types of the public activities about ``object_id`` (an Announce as Announce(inner))."""
    async with copub.sessions() as session:
        rows = await session.scalars(
            select(ActivityRow.ap_json)
            .where(ActivityRow.object_ap_id == object_id, ActivityRow.public.is_(True))
            .order_by(ActivityRow.id)
        )
        found = []
        for ap_json in rows:
            inner = ap_json.get("object")
            kind = inner.get("type", "Object") if isinstance(inner, dict) else "id"
            found.append(f"{ap_json['type']}({kind})")
        return found

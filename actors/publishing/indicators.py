"""Indicators of value creation: what coordinators record per cycle (a short fact with a
date, perhaps a number). The CLI and the console add and remove them through here."""

from __future__ import annotations

from actors.community import Community
from actors.errors import NotFound
from actors.store import values as store
from actors.store.db import AsyncSession
from actors.store.models_values import ValueIndicatorRow
from actors.values import Indicator, validate_indicator


class NoIndicator(NotFound):
    """No such indicator of this community."""

    field = "id"


async def add_indicator(
    session: AsyncSession, community: Community, indicator: Indicator, *, by: str
) -> ValueIndicatorRow:
    """Record an indicator (checked: its cycle, a fact of at most 300 characters)."""
    return await store.add_indicator(session, community.id, validate_indicator(indicator), by=by)


async def remove_indicator(session: AsyncSession, community: Community, indicator_id: int) -> None:
    if not await store.remove_indicator(session, community.id, indicator_id):
        raise NoIndicator(f"{community.slug} has no indicator {indicator_id}")

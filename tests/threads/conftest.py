"""Fixtures of the conversation tests: the flow tests' real copub on loopback and its
Mastodon-like peers (tests/flows/conftest.py), and ``thread_of`` to read what copub holds
of a thread."""

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import or_, select

from actors.store.models import ObjectRow
from tests.flows.conftest import community, copub, follower, remote, remote2
from tests.flows.copub import Copub

__all__ = ["community", "copub", "follower", "remote", "remote2", "thread_of"]

ThreadOf = Callable[[str], Awaitable[dict[str, tuple[str | None, str | None]]]]


@pytest.fixture
def thread_of(copub: Copub) -> ThreadOf:
    """root id -> {post id: (in_reply_to, thread_root)} of the posts copub holds in it."""

    async def read(root: str) -> dict[str, tuple[str | None, str | None]]:
        async with copub.sessions() as session:
            rows = await session.scalars(
                select(ObjectRow).where(or_(ObjectRow.ap_id == root, ObjectRow.thread_root == root))
            )
            return {r.ap_id: (r.in_reply_to, r.thread_root) for r in rows}

    return read

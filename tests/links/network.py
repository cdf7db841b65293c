"""Several copub servers (organizations) on loopback, linked by their coordinators' CLI.

``Org`` is one copub with one community (its slug) and helpers for what tests ask of it:
link another, wait for the link's state, count what it stored and sent, and whether its
work is done. :func:`settled` waits until every server is idle, twice in a row with the
same totals: no inbox item pending, no delivery queued or retrying, nothing new.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from actors import signing
from actors.store import queries
from actors.store.models import ActivityRow, DeliveryRow, InboxItemRow, ObjectRow
from actors.store.models_links import LinkItemRow, LinkRow
from federation.httpsig import sign_request
from federation.keys import Signer
from federation.vocab import AS2_MEDIA_TYPE, JSON, get_id, has_type
from tests.flows.copub import Copub, start_copub, wait_until
from tests.flows.remote import Delivery

sqlite_only = pytest.mark.parametrize("database_urls", ["sqlite"], indirect=True)
"""Run a three-server test on SQLite alone."""


@dataclass
class Org:
    """One organization: a copub server and its community."""

    copub: Copub
    slug: str

    @property
    def actor(self) -> str:
        return self.copub.actor(self.slug)

    @property
    def handle(self) -> str:
        return "@" + self.copub.urls.handle(self.slug)

    async def link(self, other: Org, policy: str = "announce") -> None:
        """The coordinator links this community with ``other``; waits for the Accept."""
        out = await self.copub.cli("link", self.slug, other.handle, "--policy", policy)
        assert "pending until it accepts" in out, out
        await self.wait_link(other, "accepted")

    async def unlink(self, other: Org) -> None:
        out = await self.copub.cli("unlink", self.slug, other.handle)
        assert f"unlinked {self.slug}" in out, out

    async def link_state(self, other: Org | str) -> str | None:
        """The state of this community's link to ``other`` (an Org or a Group's id)."""
        actor = other if isinstance(other, str) else other.actor
        async with self.copub.sessions() as session:
            community = await queries.get_community(session, self.slug)
            assert community is not None
            row = await session.scalar(
                select(LinkRow).where(
                    LinkRow.community_id == community.id, LinkRow.remote_actor_id == actor
                )
            )
            return row.state if row else None

    async def wait_link(self, other: Org | str, state: str) -> None:
        async def check() -> bool:
            return await self.link_state(other) == state

        await wait_until(check, 20, f"link {self.slug} -> {other} {state}")

    async def count(self, statement: Any) -> int:
        return await self.copub.count(statement)

    async def stored(self, object_id: str) -> int:
        """Rows of ``object_id`` here (objects) and records of it over links."""
        query = select(func.count()).select_from(ObjectRow).where(ObjectRow.ap_id == object_id)
        return await self.count(query)

    async def link_items(self, object_id: str) -> int:
        query = (
            select(func.count())
            .select_from(LinkItemRow)
            .join(ObjectRow, ObjectRow.id == LinkItemRow.object_id)
            .where(ObjectRow.ap_id == object_id)
        )
        return await self.count(query)

    async def received_about(self, object_id: str) -> int:
        """Activities this server received that mention ``object_id``."""
        query = (
            select(func.count())
            .select_from(InboxItemRow)
            .where(InboxItemRow.ap_raw.contains(object_id))
        )
        return await self.count(query)

    async def announces_of(self, object_id: str) -> int:
        query = (
            select(func.count())
            .select_from(ActivityRow)
            .where(ActivityRow.ap_type == "Announce", ActivityRow.object_ap_id == object_id)
        )
        return await self.count(query)

    async def snapshot(self) -> tuple[bool, int, int, int]:
        """(idle, activities, deliveries, inbox items)."""
        busy = await self.count(
            select(func.count())
            .select_from(DeliveryRow)
            .where(DeliveryRow.state.in_(("queued", "retrying")))
        ) + await self.count(
            select(func.count()).select_from(InboxItemRow).where(InboxItemRow.state == "pending")
        )
        totals = [
            await self.count(select(func.count()).select_from(table))
            for table in (ActivityRow, DeliveryRow, InboxItemRow)
        ]
        async with self.copub.sessions() as session:
            errors = list(
                await session.execute(
                    select(InboxItemRow.activity_id, InboxItemRow.error).where(
                        InboxItemRow.error.is_not(None)
                    )
                )
            )
        assert not errors, f"inbox items of {self.slug} failed: {errors}"
        return busy == 0, totals[0], totals[1], totals[2]

    async def signer(self) -> Signer:
        """The community's own key: to forge what it would sign."""
        async with self.copub.sessions() as session:
            community = await queries.get_community(session, self.slug)
        assert community is not None
        return signing.community_signer(community, self.copub.urls)


SLUGS = ("hospital", "clinic", "college")


@asynccontextmanager
async def running_orgs(
    database_urls: list[str], tmp_path: Path
) -> AsyncIterator[tuple[Org, Org, Org]]:
    """A, B and C: ``hospital``, ``clinic`` and ``college``, each a copub on its own
    database; fails the test if any of them answered with a server error."""
    servers: list[Copub] = []
    try:
        for url in database_urls:
            servers.append(await start_copub(url, tmp_path))
        found = []
        for server, slug in zip(servers, SLUGS, strict=True):
            await server.create_community(slug)
            found.append(Org(server, slug))
        yield found[0], found[1], found[2]
    finally:
        for server in servers:
            await server.server.close()
    errors = [e for server in servers for e in server.errors]
    assert not errors, f"copub answered with server errors: {errors}"


async def settled(*orgs: Org, timeout: float = 30) -> list[tuple[bool, int, int, int]]:
    """Wait until every server is idle in two consecutive rounds with equal totals."""
    deadline = time.monotonic() + timeout
    last: list[tuple[bool, int, int, int]] | None = None
    while True:
        now = [await org.snapshot() for org in orgs]
        if all(idle for idle, *_ in now) and now == last:
            return now
        last = now
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {timeout} s: {now}")
        await asyncio.sleep(0.05)  # polling the databases: there is no event to wait on


async def post_signed(signer: Signer, inbox: str, activity: JSON) -> int:
    """POST ``activity`` signed with ``signer`` (as Mastodon signs); the status."""
    body = json.dumps(activity).encode()
    headers = sign_request("POST", inbox, {"Content-Type": AS2_MEDIA_TYPE}, body, signer)
    headers.pop("Host", None)
    async with (
        aiohttp.ClientSession() as session,
        session.post(inbox, data=body, headers=headers) as response,
    ):
        return response.status


def carrying(object_id: str, path: str | None = None) -> Any:
    """A predicate: verified deliveries (to ``path``) of a Create of, or an Announce of,
    ``object_id`` (by id or embedded)."""

    def check(got: list[Delivery]) -> list[Delivery]:
        return [
            d for d in got if d.ok and (path is None or d.path == path) and _carries(d, object_id)
        ]

    return check


def changing(object_id: str, verb: str, path: str | None = None) -> Any:
    """A predicate: verified deliveries (to ``path``) of an ``Update``/``Delete`` (``verb``)
    of ``object_id``, sent as it is or inside an ``Announce``."""

    def check(got: list[Delivery]) -> list[Delivery]:
        found = []
        for d in got:
            change = d.activity.get("object") if d.type == "Announce" else d.activity
            if not (d.ok and (path is None or d.path == path) and isinstance(change, dict)):
                continue
            if has_type(change, verb) and get_id(change.get("object")) == object_id:
                found.append(d)
        return found

    return check


def _carries(d: Delivery, object_id: str) -> bool:
    obj = d.activity.get("object")
    if d.type == "Announce" and isinstance(obj, dict) and obj.get("type") == "Create":
        obj = obj.get("object")
    if d.type not in ("Create", "Announce"):
        return False
    return obj == object_id or (isinstance(obj, dict) and obj.get("id") == object_id)

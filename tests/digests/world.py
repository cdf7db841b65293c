"""One digest test's world: copub with ``[email]``, its community, the SMTP server, a
DigestService on a settable clock, and the steps a subscriber takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from actors.community import Community
from actors.digests.service import DigestService
from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.models import ObjectRow
from actors.store.models_digests import DigestSendRow
from tests.digests.clock import Clock
from tests.digests.smtp import MailServer, part
from tests.pages import builders

ADDRESS = "nurse@hospital.example"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def link_in(message: EmailMessage, what: str) -> str:
    text = part(message, "plain")
    found = re.search(rf"https://cop\.test/c/nightshift/digest/{what}\?token=[\w.%-]+", text)
    assert found, f"no {what} link in:\n{text}"
    return found.group(0)


@dataclass
class World:
    client: TestClient[Any, Any]
    community: Community
    mail: MailServer
    service: DigestService
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]

    async def page(self, path: str) -> str:
        return await (await self.client.get(path, headers={"Accept": "text/html"})).text()

    async def subscribe(self, address: str = ADDRESS, frequency: str = "weekly") -> str:
        form = {"email": address, "frequency": frequency}
        response = await self.client.post("/c/nightshift/digest", data=form)
        text = await response.text()
        assert response.status == 200, text
        return text

    async def confirm(self, address: str = ADDRESS) -> None:
        """Follow the confirmation email's link: a page, whose button confirms."""
        (message,) = [m for m in self.mail.to(address) if "Confirm" in m["Subject"]]
        link = path_of(link_in(message, "confirm"))
        page = await self.client.get(link)
        assert page.status == 200
        assert 'method="post"' in await page.text()
        token = link.split("token=", 1)[1]
        done = await self.client.post("/c/nightshift/digest/confirm", data={"token": token})
        assert done.status == 200, await done.text()
        assert "You are subscribed" in await done.text()

    async def subscribed(self, address: str = ADDRESS) -> None:
        before = len(self.mail.messages)
        await self.subscribe(address)
        await self.mail.wait_for(before + 1)  # sent before the page answered
        await self.confirm(address)

    async def story(self, title: str, text: str = "Text.", **kw: Any) -> ObjectRow:
        return await builders.add_story(self.sessions, self.community, title, text, **kw)

    async def thread(self, html: str, *, replies: int) -> ObjectRow:
        """A member's post with ``replies`` replies from other people."""
        root = await builders.add_post(
            self.sessions, self.community, builders.actor_url("ana"), html=html
        )
        for n in range(replies):
            actor = builders.actor_url(f"member{n}")
            reply = await builders.add_post(
                self.sessions, self.community, actor, reply_to=root.ap_id
            )
            async with self.sessions.begin() as session:
                stored = await session.get(ObjectRow, reply.id)
                assert stored is not None
                stored.thread_root = root.ap_id
        return root

    async def next_digest(self) -> EmailMessage:
        """Close the week and run a pass: the one digest it sends."""
        before = len(self.mail.messages)
        self.clock.next_week()
        report = await self.service.run_pass()
        assert report.sent == 1, report
        return (await self.mail.wait_for(before + 1))[before]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessions() as session:
            query = select(func.count()).select_from(model).where(*where)
            return int(await session.scalar(query) or 0)

    async def send_row(self) -> DigestSendRow:
        async with self.sessions() as session:
            return (await session.scalars(select(DigestSendRow))).one()

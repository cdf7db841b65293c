"""Scenario 9's readers of email: the monthly meeting's community sends its digest.

Given copub on loopback with [email] pointing at a real SMTP server (aiosmtpd), a
community and a story published through the CLI; when two nurses subscribe on the
community page and follow their confirmation links, and the week closes; then each gets
the digest once, in text and HTML, with the story in it; one unsubscribes from the link
in the digest, the other with her mail client's one-click POST (List-Unsubscribe-Post),
and the next week's digest goes to nobody.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from actors.web.digest_pages import DIGESTS
from tests.digests.clock import Clock
from tests.digests.smtp import MailServer, part
from tests.flows.copub import Copub, start_copub

NURSES = ("ana@hospital.example", "bo@clinic.example")


@pytest.fixture
async def copub_and_mail(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Copub, MailServer]]:
    """copub on loopback whose [email] points at a real SMTP server."""
    async with MailServer() as mail:
        email = {"host": "127.0.0.1", "port": mail.port, "security": "none",
                 "from_address": "digests@cop.test", "check_minutes": 60.0}  # fmt: skip
        server = await start_copub(database_url, tmp_path, email=email)
        try:
            yield server, mail
        finally:
            await server.server.close()
    assert not server.errors, f"copub answered with server errors: {server.errors}"


def link(text: str, base: str, what: str) -> str:
    found = re.search(rf"{re.escape(base)}/c/nightshift/digest/{what}\?token=[\w.%-]+", text)
    assert found, text
    return found.group(0)


async def form_post(http: aiohttp.ClientSession, url: str, data: dict[str, str] | str) -> str:
    async with http.post(url, data=data) as response:
        body = await response.text()
        assert response.status == 200, body
        return body


async def test_a_digest_reaches_subscribers_once_and_both_unsubscribe_ways_work(
    copub_and_mail: tuple[Copub, MailServer],
) -> None:
    copub, mail = copub_and_mail
    base = copub.base_url
    await copub.create_community("nightshift")
    await copub.publish("nightshift", "Night of the missing key", "We found it in the fridge.")
    async with aiohttp.ClientSession() as http:
        # Given two nurses subscribed from the community page, each confirming her link
        async with http.get(f"{base}/c/nightshift", headers={"Accept": "text/html"}) as page:
            assert f'action="{base}/c/nightshift/digest"' in await page.text()
        for number, address in enumerate(NURSES, start=1):
            await form_post(http, f"{base}/c/nightshift/digest", {"email": address})
            confirmation = (await mail.wait_for(number))[-1]
            assert confirmation["To"] == address
            url = link(part(confirmation, "plain"), base, "confirm")
            async with http.get(url) as shown:
                assert "Confirm" in await shown.text()
            token = url.split("token=", 1)[1]
            done = await form_post(http, f"{base}/c/nightshift/digest/confirm", {"token": token})
            assert "You are subscribed" in done
        # When the week closes and the schedule makes its pass
        service = copub.app[DIGESTS]
        clock = Clock()
        service.clock = clock
        clock.next_week()
        assert (await service.run_pass()).sent == 2
        assert (await service.run_pass()).sent == 0
        # Then each got the digest once, in text and HTML
        digests = (await mail.wait_for(4))[2:]
        assert sorted(m["To"] for m in digests) == sorted(NURSES)
        for digest in digests:
            assert digest.get_content_type() == "multipart/alternative"
            assert "Night of the missing key" in part(digest, "plain")
            assert "Night of the missing key" in part(digest, "html")
        by_address = {m["To"]: m for m in digests}
        # One unsubscribes from the link (a page, then its button)...
        url = link(part(by_address[NURSES[0]], "plain"), base, "unsubscribe")
        async with http.get(url) as shown:
            assert "Unsubscribe" in await shown.text()
        token = url.split("token=", 1)[1]
        gone = await form_post(http, f"{base}/c/nightshift/digest/unsubscribe", {"token": token})
        assert "You are unsubscribed" in gone
        # ...the other with her mail client's one-click POST (RFC 8058)
        header = by_address[NURSES[1]]["List-Unsubscribe"].strip("<>")
        assert by_address[NURSES[1]]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        async with http.post(
            header, data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:  # fmt: skip
            assert response.status == 200
    # And the next week's digest goes to nobody
    await copub.publish("nightshift", "Another night", "Quiet.")
    clock.next_week()
    report = await service.run_pass()
    assert (report.queued, report.sent) == (0, 0)
    assert len(mail.messages) == 4

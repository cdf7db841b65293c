"""A real SMTP server for tests: aiosmtpd's protocol on the test's own event loop, on
127.0.0.1 (a port of its own). It keeps what it accepted, and can refuse on cue.

- ``refuse_data``: replies given, one per message, at the end of DATA instead of 250
  (``"451 4.3.0 try later"``, ``"554 5.0.0 no"``): a refusal, nothing accepted;
- ``refuse_rcpt``: the same at RCPT TO;
- ``await wait_for(n)``: until ``n`` messages were accepted (an event, no polling).
"""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.smtp import SMTP, Envelope, Session


class MailServer:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as they came over the wire
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_data: list[str] = []
        self.refuse_rcpt: list[str] = []
        self.refused = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()

    async def handle_RCPT(  # aiosmtpd calls its hooks by these names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse_rcpt:
            self.refused += 1
            return self.refuse_rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            self.refused += 1
            return self.refuse_data.pop(0)
        raw = cast(bytes, envelope.original_content or envelope.content)
        message = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
        async with self._arrived:
            self.messages.append(message)
            self.raw.append(raw)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 2.0.0 accepted"

    async def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    async def __aenter__(self) -> MailServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="mail.test", loop=loop), "127.0.0.1", 0
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def part(message: EmailMessage, subtype: str) -> str:
    """The text of the ``text/<subtype>`` part."""
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return cast(str, body.get_content())

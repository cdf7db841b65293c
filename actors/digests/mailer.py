"""Email out: a message in text and HTML, and the operator's SMTP server (aiosmtplib).

:func:`build_message` makes a ``multipart/alternative`` message (the text first, the HTML
last: mail clients show the last part they can). A digest carries ``List-Unsubscribe``
(an https link) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058: the
mail client POSTs to that link and the address is deleted, no page to click through).

:class:`SmtpMailer` keeps one connection open across sends and reconnects after an error.
What the server answers decides what happens next:

- a refusal (a 4xx or 5xx reply): :class:`MailRefused`, nothing was delivered; ``permanent``
  when the server refused the recipient with a 5xx (the address does not exist);
- a broken connection or a timeout: :class:`MailFailed`; if it broke after the message was
  sent, the server may have taken it (the caller decides what a retry risks).
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

import aiosmtplib

from actors.digests.config import EmailSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One email to one person."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    unsubscribe_url: str | None = None  # a digest: the List-Unsubscribe headers
    list_id: str | None = None  # "Night shift digest <nightshift.digest.cop.example>"


class MailRefused(Exception):
    """The SMTP server answered no: nothing was delivered."""

    def __init__(self, code: int, reply: str, *, permanent: bool = False) -> None:
        super().__init__(f"SMTP {code}: {reply}")
        self.code = code
        self.reply = reply
        self.permanent = permanent


class MailFailed(Exception):
    """The connection failed or timed out (before or after the message went)."""


# Headers fold at spaces only: a long List-Unsubscribe URL stays one word, never turned
# into an RFC 2047 encoded-word (which mail clients would not read as a URL).
POLICY = SMTP.clone(max_line_length=998)


def build_message(settings: EmailSettings, mail: Outgoing, *, date: datetime) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = formataddr((settings.from_name, settings.from_address))
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    if mail.list_id:
        message["List-Id"] = mail.list_id
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def _tls_context(settings: EmailSettings) -> ssl.SSLContext | None:
    if settings.security == "none":
        return None
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(settings.ca_file)
    return context


def smtp_client(settings: EmailSettings) -> aiosmtplib.SMTP:
    """A client for ``[email]``'s server, not connected yet."""
    return aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        username=settings.username or None,
        password=settings.secret() if settings.username else None,
        timeout=settings.timeout_seconds,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=_tls_context(settings),
    )


class SmtpMailer:
    """Sends through ``[email]``'s server; one connection, opened on the first send."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; raises :class:`MailRefused` or :class:`MailFailed`."""
        try:
            if self._smtp is None or not self._smtp.is_connected:
                self._smtp = smtp_client(self.settings)
                await self._smtp.connect()
            # flattened here, with POLICY: aiosmtplib's send_message would fold with its own
            await self._smtp.sendmail(
                self.settings.from_address, [str(message["To"])], message.as_bytes(policy=POLICY)
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self.close()
            first = exc.recipients[0]
            raise MailRefused(first.code, first.message, permanent=first.code >= 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            raise MailRefused(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            raise MailFailed(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()


async def probe(settings: EmailSettings) -> str | None:
    """Connect to the server as a send would (TLS, sign-in) and leave; what went wrong, or
    None (``copub doctor``). Sends nothing."""
    smtp = smtp_client(settings)
    try:
        await smtp.connect()
        await smtp.quit()
    except aiosmtplib.SMTPResponseException as exc:
        return f"{settings.host}:{settings.port} answered {exc.code} {exc.message}"
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        return f"cannot reach {settings.host}:{settings.port}: {why}"
    finally:
        smtp.close()
    return None

"""Subscribing to a community's digest: double opt-in, confirmation, unsubscribing.

- **Subscribe**: the form's address gets a confirmation email (sent at once, in the
  request: its link's secret exists only in that email, the database keeps its hash).
  Nothing else is ever sent to an unconfirmed address, and the answer never tells whether
  an address was already subscribed. An address gets at most one confirmation email
  every ``RESEND_AFTER``; the server sends at most ``[email] confirmations_per_hour``.
- **Confirm**: the link's secret matches the stored hash (constant time), within
  ``confirm_valid_days``; it works once. Unconfirmed addresses are deleted after that.
- **Unsubscribe**: the digest's link (or its one-click POST) deletes the address; so does
  the "not you?" link of a confirmation email (the confirmation token, while unused).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from email.utils import make_msgid
from enum import StrEnum

from actors.community import Community
from actors.digests import tokens
from actors.digests.config import EmailSettings
from actors.digests.content import ConfirmationLinks
from actors.digests.mailer import MailFailed, MailRefused, Outgoing, SmtpMailer, build_message
from actors.digests.periods import Frequency
from actors.digests.service import Renderer
from actors.store import digests
from actors.store.db import AsyncSession, async_sessionmaker
from actors.urls import Urls

log = logging.getLogger(__name__)

RESEND_AFTER = timedelta(minutes=10)
MAX_ADDRESS = 254  # RFC 5321's limit on a path
# local@domain: the characters RFC 5322's dot-atom allows; a domain with a dot. No spaces,
# quotes or line breaks: nothing that could reach a header as anything but an address.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)

Sessions = async_sessionmaker[AsyncSession]


class Subscribed(StrEnum):
    SENT = "sent"  # a confirmation email went
    QUIET = "quiet"  # nothing to send (confirmed already, or a link sent minutes ago)
    BUSY = "busy"  # the server's hourly limit of confirmation emails
    MAIL_FAILED = "mail_failed"  # the SMTP server did not take it


class Unsubscribed(StrEnum):
    DELETED = "deleted"
    NOT_SUBSCRIBED = "not_subscribed"  # no such subscription (any more)
    INVALID = "invalid"  # a token that is not this community's or not genuine


class RequestLimit:
    """At most ``per_hour`` subscribe requests an hour from one requesting address, in this
    process (the form is open to anyone: one address cannot use up the server's hourly
    confirmations, nor mail a list of strangers). Remembers ``size`` addresses at most."""

    def __init__(self, per_hour: int = 5, size: int = 10_000) -> None:
        self.per_hour = per_hour
        self.size = size
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, requester: str, now: float) -> bool:
        times = self._seen.pop(requester, None) or deque()
        while times and times[0] <= now - 3600:
            times.popleft()
        allowed = len(times) < self.per_hour
        if allowed:
            times.append(now)
        self._seen[requester] = times
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return allowed


def normalize_address(text: str) -> str | None:
    """The address in lower case, or None when it does not look like one."""
    address = text.strip()
    if len(address) > MAX_ADDRESS or not _ADDRESS.match(address):
        return None
    return address.lower()


async def subscribe(
    sessions: Sessions,
    settings: EmailSettings,
    urls: Urls,
    renderer: Renderer,
    community: Community,
    address: str,
    frequency: Frequency,
    now: datetime,
) -> Subscribed:
    """Ask ``address`` to confirm a subscription to ``community``'s digest."""
    async with sessions.begin() as session:
        row = await digests.find(session, community.id, address)
        if row is not None and row.confirmed_at is not None:
            return Subscribed.QUIET
        sent_at = row.confirm_sent_at if row is not None else None
        if sent_at is not None and now - sent_at < RESEND_AFTER:
            return Subscribed.QUIET
        hour_ago = now - timedelta(hours=1)
        if await digests.confirmations_since(session, hour_ago) >= settings.confirmations_per_hour:
            log.warning("digests: the hourly limit of confirmation emails is reached")
            return Subscribed.BUSY
        if row is None:
            row = await digests.add_pending(session, community.id, address, frequency, now)
        token = tokens.issue_confirmation(row.id)
        await digests.set_confirmation(session, row, frequency, token.digest, now)
        subscription_id = row.id
    links = ConfirmationLinks(
        community_url=urls.community(community.slug),
        frequency=frequency,
        confirm_url=urls.digest_confirm(community.slug, token.text),
        forget_url=urls.digest_unsubscribe(community.slug, token.text),
        valid_days=settings.confirm_valid_days,
    )
    rendered = renderer.confirmation(community, links)
    mail = Outgoing(
        to=address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=make_msgid("confirm", domain=urls.domain.split(":", 1)[0]),
    )
    mailer = SmtpMailer(settings)
    try:
        await mailer.send(build_message(settings, mail, date=now))
    except (MailRefused, MailFailed) as exc:
        log.warning("digests: the confirmation email of subscription %d failed: %s",
                    subscription_id, exc)  # fmt: skip
        async with sessions.begin() as session:
            await digests.confirmation_not_sent(session, subscription_id)
        return Subscribed.MAIL_FAILED
    finally:
        await mailer.close()
    log.info("digests: confirmation sent for subscription %d", subscription_id,
             extra={"community": community.slug})  # fmt: skip
    return Subscribed.SENT


async def confirm(
    sessions: Sessions, settings: EmailSettings, community: Community, token: str, now: datetime
) -> str | None:
    """Confirm the subscription of ``token``; its frequency, or None when the link is not
    genuine, not this community's, used already or expired."""
    parts = tokens.split(token)
    if parts is None:
        return None
    ident, secret = parts
    valid = timedelta(days=settings.confirm_valid_days)
    async with sessions.begin() as session:
        row = await digests.get(session, ident)
        if row is None or row.community_id != community.id:
            return None
        if not tokens.confirmation_matches(secret, row.confirm_hash):
            return None
        if row.confirm_sent_at is None or now - row.confirm_sent_at > valid:
            return None
        await digests.mark_confirmed(session, row, now)
        log.info("digests: subscription %d confirmed", row.id,
                 extra={"community": community.slug})  # fmt: skip
        return row.frequency


async def unsubscribe(
    sessions: Sessions, link_key: bytes, community: Community, token: str
) -> Unsubscribed:
    """Delete the subscription the digest's link names (its address goes with it)."""
    parts = tokens.split(token)
    if parts is None:
        return Unsubscribed.INVALID
    ident, secret = parts
    async with sessions.begin() as session:
        row = await digests.get(session, ident)
        if row is None:
            return Unsubscribed.NOT_SUBSCRIBED
        genuine = tokens.unsubscribe_matches(link_key, row.id, row.email, secret) or (
            tokens.confirmation_matches(secret, row.confirm_hash)  # "not you?" in a confirmation
        )
        if row.community_id != community.id or not genuine:
            return Unsubscribed.INVALID
        await digests.delete_subscription(session, row.id)
    log.info("digests: subscription %d deleted by its owner", ident,
             extra={"community": community.slug})  # fmt: skip
    return Unsubscribed.DELETED

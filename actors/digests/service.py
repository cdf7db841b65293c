"""The digest schedule and the digest queue's sender.

One pass (:meth:`DigestService.run_pass`): queue the digest of each confirmed
subscription's last closed period (once: ``digest_sends`` is unique per subscription and
period), forget unconfirmed addresses whose link expired, then send the due digests one
at a time through the SMTP server. :meth:`DigestService.run` makes a pass every ``[email]
check_minutes`` in the one process of a fleet holding the ``digests`` singleton
(``actors.store.singletons``).

What a send guarantees:

- A refusal (a 4xx or 5xx reply) delivered nothing: the digest is tried again with
  backoff (at most ``max_attempts`` times, and not after ``give_up_after_hours`` from its
  period's end); a recipient refused with a 5xx is given up at once.
- A digest the server accepted is marked done, with the time it was sent, in one
  statement guarded by the lease: a finished job is never claimed again.
- A crash loses nothing: the lease expires and the job is due again.
- A crash (or a lost connection) between the server's acceptance and that statement is
  the one case a digest can go twice. The retry knows it (an attempt started and its
  outcome was never written: logged as "in doubt") and sends the same message with the
  same ``Message-ID``, the idempotency key mail systems drop duplicates by. So: at least
  once, exactly once but for that window, and never a second copy with another id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from actors.community import Community
from actors.digests import tokens
from actors.digests.config import EmailSettings
from actors.digests.content import ConfirmationLinks, Digest, Rendered
from actors.digests.mailer import MailFailed, MailRefused, Outgoing, SmtpMailer, build_message
from actors.digests.periods import Frequency, Period, containing
from actors.hooks import Panel
from actors.store import digest_queries, digests, queries
from actors.store.db import AsyncSession, async_sessionmaker
from actors.store.singletons import run_singleton
from actors.store.states import JobState
from actors.urls import Urls
from federation.clock import utcnow
from federation.delivery.retry import RetryPolicy

log = logging.getLogger(__name__)

SINGLETON = "digests"
KEEP_SENDS = timedelta(days=400)  # records of sent digests, then forgotten


class Renderer(Protocol):
    """Makes the emails (``actors.web.digest_mail``: templates live in actors.web)."""

    def digest(self, digest: Digest, *, unsubscribe_url: str) -> Rendered: ...

    def confirmation(self, community: Community, links: ConfirmationLinks) -> Rendered: ...


@dataclass
class PassReport:
    queued: int = 0
    sent: int = 0
    empty: int = 0  # nothing happened in the period: nothing sent
    unsubscribed: int = 0  # the address went before its digest did
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"queued {self.queued}, sent {self.sent}, nothing to say {self.empty}, "
            f"retrying {self.retrying}, failed {self.failed}"
        )


def retry_policy(settings: EmailSettings) -> RetryPolicy:
    """A minute, doubling up to an hour, ``max_attempts`` tries (the age limit is the
    period's: see ``give_up_after_hours``)."""
    return RetryPolicy(
        base_seconds=60.0,
        factor=2.0,
        max_delay_seconds=3600.0,
        jitter=0.1,
        max_age_seconds=None,
        max_attempts=settings.max_attempts,
    )


class DigestService:
    def __init__(
        self,
        settings: EmailSettings,
        sessions: async_sessionmaker[AsyncSession],
        urls: Urls,
        renderer: Renderer,
        link_key: bytes,
        *,
        clock: Callable[[], datetime] = utcnow,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.urls = urls
        self.renderer = renderer
        self.link_key = link_key
        self.new_mailer: Callable[[], SmtpMailer] = lambda: SmtpMailer(settings)
        self.clock = clock
        self.policy = policy or retry_policy(settings)
        engine = sessions.kw.get("bind")
        self.postgresql = getattr(getattr(engine, "dialect", None), "name", "") == "postgresql"
        self.lease_seconds = 6 * settings.timeout_seconds + 60
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """End :meth:`run` after the digest under way (cancelling alone is not enough on
        Python 3.11: a cancellation that meets a socket read just finishing is lost)."""
        self._stopping.set()

    # -- the schedule ---------------------------------------------------------------------

    async def schedule(
        self, now: datetime | None = None, *, community_id: int | None = None
    ) -> int:
        """Queue the digests that are due; forget expired unconfirmed addresses and old
        records. How many digests were queued."""
        now = now or self.clock()
        expired = now - timedelta(days=self.settings.confirm_valid_days)
        async with self.sessions.begin() as session:
            queued = await digests.enqueue_due(
                session, now, self.urls.domain, community_id=community_id
            )
            await digests.purge_unconfirmed(session, expired)
            await digests.forget_old_sends(session, now - KEEP_SENDS)
        if queued:
            log.info("digests: queued %d", queued, extra={"queued": queued})
        return queued

    # -- the sender -----------------------------------------------------------------------

    async def send_due(self, *, community_id: int | None = None) -> PassReport:
        """Send every digest due now (of ``community_id``, if given), one at a time; the
        connection is closed after."""
        report = PassReport()
        made: dict[tuple[int, datetime, str], Digest | None] = {}
        mailer = self.new_mailer()  # a connection of this pass's own
        try:
            while not self._stopping.is_set():
                now = self.clock()
                async with self.sessions.begin() as session:
                    job = await digests.claim(
                        session, now, self.lease_seconds, postgresql_=self.postgresql,
                        community_id=community_id,
                    )  # fmt: skip
                if job is None:
                    return report
                await self._send_one(job, mailer, made, report)
            return report
        finally:
            await mailer.close()

    async def _send_one(
        self,
        job: digests.ClaimedSend,
        mailer: SmtpMailer,
        made: dict[tuple[int, datetime, str], Digest | None],
        report: PassReport,
    ) -> None:
        if job.email is None or job.frequency is None:
            report.unsubscribed += 1
            await self._finish(job, JobState.DONE, error="unsubscribed before it went")
            return
        try:
            key = (job.community_id, job.period_start, job.frequency)
            if key not in made:
                made[key] = await self._digest(job.community_id, job.period_start, job.frequency)
            digest = made[key]
            mail = None if digest is None or digest.is_empty else self._mail(job, job.email, digest)
        except Exception as exc:  # a bug or the database away: retried like a refusal, bounded
            log.exception("digest %s could not be made", job.message_id)
            await self._retry(job, f"not made: {type(exc).__name__}: {exc}", report)
            return
        if mail is None:
            report.empty += 1
            await self._finish(job, JobState.DONE, error="nothing happened: nothing sent")
            return
        if job.in_doubt:
            log.warning(
                "digest %s: an earlier attempt's outcome is unknown; sending it again with "
                "the same Message-ID",
                job.message_id,
                extra={"digest_send": job.id},
            )
        await self._deliver(job, mailer, mail, report)

    def _mail(self, job: digests.ClaimedSend, address: str, digest: Digest) -> EmailMessage:
        token = tokens.unsubscribe_token(self.link_key, job.subscription_id, address)
        unsubscribe = self.urls.digest_unsubscribe(digest.community_slug, token)
        rendered = self.renderer.digest(digest, unsubscribe_url=unsubscribe)
        host = self.urls.domain.split(":", 1)[0]
        mail = Outgoing(
            to=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=job.message_id,
            unsubscribe_url=unsubscribe,
            list_id=f"{digest.community_name} digest <{digest.community_slug}.digest.{host}>",
        )
        return build_message(self.settings, mail, date=self.clock())

    async def _deliver(
        self, job: digests.ClaimedSend, mailer: SmtpMailer, message: EmailMessage,
        report: PassReport,
    ) -> None:  # fmt: skip
        try:
            await mailer.send(message)
        except MailRefused as exc:
            if exc.permanent:
                await self._finish(job, JobState.FAILED, error=f"refused: {exc}")
                report.failed += 1
            else:
                await self._retry(job, str(exc), report)
            return
        except MailFailed as exc:
            await self._retry(job, str(exc), report)
            return
        await self._finish(job, JobState.DONE, sent=True)
        report.sent += 1
        log.info("digest %s sent", job.message_id, extra={"digest_send": job.id})

    async def _digest(
        self, community_id: int, period_start: datetime, frequency: str
    ) -> Digest | None:
        period: Period = containing(period_start, Frequency(frequency))
        async with self.sessions() as session:
            community = await queries.get_community_by_id(session, community_id)
            if community is None or community.members_only:
                return None  # none, or members-only: its digests are not offered (no email)
            return await digest_queries.digest_of(
                session, community, self.urls.community(community.slug), period
            )

    async def _retry(self, job: digests.ClaimedSend, error: str, report: PassReport) -> None:
        now = self.clock()
        decision = self.policy.retry(job.attempts, job.created_at, now)
        deadline = job.period_end + timedelta(hours=self.settings.give_up_after_hours)
        at = getattr(decision, "at", None)
        if at is None or at > deadline:
            log.warning("digest %s given up: %s", job.message_id, error)
            await self._finish(job, JobState.FAILED, error=error)
            report.failed += 1
            return
        log.info("digest %s: %s; trying again at %s", job.message_id, error, at.isoformat())
        await self._finish(job, JobState.RETRYING, error=error, next_try_at=at)
        report.retrying += 1
        report.errors.append(error)

    async def _finish(
        self,
        job: digests.ClaimedSend,
        state: JobState,
        *,
        error: str | None = None,
        next_try_at: datetime | None = None,
        sent: bool = False,
    ) -> None:
        async with self.sessions.begin() as session:
            ours = await digests.finish(
                session, job, self.clock(), state=state, next_try_at=next_try_at,
                error=error, sent=sent,
            )  # fmt: skip
        if not ours:
            log.warning(
                "digest %s: its lease ran out before the outcome was written", job.message_id
            )

    # -- running --------------------------------------------------------------------------

    async def run_pass(self, *, community_id: int | None = None) -> PassReport:
        queued = await self.schedule(community_id=community_id)
        report = await self.send_due(community_id=community_id)
        report.queued = queued
        return report

    async def run(self) -> None:
        """A pass every ``check_minutes`` (sooner when a retry is due), until cancelled, in
        the process holding the ``digests`` singleton."""
        await run_singleton(self.sessions, SINGLETON, self._passes)

    async def _passes(self) -> None:
        every = self.settings.check_minutes * 60
        while not self._stopping.is_set():
            try:
                await self.run_pass()
                async with self.sessions() as session:
                    due = await digests.next_due(session)
            except Exception:  # the database or the SMTP server away: the next pass
                log.warning("digests: the pass failed", exc_info=True)
                due = None
            wait = every
            if due is not None:
                wait = min(every, max(1.0, (due - self.clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stopping.wait()


def dashboard_panel(
    subscribers: digests.SubscriptionCounts, sends: dict[JobState, int], slug: str
) -> Panel:
    """The digest's part of a community's dashboard in the console."""
    waiting = sends[JobState.QUEUED] + sends[JobState.RETRYING]
    facts = (
        ("Subscribers", f"{subscribers.weekly} weekly, {subscribers.monthly} monthly"),
        ("Waiting to confirm", str(subscribers.unconfirmed)),
        ("Digests waiting to go", str(waiting)),
    )
    failed = sends[JobState.FAILED]
    problems: tuple[str, ...] = ()
    if failed:
        problems = (
            f"{failed} digest{'s' if failed != 1 else ''} could not be sent; the server's "
            f"operator can look with copub digest status {slug} and send them again with "
            f"copub digest send-now {slug} --retry",
        )
    return Panel("Email digest", facts, problems)

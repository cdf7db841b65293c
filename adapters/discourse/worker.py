"""The adapter's one loop: applies stored webhook events and performs forum writes.

Jobs are leased (``locked_until``), so a crash releases them; a failure is retried with
exponential backoff from the forum's ``retry_seconds`` up to an hour, for about a day and
a half (:func:`job_retry_policy`). A rejected key, a missing permission or a category that
cannot be resolved is an error in the log, retried slowly (an admin fixes the key, the queue
keeps the work; `copub discourse retry` makes it due at once), never a crash loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime

from actors.store import JobState, wakeups
from actors.store.db import AsyncSession, async_sessionmaker
from adapters.discourse import events, store, writes
from adapters.discourse.api import UnknownCategory
from adapters.discourse.client import BadCredentials, DiscourseError, Forbidden
from adapters.discourse.models import ForumJobKind, ForumJobRow, WebhookJob
from adapters.discourse.runtime import ForumRuntime, NoCommunity
from adapters.discourse.wire import WireError
from federation.clock import utcnow
from federation.delivery.ports import Retry
from federation.delivery.retry import RetryPolicy

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 40
MAX_DELAY = 3600.0
SLOW_DELAY = 300.0  # after a rejected key or permission
LEASE_SECONDS = 300.0


def job_retry_policy(retry_seconds: float) -> RetryPolicy:
    """After the n-th failed attempt: ``retry_seconds * 2**(n-1)``, at most ``MAX_DELAY``;
    the ``MAX_ATTEMPTS``-th failure is final, however old the job."""
    return RetryPolicy(
        base_seconds=retry_seconds,
        factor=2.0,
        max_delay_seconds=MAX_DELAY,
        jitter=0.0,
        max_age_seconds=None,
        max_attempts=MAX_ATTEMPTS,
    )


class JobWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        runtimes: Mapping[str, ForumRuntime],
        *,
        poll_interval: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.runtimes = runtimes
        self.poll_interval = poll_interval
        self._by_community: dict[int, ForumRuntime] = {}
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def _runtime_of(self, community_id: int) -> ForumRuntime | None:
        if community_id not in self._by_community:
            for runtime in self.runtimes.values():
                with contextlib.suppress(NoCommunity):
                    self._by_community[(await runtime.community()).id] = runtime
        return self._by_community.get(community_id)

    async def run(self) -> None:
        engine = self.sessions.kw["bind"]
        async with wakeups.listening(engine, store.JOBS_CHANNEL, self.wake):
            await self._run()

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                if await self.run_once():
                    continue
                idle = await self._idle_seconds()
            except Exception:
                log.exception("Discourse job loop error")
                idle = self.poll_interval
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), idle)

    async def _idle_seconds(self) -> float:
        """Until the next retry is due, at most ``poll_interval`` (jobs queued here or by
        other processes wake the loop at once: ``actors.store.wakeups``)."""
        async with self.sessions() as session:
            due = await store.next_due(session)
        if due is None:
            return self.poll_interval
        return min(self.poll_interval, max(0.01, (due - utcnow()).total_seconds()))

    async def run_once(self) -> bool:
        """Claim and do one due job; False when there was none."""
        async with self.sessions.begin() as session:
            job = await store.claim_job(session, now=utcnow(), lease_seconds=LEASE_SECONDS)
        if job is None:
            return False
        runtime = await self._runtime_of(job.community_id)
        if runtime is None:
            await self._finish(
                job, JobState.FAILED, error="no forum is configured for this community"
            )
            return True
        try:
            outcome = await self._do(runtime, job)
        # Last resort: whatever the job raises is recorded on it (retried or failed) and the
        # loop goes on with the next one.
        except Exception as exc:  # noqa: BLE001 (see above)
            await self._failed(runtime, job, exc)
        else:
            log.info(
                "discourse %s job %d: %s",
                job.kind,
                job.id,
                outcome,
                extra={"community": runtime.slug, "object_id": job.object_ap_id},
            )
            await self._finish(job, JobState.DONE)
        return True

    async def _do(self, runtime: ForumRuntime, job: ForumJobRow) -> str:
        if job.kind == ForumJobKind.WEBHOOK:
            webhook = WebhookJob.from_payload(job.payload)
            counts = await events.apply_event(runtime, webhook.event, webhook.body)
            return f"{webhook.event}: {counts}"
        return await writes.perform(runtime, job)

    async def _failed(self, runtime: ForumRuntime, job: ForumJobRow, exc: Exception) -> None:
        retryable = (
            exc.retryable if isinstance(exc, DiscourseError) else not isinstance(exc, WireError)
        )
        where = {"community": runtime.slug, "object_id": job.object_ap_id}
        refused = isinstance(exc, BadCredentials | Forbidden | UnknownCategory)
        if refused:
            log.error(
                "%s refused copub's request (%s); check the key with `copub discourse check %s`",
                runtime.forum.base_url,
                exc,
                runtime.slug,
                extra=where,
            )
        elif isinstance(exc, DiscourseError | WireError | NoCommunity):
            log.warning("discourse %s job %d failed: %s", job.kind, job.id, exc, extra=where)
        else:
            log.exception("discourse %s job %d failed", job.kind, job.id, extra=where)
        if retryable:
            decision = job_retry_policy(runtime.forum.retry_seconds).retry(
                job.attempts,  # this one included (claiming counts it)
                job.created_at,
                utcnow(),
                retry_after=SLOW_DELAY if refused else None,
            )
            if isinstance(decision, Retry):
                await self._finish(job, JobState.RETRYING, error=str(exc), next_try_at=decision.at)
                return
        await self._finish(job, JobState.FAILED, error=str(exc))

    async def _finish(
        self,
        job: ForumJobRow,
        state: JobState,
        *,
        error: str | None = None,
        next_try_at: datetime | None = None,
    ) -> None:
        async with self.sessions.begin() as session:
            await store.finish_job(
                session, job.id, state=state, error=error, next_try_at=next_try_at
            )

"""The delivery loop: claim due jobs, POST them with bounded concurrency, record outcomes.

One :class:`DeliveryWorker` per process. Concurrency is bounded overall (``concurrency``)
and per host (``per_host``); a host's jobs wait for its slot before taking a global one, so
a slow host never holds more than ``per_host`` of the global slots. Outcomes are written
back in batches. ``wake()`` makes the loop claim at once (call it after enqueueing); jobs
enqueued elsewhere are found by polling every ``poll_interval`` seconds, or sooner when the
queue can ``watch`` for them.

With a ``health`` store (the ``PeerHealthStore`` port) the hosts' circuits and availability are
shared by every worker: the states of the claimed jobs' hosts are read with each claim, and
what each attempt told of its host is written with each flush of outcomes (one batch, never
a round trip per delivery). Jobs for an unavailable host are put back, unsent and not
failed for it (``federation.delivery.health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from federation.clock import utcnow
from federation.delivery.breaker import Admit, BreakerPolicy, CircuitBreakers, is_host_failure
from federation.delivery.health import HostReport, PeerState
from federation.delivery.outcomes import DeliveryObserver, failure_class, outcome_of
from federation.delivery.pacing import TurnPacer
from federation.delivery.ports import (
    Decision,
    Defer,
    DeliveryJob,
    Done,
    Fail,
    JobQueue,
    JobResult,
    PeerHealthStore,
    Retry,
    Sender,
)
from federation.delivery.retry import RetryPolicy
from federation.delivery.slots import HostSlots

log = logging.getLogger(__name__)

BACKLOG_PER_SLOT = 4  # claimed jobs that may wait here for one host: 4 x its slots
MAX_KEPT_REPORTS = 10_000  # host reports kept while the health store cannot be written
SUCCESS_TOLD = timedelta(minutes=1)  # a healthy host's successes are written this often at most
MAX_TOLD = 10_000  # hosts whose last written success is remembered here
STARTS_PER_TURN = 8  # POSTs started in one turn of the event loop (federation.delivery.pacing)


class DeliveryWorker:
    """Delivers jobs from ``queue`` through ``sender``: ``run()`` until ``stop()``, or
    ``run_once()`` / ``drain()`` step by step (tests, one-shot commands)."""

    def __init__(
        self,
        queue: JobQueue,
        sender: Sender,
        *,
        policy: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        concurrency: int = 64,
        per_host: int = 8,
        lease_seconds: float = 300.0,
        poll_interval: float = 1.0,
        flush_batch: int = 64,
        flush_delay: float = 0.05,
        grace_seconds: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
        observer: DeliveryObserver | None = None,
        health: PeerHealthStore | None = None,
    ) -> None:
        if concurrency < 1 or per_host < 1:
            raise ValueError("concurrency and per_host must be at least 1")
        self.queue = queue
        self.sender = sender
        self.policy = policy or RetryPolicy()
        self.breakers = CircuitBreakers(breaker)
        self.concurrency = concurrency
        self.capacity = concurrency * 2  # claimed and not yet finished, waiting included
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.flush_batch = flush_batch
        self.flush_delay = flush_delay
        self.grace_seconds = grace_seconds
        self.clock = clock
        self.observer = observer  # metrics: outcomes and failure classes (outcomes.py)
        self.health = health  # hosts' circuits and availability, shared by every worker
        self.counts: dict[str, int] = {"done": 0, "retry": 0, "gone": 0, "fail": 0, "defer": 0}
        self._global = asyncio.Semaphore(concurrency)
        self._hosts = HostSlots(per_host)
        self._pacer = TurnPacer(STARTS_PER_TURN)
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[JobResult] = []
        self._reports: list[HostReport] = []  # for ``health``, written with the outcomes
        self._unavailable: set[str] = set()  # hosts ``health`` says are unavailable
        self._failing: set[str] = set()  # hosts ``health`` says failed since their last success
        self._success_told: dict[str, datetime] = {}  # host: when a success was last reported
        self._first_result_at = 0.0
        self._event = asyncio.Event()
        self._woken = True  # claim at start
        self._more_due = False
        self._stopping = False

    # -- control --------------------------------------------------------------------------

    def wake(self) -> None:
        """New jobs are due: claim them now rather than at the next poll."""
        self._woken = True
        self._event.set()

    def stop(self) -> None:
        """Ask ``run()`` to stop claiming, finish in-flight jobs (up to ``grace_seconds``),
        write their outcomes and return. Unstarted claimed jobs are released."""
        self._stopping = True
        self._event.set()

    async def run(self) -> None:
        """Deliver until ``stop()``. Storage errors are logged and retried after a pause."""
        try:
            await self.queue.prepare()
        except Exception:
            log.exception("delivery queue: preparing failed; continuing")
        log.info(
            "delivering (%d at once, %d per host)",
            self.concurrency,
            self._hosts.size,
        )
        async with self.queue.watch(self.wake):
            next_poll = time.monotonic()
            while not self._stopping:
                try:
                    await self._flush(force=not self._tasks)
                    if self._should_claim(time.monotonic() >= next_poll):
                        next_poll = time.monotonic() + self.poll_interval
                        await self._claim()
                except Exception:
                    log.exception("delivery queue error; retrying in %.1f s", self.poll_interval)
                    await self._pause(self.poll_interval)
                    continue
                await self._pause(self._idle_timeout(next_poll))
            await self._shutdown()

    async def run_once(self) -> int:
        """Claim what is due (up to capacity), deliver it all, write the outcomes.

        For tests and one-shot use, never while ``run()`` is running. Returns the number
        of jobs handled."""
        jobs = await self._claim()
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        await self._flush(force=True)
        return jobs

    async def drain(self, max_rounds: int = 1000) -> int:
        """``run_once()`` until nothing is due; returns the number of jobs handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            if not handled:
                return total
            total += handled
        raise RuntimeError(f"delivery queue not drained after {max_rounds} rounds")

    # -- the loop ---------------------------------------------------------------------------

    def _should_claim(self, poll_due: bool) -> bool:
        free = self.capacity - len(self._tasks)
        if free <= 0:
            return False
        if self._woken or poll_due:
            return True
        return self._more_due and (free >= self.capacity // 4 or not self._tasks)

    def _idle_timeout(self, next_poll: float) -> float:
        full = len(self._tasks) >= self.capacity  # then only a finished job can wake us
        timeout = self.poll_interval if full else next_poll - time.monotonic()
        if self._results:
            timeout = min(timeout, self._first_result_at + self.flush_delay - time.monotonic())
        return max(0.0, timeout)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0 and not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()

    async def _claim(self) -> int:
        self._woken = False
        limit = self.capacity - len(self._tasks)
        if limit <= 0:
            return 0
        jobs = await self.queue.claim(limit, self.lease_seconds)
        self._more_due = len(jobs) == limit
        if jobs:
            await self._load_health({job.host for job in jobs})
        for job in jobs:
            task = asyncio.create_task(self._deliver(job), name=f"deliver-{job.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(jobs)

    async def _flush(self, *, force: bool) -> None:
        if not self._results:
            return
        age = time.monotonic() - self._first_result_at
        if not force and len(self._results) < self.flush_batch and age < self.flush_delay:
            return
        batch, self._results = self._results, []
        try:
            await self.queue.complete(batch)
        except BaseException:
            self._results[:0] = batch  # keep them for the next try
            raise
        await self._record_health()

    # -- peers' health --------------------------------------------------------------------------

    def is_unavailable(self, host: str) -> bool:
        """The health store said so when a job for ``host`` was last claimed or reported."""
        return host in self._unavailable

    async def _load_health(self, hosts: Collection[str]) -> None:
        if self.health is None:
            return
        try:
            states = await self.health.load(hosts)
        except Exception:  # the jobs are claimed: deliver them with what is known here
            log.warning("could not read the health of %d peers", len(hosts), exc_info=True)
            return
        self._unavailable.difference_update(hosts)  # a host not kept is healthy
        self._adopt(states)

    async def _record_health(self) -> None:
        if self.health is None or not self._reports:
            return
        reports, self._reports = self._reports, []
        try:
            states = await self.health.record(reports)
        except Exception:
            kept = reports[-MAX_KEPT_REPORTS:]
            self._reports[:0] = kept
            log.warning("could not record peers' health; %d reports kept", len(kept), exc_info=True)
            return
        self._adopt(states)

    def _adopt(self, states: Sequence[PeerState]) -> None:
        for state in states:
            self.breakers.adopt(state.host, state.circuit)
            if state.unavailable:
                self._unavailable.add(state.host)
            else:
                self._unavailable.discard(state.host)
            if state.failing_since is not None:
                self._failing.add(state.host)
            else:
                self._failing.discard(state.host)

    def _tells_health(
        self, host: str, at: datetime, *, failed: bool, probe: bool, troubled: bool
    ) -> bool:
        """Whether an attempt's report changes what the health store keeps: a failure, a
        probe, a success after failures (``troubled``: of this circuit or the stored
        state); a healthy host's success only to keep its last success to the minute. A
        community relaying to a few hundred inboxes wrote every success, a write
        transaction with each flush of outcomes."""
        if failed or probe or troubled or host in self._failing:  # (unavailable: failing too)
            return True
        told = self._success_told.get(host)
        if told is not None and at - told < SUCCESS_TOLD:
            return False
        if len(self._success_told) >= MAX_TOLD:
            self._success_told.clear()
        self._success_told[host] = at
        return True

    async def _shutdown(self) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=self.grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        try:
            await self._flush(force=True)
        except Exception:
            log.exception(
                "could not record %d delivery outcomes; their leases will expire",
                len(self._results),
            )

    # -- one job ------------------------------------------------------------------------------

    def _record(self, result: JobResult) -> None:
        if not self._results:
            self._first_result_at = time.monotonic()
        self._results.append(result)
        self.counts[type(result.decision).__name__.lower()] += 1
        if self.observer is not None:
            self.observer.finished(outcome_of(result.decision))
        free = self.capacity - len(self._tasks) + 1  # this task is still in the set
        if (
            len(self._results) in (1, self.flush_batch)
            or len(self._tasks) <= 1
            or (self._more_due and free >= self.capacity // 4)
        ):
            self._event.set()

    async def _deliver(self, job: DeliveryJob) -> None:
        try:
            result = await self._attempt(job)
        except asyncio.CancelledError:
            self._record(JobResult(job, Defer(self.clock()), error="worker stopped"))
            raise
        except Exception as exc:  # a bug, not a delivery failure: keep the job
            log.exception("delivery %d crashed", job.id, extra=_extra(job))
            result = JobResult(
                job,
                self.policy.retry(job.attempts + 1, job.created_at, self.clock()),
                error=repr(exc),
            )
        self._record(result)

    async def _attempt(self, job: DeliveryJob) -> JobResult:
        now = self.clock()
        if now >= job.lease_until:  # someone else may have it now; they will deliver it
            return JobResult(job, Defer(now), error="lease expired before sending")
        if job.host in self._unavailable:
            return self._wait_for_host(job, now)
        blocked = self.breakers.blocked_until(job.host, now)
        if blocked is not None:
            return self._defer(job, blocked, host_wide=True)
        if self._stopping:
            return self._defer(job, now)
        if self._hosts.load(job.host) >= self._hosts.size * BACKLOG_PER_SLOT:
            # A slow host must not fill this worker with its jobs: later, and others first.
            return self._defer(job, now + timedelta(seconds=self.poll_interval))
        async with self._hosts.hold(job.host):
            admit = self.breakers.admit(job.host, self.clock())
            if isinstance(admit, datetime):
                return self._defer(job, admit, host_wide=True)
            if self._stopping:
                return self._defer(job, self.clock())
            probe = admit is Admit.PROBE
            status: int | None = None
            error: BaseException | None = None
            retry_after: float | None = None
            snippet = ""
            try:
                async with self._global:
                    await self._pacer.turn()
                    outcome = await self.sender.post_activity(job.inbox, job.body, job.signer)
                status, retry_after = outcome.status, outcome.retry_after_seconds
                snippet = outcome.body_snippet
            # Whatever the sender raises is a failed attempt: the policy decides (retry or fail).
            except Exception as exc:  # noqa: BLE001 (see above)
                error = exc
            finally:
                failed = is_host_failure(status, error)
                at = self.clock()
                troubled = self.breakers.circuit(job.host, at).failures > 0
                self.breakers.record(job.host, failed, at, probe=probe)
                if (
                    failed is not None
                    and self.health is not None
                    and self._tells_health(
                        job.host, at, failed=failed, probe=probe, troubled=troubled
                    )
                ):
                    told = (str(error) or type(error).__name__) if error else f"HTTP {status}"
                    self._reports.append(
                        HostReport(job.host, at, failed, probe, told[:500] if failed else None)
                    )
        failure = failure_class(status, error)
        if failure is not None and self.observer is not None:
            self.observer.attempt_failed(failure)
        decision = self.policy.decide(
            attempts=job.attempts + 1,
            created_at=job.created_at,
            now=self.clock(),
            status=status,
            retry_after=retry_after,
            error=error,
        )
        message = str(error) if error is not None else (snippet[:500] or None)
        _log(job, decision, status, message)
        return JobResult(job, decision, status, None if isinstance(decision, Done) else message)

    def _defer(self, job: DeliveryJob, at: datetime, *, host_wide: bool = False) -> JobResult:
        if self.policy.expired(job.created_at, at):
            return JobResult(job, Fail("gave up: not delivered within the retry period"))
        return JobResult(job, Defer(at, host_wide))

    def _wait_for_host(self, job: DeliveryJob, now: datetime) -> JobResult:
        """A job for an unavailable host is put back unsent: its jobs are made due when the
        host is back (``PeerHealthStore``); meanwhile it is looked at again now and then, and
        fails as any job does once the retry period is over."""
        if self.policy.expired(job.created_at, now):
            reason = "gave up: not delivered within the retry period (the server is unavailable)"
            return JobResult(job, Fail(reason))
        at = now + timedelta(seconds=self.breakers.policy.unavailable_recheck_seconds)
        if self.policy.max_age_seconds is not None:
            end = job.created_at + timedelta(seconds=self.policy.max_age_seconds)
            if end < at:
                return JobResult(job, Defer(end))  # this job's own end, not its host's
        return JobResult(job, Defer(at, host_wide=True))


def _extra(job: DeliveryJob) -> dict[str, object]:
    return {"activity_id": job.activity_id, "inbox": job.inbox, "host": job.host}


def _log(job: DeliveryJob, decision: Decision, status: int | None, message: str | None) -> None:
    extra = {**_extra(job), "status": status, "attempt": job.attempts + 1}
    if isinstance(decision, Done):
        log.debug("delivered %s to %s", job.activity_id, job.inbox, extra=extra)
    elif isinstance(decision, Retry):
        log.info(
            "delivery of %s to %s failed (%s); retry at %s",
            job.activity_id,
            job.inbox,
            status or message,
            decision.at.isoformat(timespec="seconds"),
            extra=extra,
        )
    else:
        log.warning(
            "delivery of %s to %s: %s (%s)",
            job.activity_id,
            job.inbox,
            type(decision).__name__.lower(),
            status or message,
            extra=extra,
        )

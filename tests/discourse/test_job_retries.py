"""When the Discourse job loop tries a failed job again.

After the n-th failed attempt a job waits the forum's ``retry_seconds`` times 2**(n-1), never
more than an hour, and at least five minutes after a refused key or permission; the 40th
failure is final (about a day and a half with the default five seconds), however old the job.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.discourse.worker import SLOW_DELAY, job_retry_policy
from federation.delivery.ports import Fail, Retry

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_backoff_doubles_from_the_forums_retry_seconds_up_to_an_hour() -> None:
    policy = job_retry_policy(5.0)
    assert [policy.delay(n) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert [policy.delay(n) for n in (11, 12, 39)] == [3600, 3600, 3600]


def test_the_fortieth_failure_is_final_however_old_the_job() -> None:
    policy = job_retry_policy(5.0)
    much_later = T0 + timedelta(days=30)
    assert policy.retry(39, T0, much_later) == Retry(much_later + timedelta(hours=1))
    assert isinstance(policy.retry(40, T0, much_later), Fail)


def test_a_refused_key_waits_at_least_five_minutes() -> None:
    policy = job_retry_policy(5.0)
    assert policy.retry(1, T0, T0, retry_after=SLOW_DELAY) == Retry(T0 + timedelta(minutes=5))
    assert policy.retry(12, T0, T0, retry_after=SLOW_DELAY) == Retry(T0 + timedelta(hours=1))

"""RetryPolicy: which outcomes are retried, when, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from federation.delivery.ports import Done, Fail, Gone, Retry
from federation.delivery.retry import RetryPolicy
from federation.errors import FetchError, UnsafeAddress

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STEADY = RetryPolicy(jitter=0.0)


def decide(policy: RetryPolicy = STEADY, attempts: int = 1, **outcome: object) -> object:
    return policy.decide(attempts=attempts, created_at=T0, now=T0, **outcome)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Done()),
        (202, Done()),
        (204, Done()),
        (410, Gone()),
        (400, Fail("HTTP 400")),
        (401, Fail("HTTP 401")),
        (403, Fail("HTTP 403")),
        (404, Fail("HTTP 404")),
        (301, Fail("HTTP 301")),
        (422, Fail("HTTP 422")),
    ],
)
def test_final_answers(status: int, expected: object) -> None:
    assert decide(status=status) == expected


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retried_answers(status: int) -> None:
    assert decide(status=status) == Retry(T0 + timedelta(seconds=30))


def test_network_failures_are_retried_and_refusals_are_not() -> None:
    assert decide(error=FetchError("timed out")) == Retry(T0 + timedelta(seconds=30))
    assert isinstance(decide(error=UnsafeAddress("10.0.0.1")), Fail)


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    assert [STEADY.delay(n) for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert STEADY.delay(30) == 6 * 3600  # capped
    low = RetryPolicy(rand=lambda: 0.0)
    high = RetryPolicy(rand=lambda: 0.999999)
    assert low.delay(3) == pytest.approx(120 * 0.8)
    assert high.delay(3) == pytest.approx(120 * 1.2, rel=1e-5)


def test_retry_after_wins_when_later_than_the_backoff() -> None:
    assert decide(status=429, retry_after=600.0) == Retry(T0 + timedelta(seconds=600))
    assert decide(status=503, retry_after=1.0) == Retry(T0 + timedelta(seconds=30))


def test_retries_last_about_two_days_then_give_up() -> None:
    now, attempts = T0, 0
    while True:
        attempts += 1
        decision = STEADY.decide(attempts=attempts, created_at=T0, now=now, status=503)
        if not isinstance(decision, Retry):
            break
        now = decision.at
    assert isinstance(decision, Fail)
    assert decision.reason.startswith("gave up after")
    assert timedelta(hours=36) < now - T0 <= timedelta(days=2)
    assert 14 <= attempts <= 20
    assert isinstance(
        RetryPolicy(max_attempts=3).decide(attempts=3, created_at=T0, now=T0, status=503), Fail
    )


def test_a_policy_without_an_age_limit_gives_up_by_attempts_only() -> None:
    """``max_age_seconds=None``: however old the job, only ``max_attempts`` ends it."""
    ageless = RetryPolicy(jitter=0.0, max_age_seconds=None, max_attempts=5)
    long_after = T0 + timedelta(days=365)
    assert ageless.retry(4, T0, long_after) == Retry(long_after + timedelta(seconds=240))
    assert not ageless.expired(T0, long_after)
    assert isinstance(ageless.retry(5, T0, long_after), Fail)

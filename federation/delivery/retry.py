"""When to try a delivery again, as a value: exponential backoff with jitter, about two days.

``decide`` maps one attempt's outcome to Done, Retry(at), Gone or Fail:

- 2xx: done; 410: gone (the inbox's owner was deleted); 408, 429 and 5xx: retry;
- any other status (3xx, 4xx): fail at once, a retry would get the same answer;
- a network failure or timeout: retry; an address we may not contact: fail;
- ``Retry-After`` is honoured: the next try is never earlier than it says;
- no retry is scheduled past ``max_age_seconds`` after the job was queued (None: no age
  limit), nor beyond ``max_attempts``: the job fails instead.

Every retrying loop of the server takes its schedule from a ``RetryPolicy`` value, built
with its own numbers (the inbox's and the Discourse jobs' have no jitter and no age limit).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from federation.delivery.ports import Decision, Done, Fail, Gone, Retry
from federation.errors import FederationError

RETRYABLE_4XX = frozenset({408, 429})
DAY = 86_400.0


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_4XX


def is_permanent_error(error: BaseException) -> bool:
    """Errors no retry can fix: refusals with a 4xx status (e.g. a non-public address)."""
    return isinstance(error, FederationError) and error.http_status < 500


@dataclass(frozen=True)
class RetryPolicy:
    """Delays ``base * factor**(n-1)`` (capped at ``max_delay``), each scaled by a random
    factor in ``[1 - jitter, 1 + jitter]``. The defaults give about 17 tries over 2 days."""

    base_seconds: float = 30.0
    factor: float = 2.0
    max_delay_seconds: float = 6 * 3600.0
    jitter: float = 0.2
    max_age_seconds: float | None = 2 * DAY
    max_attempts: int = 30
    rand: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_seconds < 0 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError("RetryPolicy needs base >= 0, factor >= 1 and 0 <= jitter < 1")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1 = the first)."""
        exponent = max(0, attempts - 1)
        raw = self.base_seconds * self.factor ** min(exponent, 64)
        raw = min(raw, self.max_delay_seconds)
        return raw * (1 - self.jitter + 2 * self.jitter * self.rand())

    def decide(
        self,
        *,
        attempts: int,
        created_at: datetime,
        now: datetime,
        status: int | None = None,
        retry_after: float | None = None,
        error: BaseException | None = None,
    ) -> Decision:
        """The fate of a job after its ``attempts``-th attempt (this one included)."""
        if error is not None:
            if is_permanent_error(error):
                return Fail(f"refused: {error}")
            return self.retry(attempts, created_at, now, retry_after)
        if status is None:
            raise ValueError("decide() needs a status or an error")
        if 200 <= status < 300:
            return Done()
        if status == 410:
            return Gone()
        if is_retryable_status(status):
            return self.retry(attempts, created_at, now, retry_after)
        return Fail(f"HTTP {status}")

    def retry(
        self, attempts: int, created_at: datetime, now: datetime, retry_after: float | None = None
    ) -> Decision:
        """Retry at the backoff (or ``Retry-After``, if later), unless that is too late."""
        if attempts >= self.max_attempts:
            return Fail(f"gave up after {attempts} attempts")
        wait = self.delay(attempts)
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        at = now + timedelta(seconds=wait)
        if self.max_age_seconds is not None and at > created_at + timedelta(
            seconds=self.max_age_seconds
        ):
            return Fail(f"gave up after {attempts} attempts over {_age(created_at, now)}")
        return Retry(at)

    def expired(self, created_at: datetime, now: datetime) -> bool:
        if self.max_age_seconds is None:
            return False
        return now >= created_at + timedelta(seconds=self.max_age_seconds)


def _age(created_at: datetime, now: datetime) -> str:
    hours = (now - created_at).total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"

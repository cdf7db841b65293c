"""The expiring cache behind the members' circles."""

from __future__ import annotations

from actors.web.cache import TimedCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_ttl() -> None:
    clock = Clock()
    cache: TimedCache[int, str] = TimedCache(60, clock=clock)
    cache.put(1, "circles")
    clock.now += 59.9
    assert cache.get(1) == "circles"
    clock.now += 0.1
    assert cache.get(1) is None


def test_zero_ttl_keeps_nothing() -> None:
    cache: TimedCache[int, str] = TimedCache(0)
    cache.put(1, "circles")
    assert cache.get(1) is None


def test_size_is_bounded_dropping_expired_then_oldest() -> None:
    clock = Clock()
    cache: TimedCache[int, int] = TimedCache(10, size=2, clock=clock)
    cache.put(1, 1)
    clock.now += 5
    cache.put(2, 2)
    cache.put(3, 3)  # full: the oldest goes
    assert (cache.get(1), cache.get(2), cache.get(3)) == (None, 2, 3)
    clock.now += 6  # 2 has expired
    cache.put(4, 4)
    assert (cache.get(2), cache.get(3), cache.get(4)) == (None, 3, 4)


def test_invalidate() -> None:
    cache: TimedCache[str, int] = TimedCache(60)
    cache.put("a", 1)
    cache.invalidate("a")
    cache.invalidate("never there")
    assert cache.get("a") is None

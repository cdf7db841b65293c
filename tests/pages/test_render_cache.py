"""The render cache: bounded in entries and bytes, least recently used out first, and an
entry serves only the ETag it was rendered for."""

from __future__ import annotations

from actors.web.page_cache import RenderCache, Rendered


def page(etag: str, size: int) -> Rendered:
    return Rendered(etag, 200, b"x" * size, (("Content-Type", "text/html; charset=utf-8"),))


def test_an_entry_serves_only_its_etag() -> None:
    cache = RenderCache(entries=4, max_bytes=1000)
    cache.put(("/c/a", "public.html"), page("v1", 10))
    assert cache.get(("/c/a", "public.html"), "v1") is not None
    assert cache.get(("/c/a", "public.html"), "v2") is None
    assert cache.get(("/c/a", "public.doc"), "v1") is None
    cache.put(("/c/a", "public.html"), page("v2", 30))  # the newer version takes its place
    assert (len(cache), cache.bytes) == (1, 30)


def test_bounded_in_entries_least_recently_used_out() -> None:
    cache = RenderCache(entries=2, max_bytes=1000)
    cache.put(("/a", "v"), page("1", 10))
    cache.put(("/b", "v"), page("1", 10))
    assert cache.get(("/a", "v"), "1") is not None  # /a used last: /b goes first
    cache.put(("/c", "v"), page("1", 10))
    assert [cache.get((p, "v"), "1") is not None for p in ("/a", "/b", "/c")] == [
        True,
        False,
        True,
    ]
    assert (len(cache), cache.bytes) == (2, 20)


def test_bounded_in_bytes() -> None:
    cache = RenderCache(entries=100, max_bytes=100)
    for i in range(10):
        cache.put((f"/{i}", "v"), page("1", 30))
    assert cache.bytes <= 100
    assert len(cache) == 3
    assert cache.get(("/9", "v"), "1") is not None
    cache.put(("/big", "v"), page("1", 101))  # larger than the whole cache: not kept
    assert cache.get(("/big", "v"), "1") is None
    assert len(cache) == 3


def test_no_entries_keeps_nothing() -> None:
    cache = RenderCache(entries=0, max_bytes=100)
    cache.put(("/a", "v"), page("1", 1))
    assert len(cache) == 0
    assert cache.bytes == 0

"""The render cache: a page is kept the second time it is rendered; bounded in entries and
bytes, least recently used out first; an entry serves only the ETag it was rendered for."""

from __future__ import annotations

from actors.web.page_cache import RenderCache, Rendered


def page(etag: str, size: int) -> Rendered:
    return Rendered(etag, 200, b"x" * size, (("Content-Type", "text/html; charset=utf-8"),))


def put_twice(cache: RenderCache, key: tuple[str, str], rendered: Rendered) -> None:
    """Rendered for two requests: the second is kept."""
    cache.put(key, rendered)
    cache.put(key, rendered)


def test_a_page_rendered_once_is_only_noted() -> None:
    """One-off URLs (tag pages of random tags, say) never push out the pages people read."""
    cache = RenderCache(entries=2, max_bytes=1000)
    put_twice(cache, ("/c/a", "public.html"), page("v1", 10))
    for n in range(100):
        cache.put((f"/c/a/tags/t{n}", "public.html"), page("v1", 10))
    assert (len(cache), cache.bytes) == (1, 10)
    assert cache.get(("/c/a", "public.html"), "v1") is not None
    assert len(cache._seen) == 8, "the keys seen once are bounded too (4 x entries)"
    cache.put(("/c/a/tags/t99", "public.html"), page("v1", 10))  # asked for again: kept
    assert cache.get(("/c/a/tags/t99", "public.html"), "v1") is not None
    cache.put(("/c/a/tags/t0", "public.html"), page("v1", 10))  # forgotten since: noted
    assert cache.get(("/c/a/tags/t0", "public.html"), "v1") is None


def test_an_entry_serves_only_its_etag() -> None:
    cache = RenderCache(entries=4, max_bytes=1000)
    put_twice(cache, ("/c/a", "public.html"), page("v1", 10))
    assert cache.get(("/c/a", "public.html"), "v1") is not None
    assert cache.get(("/c/a", "public.html"), "v2") is None
    assert cache.get(("/c/a", "public.doc"), "v1") is None
    cache.put(("/c/a", "public.html"), page("v2", 30))  # the newer version takes its place
    assert (len(cache), cache.bytes) == (1, 30)


def test_bounded_in_entries_least_recently_used_out() -> None:
    cache = RenderCache(entries=2, max_bytes=1000)
    put_twice(cache, ("/a", "v"), page("1", 10))
    put_twice(cache, ("/b", "v"), page("1", 10))
    assert cache.get(("/a", "v"), "1") is not None  # /a used last: /b goes first
    put_twice(cache, ("/c", "v"), page("1", 10))
    assert [cache.get((p, "v"), "1") is not None for p in ("/a", "/b", "/c")] == [
        True,
        False,
        True,
    ]
    assert (len(cache), cache.bytes) == (2, 20)


def test_bounded_in_bytes() -> None:
    cache = RenderCache(entries=100, max_bytes=100)
    for i in range(10):
        put_twice(cache, (f"/{i}", "v"), page("1", 30))
    assert cache.bytes <= 100
    assert len(cache) == 3
    assert cache.get(("/9", "v"), "1") is not None
    put_twice(cache, ("/big", "v"), page("1", 101))  # larger than the whole cache: not kept
    assert cache.get(("/big", "v"), "1") is None
    assert len(cache) == 3


def test_no_entries_keeps_nothing() -> None:
    cache = RenderCache(entries=0, max_bytes=100)
    put_twice(cache, ("/a", "v"), page("1", 1))
    assert len(cache) == 0
    assert cache.bytes == 0

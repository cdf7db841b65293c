"""Pure mapping: forum posts -> items, fediverse HTML -> forum Markdown, wire reading,
webhook signatures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.discourse.compose import html_to_markdown, reply_raw
from adapters.discourse.config import parse_forums
from adapters.discourse.mapping import event_of, kind_of, reply_html, topic_item
from adapters.discourse.webhooks import sign, verify
from adapters.discourse.wire import ForumPost, post_of, tags_of, topic_of
from tests.fakes.discourse_shapes import Post, Topic, User, post_in_topic, topic_view
from tests.fakes.discourse_text import cook

FORUM = parse_forums(
    [
        {
            "community": "nightshift",
            "base_url": "https://forum.example",
            "api_key": "k",
            "api_username": "copub-bot",
            "category": 7,
            "webhook_secret": "a-long-enough-secret",
            "tag_kinds": {"practice": "practice", "meetup": "event"},
        }
    ],
    "test",
)[0]
NORA = User(2, "nora", "Nora <Night>")


def post(raw: str, *, number: int = 1, name: str = "Nora <Night>") -> ForumPost:
    user = User(2, "nora", name)
    record = Post(
        10 + number,
        5,
        number,
        user,
        raw,
        cook(raw),
        "2025-01-01T09:00:00.000Z",
        "2025-01-01T09:00:00.000Z",
    )
    topic = Topic(5, "T", "t", 7, user, record.created_at, record.created_at)
    return post_of(post_in_topic(record, topic))


def topic(tags: list[str], raw: str) -> tuple[object, ForumPost]:
    record = Post(
        11, 5, 1, NORA, raw, cook(raw), "2025-01-01T09:00:00.000Z", "2025-01-01T09:00:00.000Z"
    )
    t = Topic(
        5, "A <b>title</b>", "a-title", 7, NORA, record.created_at, record.created_at, tags=tags
    )
    view = topic_of(topic_view(t, [record], [record]))
    return view, view.posts[0]


EVENT = '[event start="2026-03-29 01:30" end="2026-03-29 03:30" timezone="Europe/Paris"]\n[/event]'


def test_event_block_from_raw_and_from_cooked_html() -> None:
    raw_post = post(EVENT + "\nAcross the spring DST change.")
    cooked_only = ForumPost(**{**raw_post.__dict__, "raw": None})
    for p in (raw_post, cooked_only):
        event = event_of(p)
        assert event is not None
        assert event.start == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # CET, +01:00
        assert event.end == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # CEST, +02:00
        assert event.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("raw", "start", "tz"),
    [
        ('[event start="2026-12-01 18:00"]\n[/event]', "2026-12-01 18:00+00:00", "UTC"),
        (
            '[event start="2026-12-01 18:00" timezone="Mars/Olympus"]\n[/event]',
            "2026-12-01 18:00+00:00",
            "UTC",
        ),
        (
            '[event start="2026-12-01T18:00:00Z" timezone="Asia/Tokyo"]\n[/event]',
            "2026-12-01 18:00+00:00",
            "Asia/Tokyo",
        ),
    ],
)
def test_event_times(raw: str, start: str, tz: str) -> None:
    event = event_of(post(raw))
    assert event is not None
    assert event.start == datetime.fromisoformat(start)
    assert event.timezone == tz


def test_no_event_without_a_block_or_a_start() -> None:
    assert event_of(post("Just a story, no [event] here.")) is None
    assert event_of(post('[event end="2026-12-01 18:00"]\n[/event]')) is None


def test_kinds_by_event_block_then_tags() -> None:
    assert kind_of(FORUM, *topic([], "A story.")) == "story"  # type: ignore[arg-type]
    assert kind_of(FORUM, *topic(["Practice"], "How.")) == "practice"  # type: ignore[arg-type]
    assert kind_of(FORUM, *topic(["practice"], EVENT)) == "event"  # type: ignore[arg-type]
    # a tag that means "event" is not enough without a date to put in the calendar
    assert kind_of(FORUM, *topic(["meetup"], "Soon.")) == "story"  # type: ignore[arg-type]


def test_topic_item_is_escaped_and_sanitized() -> None:
    view, first = topic([], "Text <script>alert(1)</script> and **bold**.")
    item = topic_item(FORUM, view, first)  # type: ignore[arg-type]
    assert item.kind == "story"
    assert item.ap_type == "Note"
    assert item.content_html.startswith(
        "<p><strong>A &lt;b&gt;title&lt;/b&gt;</strong><br>by <strong>Nora &lt;Night&gt;"
        "</strong> (@nora on the forum)</p>"
    )
    assert "<script>" not in item.content_html
    assert "<strong>bold</strong>" in item.content_html
    assert item.url == "https://forum.example/t/a-title/5"


def test_reply_says_who_wrote_it() -> None:
    assert reply_html(post("Every two hours.", number=2)) == (
        "<p><strong>Nora &lt;Night&gt;</strong> (@nora on the forum) wrote:</p>"
        "<p>Every two hours.</p>"
    )
    assert reply_html(post("x", number=2, name="")).startswith("<p><strong>nora</strong> (@nora")


def test_mastodon_html_to_markdown() -> None:
    html = (
        '<p><span class="h-card"><a href="https://cop.example/c/nightshift" class="u-url '
        'mention">@<span>nightshift</span></a></span> We use *two* nurses_always.<br>'
        'See <a href="https://example.org/guide">the guide</a> and '
        '<a href="https://example.org/x">https://example.org/x</a></p><p>Second &amp; last.</p>'
    )
    markdown = html_to_markdown(html, frozenset({"https://cop.example/c/nightshift"}))
    assert markdown == (
        "We use \\*two\\* nurses\\_always.  \n"
        "See [the guide](https://example.org/guide) and <https://example.org/x>\n\n"
        "Second & last."
    )


def test_reply_raw_quotes_name_handle_and_link() -> None:
    raw = reply_raw(
        name="Alice",
        handle="alice@social.example",
        profile_url="https://social.example/@alice",
        original_url="https://social.example/@alice/1",
        content_html="<p>One</p><p>Two</p>",
    )
    assert raw == (
        "**Alice** ([@alice@social.example](https://social.example/@alice)) "
        "[replied on the fediverse](https://social.example/@alice/1):\n\n> One\n>\n> Two\n"
    )


def test_wire_reads_both_discourse_spellings() -> None:
    data = {
        "id": 1,
        "topic_id": 2,
        "post_number": 3,
        "reply_to_post_number": "2",
        "username": "nora",
        "cooked": "<p>x</p>",
        "version": 4,
    }
    parsed = post_of(data)
    assert (parsed.reply_to_post_number, parsed.version, parsed.raw) == (2, 4, None)
    assert post_of({**data, "reply_to_post_number": 2}).reply_to_post_number == 2
    assert tags_of({"tags": ["Practice", {"id": 1, "name": "insulin", "slug": "insulin"}]}) == (
        "practice",
        "insulin",
    )


def test_webhook_signature() -> None:
    body = b'{"post": {"id": 1}}'
    header = sign("a-long-enough-secret", body)
    assert header.startswith("sha256=")
    assert len(header) == 7 + 64
    assert verify("a-long-enough-secret", body, header)
    assert not verify("another-secret-value", body, header)
    assert not verify("a-long-enough-secret", body + b" ", header)
    assert not verify("a-long-enough-secret", body, header.upper())
    assert not verify("a-long-enough-secret", body, None)
    assert not verify("a-long-enough-secret", body, header.removeprefix("sha256="))

"""HTML in and out: Markdown for coordinators, a Mastodon-like allow-list for remote HTML."""

from __future__ import annotations

import re
from functools import lru_cache
from html import unescape

import nh3
from markdown_it import MarkdownIt

# Mastodon's sanitizer allow-list (Sanitize::Config::MASTODON_STRICT, widened with the
# formatting tags it accepts from remote servers).
ALLOWED_TAGS = {
    "p", "br", "span", "a", "del", "s", "pre", "code", "em", "strong", "b", "i", "u",
    "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "sub", "sup",
    "hr", "abbr", "cite", "q", "small", "ins", "kbd", "samp", "dfn",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "class", "title", "translate"},
    "span": {"class", "translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet",
               "gemini", "mailto"}  # fmt: skip

_TAG_RE = re.compile(r"<[^>]+>")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def sanitize(html: str) -> str:
    """Remote or user HTML reduced to the allow-list; links get rel=nofollow noopener."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )


def markdown_to_html(text: str) -> str:
    return sanitize(_markdown().render(text))


def plain_text(html: str, limit: int | None = None) -> str:
    text = " ".join(unescape(_TAG_RE.sub(" ", html)).split())
    if limit is not None and len(text) > limit:
        return text[: limit - 1].rstrip() + "…"
    return text

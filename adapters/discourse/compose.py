"""A fediverse reply as a forum post: who wrote it (name, handle, link to the original)
and its text as Markdown, which Discourse renders.

Mastodon's HTML is small (paragraphs, line breaks, links, mentions, a little emphasis);
it is turned into Markdown, not passed as HTML, so the forum shows it as its own.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_ESCAPE = re.compile(r"([\\`*_\[\]<>#|~])")
_BLANKS = re.compile(r"\n{3,}")
# Inline marks: the same text opens and closes them (code only outside a <pre>).
_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}


def _escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


class _ToMarkdown(HTMLParser):
    def __init__(self, drop_links: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.drop_links = drop_links
        self._links: list[tuple[str | None, int]] = []  # (href, start in out), open <a>s
        self._list: list[str] = []  # "ul" / "ol" nesting
        self._counters: list[int] = []
        self._pre = 0

    def _mark(self, tag: str) -> bool:
        """Open or close an inline mark; False when ``tag`` is none (or code in a pre)."""
        mark = _MARKS.get(tag)
        if mark is None or (tag == "code" and self._pre):
            return False
        self.out.append(mark)
        return True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._mark(tag):
            return
        if tag in ("p", "div"):
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("  \n" if not self._pre else "\n")
        elif tag == "pre":
            self._pre += 1
            self.out.append("\n\n```\n")
        elif tag == "blockquote":
            self.out.append("\n\n> ")
        elif tag in ("ul", "ol"):
            self._list.append(tag)
            self._counters.append(0)
            self.out.append("\n")
        elif tag == "li" and self._list:
            self._counters[-1] += 1
            marker = f"{self._counters[-1]}." if self._list[-1] == "ol" else "-"
            self.out.append("\n" + "  " * (len(self._list) - 1) + marker + " ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if self._mark(tag):
            return
        if tag in ("p", "div", "blockquote"):
            self.out.append("\n\n")
        elif tag == "pre" and self._pre:
            self._pre -= 1
            self.out.append("\n```\n\n")
        elif tag in ("ul", "ol") and self._list:
            self._list.pop()
            self._counters.pop()
            self.out.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            text = "".join(self.out[start:])
            del self.out[start:]
            if href in self.drop_links:
                return  # the mention of the community itself: noise in its own forum
            if not href or not href.startswith(("http://", "https://")):
                self.out.append(text)
            elif text.strip() in (href, ""):
                self.out.append(f"<{href}>")
            else:
                self.out.append(f"[{text}]({href})")

    def handle_data(self, data: str) -> None:
        if self._pre:
            self.out.append(data)
        else:
            self.out.append(_escape(" ".join(data.split("\n"))))

    def markdown(self) -> str:
        text = "".join(self.out)
        lines = [line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")]
        return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def html_to_markdown(html: str, drop_links: frozenset[str] = frozenset()) -> str:
    parser = _ToMarkdown(drop_links)
    parser.feed(html)
    parser.close()
    return parser.markdown()


def quote(markdown: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in markdown.split("\n"))


def reply_raw(
    *,
    name: str,
    handle: str,
    profile_url: str,
    original_url: str,
    content_html: str,
    drop_links: frozenset[str] = frozenset(),
) -> str:
    """The forum post for a fediverse reply, posted by the bot on its author's behalf."""
    text = html_to_markdown(content_html, drop_links) or "(no text)"
    who = f"**{_escape(name)}**" if name and name != handle else ""
    author = (
        f"{who} ([@{_escape(handle)}]({profile_url}))" if who else f"[@{handle}]({profile_url})"
    )
    return f"{author} [replied on the fediverse]({original_url}):\n\n{quote(text)}\n"

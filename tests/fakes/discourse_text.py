"""Cooking raw posts into HTML the way Discourse does, enough for tests: Markdown, and the
discourse-calendar plugin's ``[event ...]\\n[/event]`` block, which it cooks into
``<div class="discourse-post-event" data-start=... data-timezone=...>``.
"""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False})
_EVENT = re.compile(r"\[event\b([^\]]*)\]\s*(.*?)\[/event\]", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")


def _event_div(match: re.Match[str]) -> str:
    attrs = " ".join(f'data-{k.lower()}="{escape(v)}"' for k, v in _ATTR.findall(match.group(1)))
    return f'\n\n<div class="discourse-post-event" {attrs}></div>\n\n'


def cook(raw: str) -> str:
    html: list[str] = []
    position = 0
    for match in _EVENT.finditer(raw):
        html.append(_MD.render(raw[position : match.start()]).strip())
        html.append(_event_div(match))
        position = match.end()
    html.append(_MD.render(raw[position:]).strip())
    return "".join(html).strip()

"""Readable differences between two versions of a text (a practice's revisions).

The result is data, not HTML: the template writes each piece escaped, inside ``<del>`` or
``<ins>``, so no text of a revision is ever trusted as markup. Lines changed in place are
compared word by word; long unchanged stretches are cut to a little context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Kind = Literal["same", "del", "ins"]
LineKind = Literal["same", "del", "ins", "change"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str


@dataclass(frozen=True)
class DiffLine:
    kind: LineKind
    segments: tuple[Segment, ...]
    old_number: int | None  # 1-based line number in the older text
    new_number: int | None


@dataclass(frozen=True)
class Hunk:
    lines: tuple[DiffLine, ...]


def word_segments(old: str, new: str) -> tuple[Segment, ...]:
    """One line as it changed: unchanged words, removed words, added words."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[Segment] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            _append(out, "same", "".join(a[i1:i2]))
            continue
        if i2 > i1:
            _append(out, "del", "".join(a[i1:i2]))
        if j2 > j1:
            _append(out, "ins", "".join(b[j1:j2]))
    return tuple(out)


def _append(out: list[Segment], kind: Kind, text: str) -> None:
    if not text:
        return
    if out and out[-1].kind == kind:
        out[-1] = Segment(kind, out[-1].text + text)
    else:
        out.append(Segment(kind, text))


def _lines(text: str | None) -> list[str]:
    return (text or "").replace("\r\n", "\n").split("\n") if text else []


def text_diff(old: str | None, new: str | None, *, context: int = 2) -> list[Hunk]:
    """The changes from ``old`` to ``new`` as hunks of lines; [] when nothing changed."""
    a, b = _lines(old), _lines(new)
    hunks = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("same", (Segment("same", a[i]),), i + 1, j1 + (i - i1) + 1)
                    for i in range(i1, i2)
                )
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for k in range(paired):
                segments = word_segments(a[i1 + k], b[j1 + k])
                lines.append(DiffLine("change", segments, i1 + k + 1, j1 + k + 1))
            lines.extend(
                DiffLine("del", (Segment("del", a[i]),), i + 1, None)
                for i in range(i1 + paired, i2)
            )
            lines.extend(
                DiffLine("ins", (Segment("ins", b[j]),), None, j + 1)
                for j in range(j1 + paired, j2)
            )
        if any(line.kind != "same" for line in lines):
            hunks.append(Hunk(tuple(lines)))
    return hunks


@dataclass(frozen=True)
class FieldChange:
    """A short field that changed (title, status, summary): before and after."""

    name: str
    old: str | None
    new: str | None


def field_changes(old: dict[str, str | None], new: dict[str, str | None]) -> list[FieldChange]:
    return [
        FieldChange(name, old.get(name), new.get(name))
        for name in new
        if (old.get(name) or None) != (new.get(name) or None)
    ]

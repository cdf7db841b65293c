"""Readable differences between revisions: lines, words, context and nothing trusted."""

from __future__ import annotations

from actors.web.diffs import Segment, field_changes, text_diff, word_segments


def test_changed_word_within_a_line() -> None:
    assert word_segments("Check the dose twice.", "Check the dose three times.") == (
        Segment("same", "Check the dose "),
        Segment("del", "twice"),
        Segment("ins", "three times"),
        Segment("same", "."),
    )


def test_added_and_removed_lines_with_context() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10\n", "").replace("line 20", "line 20\nline 21")
    hunks = text_diff(old, new, context=1)
    assert len(hunks) == 2
    first = [(ln.kind, ln.segments[0].text, ln.old_number, ln.new_number) for ln in hunks[0].lines]
    assert first == [
        ("same", "line 9", 9, 9),
        ("del", "line 10", 10, None),
        ("same", "line 11", 11, 10),
    ]
    second = [(ln.kind, ln.segments[0].text, ln.old_number, ln.new_number) for ln in hunks[1].lines]
    assert second == [("same", "line 20", 20, 19), ("ins", "line 21", None, 20)]


def test_replaced_lines_pair_up_then_the_rest_is_added() -> None:
    [hunk] = text_diff("a b\nc", "a B\nc d\ne")
    kinds = [ln.kind for ln in hunk.lines]
    assert kinds == ["change", "change", "ins"]
    assert hunk.lines[0].segments == (
        Segment("same", "a "),
        Segment("del", "b"),
        Segment("ins", "B"),
    )


def test_no_change_no_hunks() -> None:
    assert text_diff("same\ntext", "same\ntext") == []
    assert text_diff(None, None) == []
    assert text_diff("", "") == []


def test_from_nothing_everything_is_added() -> None:
    [hunk] = text_diff("", "first\nsecond")
    assert [(ln.kind, ln.segments[0].text) for ln in hunk.lines] == [
        ("ins", "first"),
        ("ins", "second"),
    ]


def test_markup_stays_text() -> None:
    [hunk] = text_diff("<b>x</b>", "<script>alert(1)</script>")
    [line] = hunk.lines
    # data, not markup (the template escapes every piece); both versions can be rebuilt
    assert "".join(s.text for s in line.segments if s.kind != "del") == "<script>alert(1)</script>"
    assert "".join(s.text for s in line.segments if s.kind != "ins") == "<b>x</b>"


def test_windows_line_endings_are_not_changes() -> None:
    assert text_diff("a\r\nb", "a\nb") == []


def test_field_changes() -> None:
    changes = field_changes(
        {"Title": "Old", "Status": "emerging", "Summary": None},
        {"Title": "New", "Status": "emerging", "Summary": ""},
    )
    assert [(c.name, c.old, c.new) for c in changes] == [("Title", "Old", "New")]

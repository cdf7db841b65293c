"""Paged collections: the ``?page=`` parameter is a page number, or the request is bad."""

from __future__ import annotations

import pytest

from federation.collections import parse_page
from federation.errors import BadRequest


def test_a_page_number_or_the_root() -> None:
    assert [parse_page(None), parse_page("true"), parse_page("3")] == [None, 1, 3]


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1000001", "1.5", ""])
def test_anything_else_is_a_bad_request_saying_what_a_page_is(raw: str) -> None:
    with pytest.raises(BadRequest, match="page must be a positive integer"):
        parse_page(raw)

"""The templates' link filters (``| href``, ``| safe_url``): http(s) URLs only, the same
answer every time they are asked (their checks are remembered), and a ``Markup`` value
never answered with a plain string remembered under the same text, nor the other way."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from actors.web.present import href, url_or_empty

UNSAFE = [
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "ftp://files.example/x",
    "https://social.example/users/a\nb",
    "https://social.example:99999/users/a",
    "/relative/path",
    "",
    None,
    42,
]


@pytest.mark.parametrize("value", UNSAFE)
def test_unsafe_values_link_nowhere(value: object) -> None:
    for _ in range(2):  # the second answer comes from what was remembered
        assert href(value) == "#"
        assert url_or_empty(value) == ""


def test_an_http_url_is_itself_every_time() -> None:
    url = "https://social.example/users/alice/statuses/1"
    for _ in range(2):
        assert href(url) == url
        assert url_or_empty(url) == url


def test_markup_and_str_of_the_same_text_keep_their_types() -> None:
    url = "https://social.example/users/bob"
    assert type(href(url)) is str
    assert type(href(escape(url))) is Markup
    assert type(href(url)) is str

"""Where a URL lives: its origin (scheme, host, port), the origin a browser sends, its host."""

from __future__ import annotations

import pytest

from federation.origins import authority, host_of, origin_of, origin_text, same_origin, web_origin


def test_origin_is_scheme_host_and_port_with_the_default_port_filled_in() -> None:
    assert origin_of("https://Social.Example/users/ana") == ("https", "social.example", 443)
    assert origin_of("http://social.example:8080/x") == ("http", "social.example", 8080)
    assert origin_text("HTTPS://social.example/x") == "https://social.example:443"


@pytest.mark.parametrize(
    "url", ["mailto:ana@social.example", "https:///path", "https://x.example:99999/", "x", ""]
)
def test_what_is_not_an_http_url_has_no_origin(url: str) -> None:
    assert origin_of(url) is None
    assert origin_text(url) == url


def test_same_origin_compares_origins_and_never_matches_without_one() -> None:
    assert same_origin("https://a.example/note/1", "https://A.example:443/users/ana")
    assert not same_origin("https://a.example/note/1", "http://a.example/users/ana")
    assert not same_origin("https://a.example/note/1", "https://b.example/users/ana")
    assert not same_origin("foo:1", "foo:1")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Copub.Example/console", "https://copub.example"),
        ("https://copub.example:443/", "https://copub.example"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080"),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("null", None),
        ("https://copub.example:0x1/", None),
    ],
)
def test_web_origin_is_written_as_browsers_send_it(url: str, origin: str | None) -> None:
    assert web_origin(url) == origin


def test_authority_leaves_out_the_default_port_and_brackets_ipv6() -> None:
    assert authority("https", "a.example", 443) == "a.example"
    assert authority("http", "a.example", 443) == "a.example:443"
    assert authority("https", "::1", None) == "[::1]"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Inbox.Example/inbox", "inbox.example"),
        ("http://inbox.example:8080/inbox", "inbox.example:8080"),
        ("https://ana:secret@Bad.Example/users/ana", "bad.example"),
        ("ftp://inbox.example/inbox", None),
        ("https://" + "h" * 256 + "/inbox", None),
        ("https://[::1/", None),
    ],
)
def test_host_is_the_authority_of_an_http_url_as_written(url: str, host: str | None) -> None:
    assert host_of(url) == host

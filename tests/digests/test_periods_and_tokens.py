"""The pure parts of digests: periods (weeks and months in UTC) and the links' tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actors.digests import tokens
from actors.digests.periods import Frequency, containing, from_key, last_closed
from actors.digests.subscribing import RequestLimit, normalize_address
from actors.settings import ConfigError, settings_from_dict


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weeks_run_monday_to_monday_and_months_by_the_calendar() -> None:
    week = containing(at("2026-12-05T23:59:00"), Frequency.WEEKLY)
    assert (week.start, week.end) == (at("2026-11-30T00:00:00"), at("2026-12-07T00:00:00"))
    assert week.key == "2026-W49"
    assert week.label == "the week of 30 November 2026"
    december = containing(at("2026-12-31T12:00:00"), Frequency.MONTHLY)
    assert (december.start, december.end) == (at("2026-12-01T00:00:00"), at("2027-01-01T00:00:00"))
    assert december.label == "December 2026"
    assert december.next().key == "2027-01"
    assert december.previous().key == "2026-11"


def test_the_due_period_is_the_last_closed_one() -> None:
    monday = at("2026-12-07T00:05:00")
    assert last_closed(monday, Frequency.WEEKLY).key == "2026-W49"
    assert last_closed(monday, Frequency.MONTHLY).key == "2026-11"
    for key, frequency in (("2026-W49", Frequency.WEEKLY), ("2027-01", Frequency.MONTHLY)):
        assert from_key(key, frequency).key == key


def test_confirmation_tokens_are_checked_against_their_hash() -> None:
    issued = tokens.issue_confirmation(42)
    parts = tokens.split(issued.text)
    assert parts is not None
    ident, secret = parts
    assert ident == 42
    assert secret not in issued.digest
    assert tokens.confirmation_matches(secret, issued.digest)
    assert not tokens.confirmation_matches(secret[:-1] + "x", issued.digest)
    assert not tokens.confirmation_matches(secret, None)
    for bad in ("", "42", "x.abcdefghijklmnopq", "42.short"):
        assert tokens.split(bad) is None


def test_unsubscribe_tokens_name_one_subscription_under_the_servers_key() -> None:
    key = tokens.link_key("-----BEGIN PRIVATE KEY-----\nserver\n")
    token = tokens.unsubscribe_token(key, 7, "Nurse@Hospital.example")
    parts = tokens.split(token)
    assert parts is not None
    assert tokens.unsubscribe_matches(key, 7, "nurse@hospital.example", parts[1])
    assert not tokens.unsubscribe_matches(key, 8, "nurse@hospital.example", parts[1])
    assert not tokens.unsubscribe_matches(key, 7, "other@hospital.example", parts[1])
    other = tokens.link_key("-----BEGIN PRIVATE KEY-----\nanother server\n")
    assert not tokens.unsubscribe_matches(other, 7, "nurse@hospital.example", parts[1])
    assert "nurse" not in token


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Nurse@Hospital.Example ", "nurse@hospital.example"),
        ("a.b+digest@sub.example.org", "a.b+digest@sub.example.org"),
        ("no-at-sign.example", None),
        ("two@@example.org", None),
        ("x@example.org\nBcc: y@example.org", None),
        ('"quoted"@example.org', None),
        ("a@localhost", None),
        ("a" * 250 + "@example.org", None),
    ],
)
def test_addresses_are_checked_before_anything_is_stored(typed: str, kept: str | None) -> None:
    assert normalize_address(typed) == kept


def test_email_settings_are_checked_when_loaded() -> None:
    base = {"server": {"base_url": "https://cop.test"}}
    assert not settings_from_dict(base).email.enabled  # off by default
    on = settings_from_dict({**base, "email": {"host": "smtp.test", "from_address": "d@cop.test"}})
    assert on.email.enabled
    assert on.email.security == "starttls"
    for bad, key in (
        ({"host": "smtp.test"}, "email.from_address"),
        ({"security": "ssl"}, "email.security"),
        ({"port": 0}, "email.port"),
        ({"check_minutes": 0}, "email.check_minutes"),
    ):
        with pytest.raises(ConfigError, match=key):
            settings_from_dict({**base, "email": bad})


def test_the_request_limit_counts_an_hour_per_requester() -> None:
    limit = RequestLimit(per_hour=2, size=2)
    assert limit.allow("a", 0.0)
    assert limit.allow("a", 10.0)
    assert not limit.allow("a", 20.0)
    assert limit.allow("b", 20.0)  # each requester its own count
    assert limit.allow("a", 3601.0)  # the first went out of the hour


def test_the_request_limit_remembers_a_bounded_number_of_requesters() -> None:
    limit = RequestLimit(per_hour=1, size=2)
    assert limit.allow("a", 0.0)
    assert not limit.allow("a", 1.0)
    assert limit.allow("b", 2.0)
    assert limit.allow("c", 3.0)  # "a" is the oldest of three: forgotten
    assert limit.allow("a", 4.0)

"""Times as copub takes, reads and writes them: aware, in UTC when stored or sent (never
naive); read from ISO 8601; written in the form AS2 documents use; zones by IANA name."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_TIME_TEXT = 64  # longer text is not read as a time (an ISO 8601 time is about 25)


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def parse_iso_time(value: object, zone: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 date and time (``Z`` or an offset; without one, wall-clock time in
    ``zone``), aware; None when ``value`` is not one or is longer than ``MAX_TIME_TEXT``."""
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def as2_time(moment: datetime) -> str:
    """``moment`` as AS2 documents write times: ``2026-12-01T17:00:07Z`` (UTC, to the
    second); a naive moment is taken to be in UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone ``name``, or None when the zone database has none such: an
    unknown name, a malformed one, and one the database cannot open as a zone file (a
    directory such as ``Europe``, a name too long for a file) alike."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None

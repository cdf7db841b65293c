"""The one place values from another server are checked before anything here uses them.

- URLs: :func:`safe_url` keeps an http(s) URL with a host and nothing else: no other scheme
  (``javascript:``, ``data:``), no whitespace or control character anywhere (checked on the
  raw string: ``urlsplit`` silently drops tabs, CR and LF), a bounded length. Every URL
  taken from a remote document and shown in a page, a feed or a calendar goes through it.
- Lists: :func:`bounded` de-duplicates (by id, for links and objects) and caps a list before
  anyone walks it; :func:`bound_document` does so for the addressing, tags, attachments and
  other lists of a document and of the objects it embeds (``Announce(Create(Note))``).
- Dates: :func:`remote_time` reads an ISO 8601 time and refuses one outside a sane range
  (:func:`date_problem` names the field of a document that is out of range).
- Types: ``federation.vocab.types_of`` / ``has_type`` (a string or a list).
- Words: :func:`one_of` keeps a value only from a fixed set (a value-creation cycle);
  :func:`bounded_text` keeps a short string without control characters.
- Shapes: :func:`shape_problem` says why an activity of a type we read cannot be read at all
  (a ``Flag`` that names no URL), for the inbox to refuse it before the 202.

The caps are a :class:`Limits` value (the ``[limits]`` section of the settings).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from federation.clock import parse_iso_time, utcnow
from federation.vocab import JSON, as_list, get_id, has_type

MAX_URL_LENGTH = 2048
AUDIENCE_KEYS = ("to", "cc", "bto", "bcc", "audience")
DATE_KEYS = ("published", "updated", "startTime", "endTime")
# A list is read this many times its cap at most: duplicates beyond are not even looked at.
SCAN_FACTOR = 8
# Other lists a document may carry where one value is usual.
OTHER_LIST_KEYS = ("attributedTo", "actor", "location", "url", "icon", "image", "inReplyTo")

# Whitespace (any, Unicode included), C0 and C1 controls, and the characters RFC 3986 never
# allows in a URL that break out of an attribute or a content line.
_NOT_IN_URL = re.compile(r'[\s\x00-\x1f\x7f-\x9f"<>\\`]')


@dataclass(frozen=True)
class Limits:
    """How much of a remote document is read (``[limits]`` of config.example.toml)."""

    # entries kept of each addressing list (to, cc, bto, bcc, audience), after removing repeats
    max_audience: int = 200
    # tags kept (hashtags, mentions, emoji)
    max_tags: int = 64
    # attachments kept (media, links, profile fields)
    max_attachments: int = 32
    # entries kept of any other list (attributedTo, location, url, icon, image, ...)
    max_list_items: int = 32
    # longest URL accepted, in characters (the database keeps up to 2048)
    max_url_length: int = MAX_URL_LENGTH
    # dates before this year are refused (an event "since year 1" is an attack, not a plan)
    min_year: int = 1900
    # dates more than this many years ahead are refused
    max_years_ahead: int = 100
    # an activity whose context renames ActivityStreams terms is compacted (JSON-LD, in the
    # background) when it is at most this large; a larger one is read as it came (0: never)
    max_jsonld_bytes: int = 65_536
    # characters kept of a report's reason (a Flag's content), as plain text
    max_report_chars: int = 2000

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these limits, as (field, why), for the settings loader."""
        found = [
            (name, "must be at least 1")
            for name in (
                "max_audience",
                "max_tags",
                "max_attachments",
                "max_list_items",
                "max_years_ahead",
            )
            if getattr(self, name) < 1
        ]
        if not 64 <= self.max_url_length <= MAX_URL_LENGTH:
            found.append(("max_url_length", f"must be between 64 and {MAX_URL_LENGTH}"))
        if not 1 <= self.min_year <= 2000:
            found.append(("min_year", "must be between 1 and 2000"))
        if self.max_report_chars < 1:
            found.append(("max_report_chars", "must be at least 1"))
        if self.max_jsonld_bytes < 0:
            found.append(("max_jsonld_bytes", "must be at least 0"))
        return found


DEFAULT_LIMITS = Limits()


def safe_url(value: object, *, max_length: int = MAX_URL_LENGTH) -> str | None:
    """``value`` when it is an http(s) URL with a host and nothing unsafe in it, else None."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        return None
    if _NOT_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def first_url(value: Any, *, max_length: int = MAX_URL_LENGTH, scan: int = 16) -> str | None:
    """The first safe URL of a ``url``-like property: a string, a Link (``href``), an object
    (``id``), or a list of them, preferring a Link to an HTML page (PeerTube lists several)."""
    candidates = as_list(value)[:scan]
    pages = [c for c in candidates if isinstance(c, dict) and c.get("mediaType") == "text/html"]
    for candidate in (*pages, *candidates):
        ident = candidate if isinstance(candidate, str) else get_id(candidate)
        url = safe_url(ident, max_length=max_length)
        if url is not None:
            return url
    return None


def bounded(values: Any, cap: int) -> list[Any]:
    """The entries of an AS2 list property (one value or a list), without repeats (a link or
    an object counts as its id), at most ``cap``. Entries that are neither a string nor an
    object are dropped; no more than ``cap * SCAN_FACTOR`` entries are read."""
    kept: list[Any] = []
    seen: set[str] = set()
    for value in as_list(values)[: max(cap, 1) * SCAN_FACTOR]:
        if isinstance(value, str):
            key: str | None = value
        elif isinstance(value, dict):
            key = get_id(value)
        else:
            continue
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(value)
        if len(kept) >= cap:
            break
    return kept


def _caps(limits: Limits) -> list[tuple[str, int]]:
    caps = [(key, limits.max_audience) for key in AUDIENCE_KEYS]
    caps += [("tag", limits.max_tags), ("attachment", limits.max_attachments)]
    caps += [(key, limits.max_list_items) for key in OTHER_LIST_KEYS]
    return caps


def bound_document(document: JSON, limits: Limits = DEFAULT_LIMITS, *, depth: int = 3) -> JSON:
    """``document`` with its lists bounded (:func:`bounded`), and those of the objects it
    embeds down to ``depth`` levels; the same dict when nothing needed it, else a copy
    (the document given is never changed)."""
    changes: JSON = {}
    for key, cap in _caps(limits):
        value = document.get(key)
        if isinstance(value, list):
            kept = bounded(value, cap)
            if len(kept) != len(value):
                changes[key] = kept
    inner = document.get("object")
    if depth > 1 and isinstance(inner, dict):
        inner_bounded = bound_document(inner, limits, depth=depth - 1)
        if inner_bounded is not inner:
            changes["object"] = inner_bounded
    return {**document, **changes} if changes else document


def in_date_range(moment: datetime, limits: Limits = DEFAULT_LIMITS, *, now: datetime) -> bool:
    """Whether ``moment`` lies between the year ``min_year`` and ``max_years_ahead`` from now."""
    return limits.min_year <= moment.year <= now.year + limits.max_years_ahead


def remote_time(
    value: object, limits: Limits = DEFAULT_LIMITS, *, now: datetime | None = None
) -> datetime | None:
    """An ISO 8601 time from a remote document (UTC when it names no offset), or None when
    it is not one or lies outside the sane range."""
    moment = parse_iso_time(value)
    if moment is None or not in_date_range(moment, limits, now=now or utcnow()):
        return None
    return moment


def date_problem(
    document: JSON, limits: Limits = DEFAULT_LIMITS, *, now: datetime | None = None
) -> str | None:
    """Why a document's dates are refused (a readable one outside the sane range), or None."""
    now = now or utcnow()
    for key in DATE_KEYS:
        moment = parse_iso_time(document.get(key))
        if moment is not None and not in_date_range(moment, limits, now=now):
            return (
                f"{key} {document[key]!r} is outside the years "
                f"{limits.min_year}..{now.year + limits.max_years_ahead}"
            )
    return None


def one_of(value: object, allowed: Collection[str]) -> str | None:
    """``value`` when it is a string among ``allowed`` (compared as given, ignoring case and
    surrounding blanks; the allowed spelling is returned), else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    wanted = value.strip().lower()
    return next((word for word in allowed if word.lower() == wanted), None)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def bounded_text(value: object, max_chars: int) -> str | None:
    """A string value without control characters (tabs and newlines kept), trimmed and cut
    at ``max_chars``; None for anything else or nothing left. It may still hold markup:
    whoever shows it escapes it."""
    if not isinstance(value, str):
        return None
    text = _CONTROL.sub("", value[: max_chars * 2]).strip()[:max_chars].strip()
    return text or None


def object_urls(value: Any, cap: int, *, max_length: int = MAX_URL_LENGTH) -> list[str]:
    """The safe URLs an ``object``-like property names: strings, links and objects (by
    their id), one or a list; without repeats, at most ``cap``; the rest dropped."""
    found: dict[str, None] = {}
    for entry in bounded(value, max(cap, 1) * SCAN_FACTOR):
        url = safe_url(get_id(entry), max_length=max_length)
        if url is not None:
            found[url] = None
            if len(found) >= cap:
                break
    return list(found)


def flag_problem(activity: JSON, *, max_url_length: int = MAX_URL_LENGTH) -> str | None:
    """Why a ``Flag`` (a report) cannot be read, or None: it must name what it reports, by
    the http(s) URL of an account or a post (a string, a link or an object with an id, or
    a list of them, as Mastodon, Lemmy, Mbin, Misskey and GoToSocial send)."""
    reported = activity.get("object")
    if reported is None or reported in ("", [], {}):
        return "the Flag has no 'object': name the reported account or posts by their URLs"
    if not object_urls(reported, 1, max_length=max_url_length):
        return "the Flag's 'object' names no http(s) URL of an account or a post"
    return None


def shape_problem(activity: JSON, *, max_url_length: int = MAX_URL_LENGTH) -> str | None:
    """Why an activity of a type copub reads cannot be read at all, or None. Only what no
    handler could use is refused here; the handlers check the rest."""
    if has_type(activity, "Flag"):
        return flag_problem(activity, max_url_length=max_url_length)
    return None

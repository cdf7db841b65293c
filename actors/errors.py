"""The domain's errors: one root, :class:`CopubError`, and the kinds of refusal under it.

Every error copub raises on purpose for a person to read is a ``CopubError``: a
``message`` (what went wrong, and what to do instead), an ``http_status`` and, when the
error is about one input, its ``field`` (an AS2 name such as ``startTime``, or a form's
field). They are turned into an answer in one place each:

- the ``copub`` command (``actors.cli.support.PluginGroup``): the message on stderr,
  exit status 1;
- the web app (``actors.web.errors``): the status, with ``{"error": message}`` (and
  ``"field"``) as JSON, or the error page for a browser.

Both also take ``federation.errors.FederationError``, the protocol's root. A module
defines its own errors as children of the kind that fits (``InvalidContent`` is
:class:`Invalid`, ``NotPublished`` is :class:`NotFound`); the kinds keep the built-in
exception a caller would expect (``ValueError``, ``LookupError``) as a second base.
"""

from __future__ import annotations

from typing import ClassVar


class CopubError(Exception):
    """Something the domain refuses or cannot do; ``message`` says what, for a person."""

    http_status: ClassVar[int] = 400
    field: str | None = None  # the input the error is about, if one is

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class Invalid(CopubError, ValueError):
    """A value that is not acceptable (a field of an item, a slug, an actor's URL)."""

    http_status = 400


class Forbidden(CopubError):
    """Allowed to nobody who asks this way."""

    http_status = 403


class NotFound(CopubError, LookupError):
    """No such thing (or not one this community has)."""

    http_status = 404


class Conflict(CopubError):
    """The request does not fit what is there now (a name taken, a lock held)."""

    http_status = 409


class Upstream(CopubError):
    """Another server copub depends on (a forum) failed or answered nonsense."""

    http_status = 502

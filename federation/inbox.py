"""An inbox POST: size limit -> media type -> parse -> verify -> persist (through a port) -> 202.

:func:`receive` knows no domain and no storage: it is given the request, the key resolver,
the limits, and an :class:`InboxStore` that keeps what it accepts. A refusal raises a
``FederationError`` (the app's error middleware answers its status with a JSON reason):

- 415: the Content-Type does not name an activity (``federation.wire``);
- 413: the body is over ``InboxLimits.max_body`` bytes;
- 400: the body is not JSON, not an object, has no ``id``, ``type`` or ``actor``, its id
  or actor is longer than ``InboxLimits.max_iri`` characters, or it is of a type we read
  in a shape nothing could use (``federation.intake.shape_problem``: a ``Flag`` naming no
  URL);
- 401: the signature is missing, does not verify, or its key's owner is not the actor;
- 403: the activity's id is not on the origin of the key that signed it;
- 503: the signer's key could not be fetched now (too many key fetches under way).

What is accepted is stored once per (signer's origin, activity id) (:func:`dedupe_key`) and
processed later, from the store, so an activity that got its 202 survives a crash.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from federation.errors import BadRequest, FederationError
from federation.httpsig import (
    KeyResolver,
    check_activity_origin,
    check_signer_is_actor,
    read_limited_body,
    verify_aiohttp_request,
)
from federation.intake import shape_problem
from federation.origins import host_of, origin_text
from federation.vocab import (
    ACTIVITY_TYPES,
    JSON,
    actor_of,
    has_type,
    main_type,
    object_id_of,
    types_of,
)
from federation.wire import check_activity_media_type, parse_json

log = logging.getLogger(__name__)

MAX_IRI = 2048


@dataclass(frozen=True, slots=True)
class InboxLimits:
    """How much of a POST an inbox reads."""

    max_body: int  # bytes of the body
    max_iri: int = MAX_IRI  # characters of the activity's id and actor (what the store holds)


def dedupe_key(signer: str, activity_id: str) -> str:
    """What an activity is stored once under: the origin of ``signer`` (the owner of the
    key that signed it) and the activity id. No other server can sign for that origin, so
    none can take the id (activity-id squatting)."""
    return hashlib.sha256(f"{origin_text(signer)} {activity_id}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AcceptedActivity:
    """An activity that passed every check, as the store is given it."""

    activity: JSON = field(repr=False)
    body: bytes = field(repr=False)  # as received: what is kept
    signer: str  # the owner of the key that signed it
    id: str
    type: str  # its main type (``type`` may be a list: see ``activity_type``)
    actor: str

    @classmethod
    def of(cls, activity: JSON, body: bytes, signer: str) -> AcceptedActivity:
        """``activity`` as :func:`parse_activity` returned it, signed by ``signer``."""
        return cls(
            activity=activity,
            body=body,
            signer=signer,
            id=activity["id"],
            type=activity_type(activity),
            actor=str(actor_of(activity)),
        )

    @property
    def dedupe_key(self) -> str:
        return dedupe_key(self.signer, self.id)


class InboxStore(Protocol):
    """Keeps accepted activities until they are processed
    (``actors.store.inbox_queue.InboxWriter`` fits)."""

    async def store(self, accepted: AcceptedActivity, recipient: str | None) -> None:
        """Keep ``accepted`` durably before returning: the 202 promises it survives a crash.
        ``recipient``: whose inbox it came to, as the application names it (None: the
        shared inbox). An activity already kept under the same ``dedupe_key`` is not kept
        again. Raises if it could not be kept (the sender gets a 500 and retries)."""
        ...


def activity_type(activity: JSON) -> str:
    """The one type an activity is stored and logged under (its ``type`` may be a list)."""
    return main_type(activity, ACTIVITY_TYPES) or ""


def parse_activity(body: bytes, *, max_iri: int = MAX_IRI) -> JSON:
    """The activity of an inbox POST's body; BadRequest (400) with the reason if it is not
    one: not JSON, not an object, no ``id``, no ``type`` (a string or a list), no
    ``actor``, an id or actor longer than ``max_iri``, or a shape nothing could use
    (``federation.intake.shape_problem``)."""
    try:
        activity = parse_json(body)
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from exc
    if not isinstance(activity, dict):
        raise BadRequest("the body must be a JSON object")
    if not isinstance(activity.get("id"), str) or not activity["id"]:
        raise BadRequest("the activity has no 'id'")
    if not any(types_of(activity)):  # a string or a list (JSON-LD allows both)
        raise BadRequest("the activity has no 'type'")
    actor = actor_of(activity)
    if not actor:
        raise BadRequest("the activity has no 'actor'")
    for name, value in (("id", activity["id"]), ("actor", actor)):
        if len(value) > max_iri:
            raise BadRequest(f"the activity's {name} is too long (over {max_iri} characters)")
    problem = shape_problem(activity, max_url_length=max_iri)
    if problem is not None:
        raise BadRequest(problem)
    return activity


def _is_self_delete(activity: JSON) -> bool:
    return has_type(activity, "Delete") and object_id_of(activity) == actor_of(activity)


async def receive(
    request: web.Request,
    *,
    resolver: KeyResolver,
    store: InboxStore,
    limits: InboxLimits,
    scheme: str,
    recipient: str | None,
) -> web.Response:
    """Check one POST and keep it in ``store``: 202 with ``{"accepted": id}``. Raises
    ``FederationError`` to refuse (see the module's docstring for each status).

    ``scheme``: of the server's own URLs (the signed request target's); ``recipient``:
    passed to the store."""
    check_activity_media_type(request.headers.get("Content-Type"))
    body = await read_limited_body(request, limits.max_body)
    activity = parse_activity(body, max_iri=limits.max_iri)
    try:
        verified = await verify_aiohttp_request(request, body, resolver, scheme=scheme)
    except FederationError:
        if _is_self_delete(activity):
            # A deleted account's key is gone with it; nothing to verify, nothing to do.
            log.info("unverifiable self-Delete of %s dropped", activity.get("actor"))
            return _accepted(activity["id"])
        raise
    check_signer_is_actor(verified, activity)
    check_activity_origin(verified, activity)
    accepted = AcceptedActivity.of(activity, body, verified.owner)
    await store.store(accepted, recipient)
    log.info(
        "accepted %s %s from %s",
        accepted.type,
        accepted.id,
        accepted.signer,
        extra={
            "activity_id": accepted.id,
            "activity_type": accepted.type,
            "peer": host_of(accepted.signer),
        },
    )
    return _accepted(accepted.id)


def _accepted(activity_id: str) -> web.Response:
    return web.json_response({"accepted": activity_id}, status=202)

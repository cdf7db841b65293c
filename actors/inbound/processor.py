"""Inbox: size limit -> signature -> the raw activity stored durably -> 202.

Processing happens later, from the stored queue (``InboxProcessor``), one item per
transaction, so an activity that got its 202 survives a crash and is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.hooks import ObjectObserver
from actors.inbound.context import ActorLookup, InboundContext, ObjectFetch
from actors.store import social
from actors.store.holders import Holder
from actors.store.models import InboxItemRow, utcnow
from actors.urls import Urls
from federation.errors import BadRequest, FederationError, SignatureError
from federation.httpsig import (
    KeyResolver,
    check_activity_origin,
    check_signer_is_actor,
    origin_text,
    read_limited_body,
    verify_aiohttp_request,
)
from federation.routing import ActivityRouter
from federation.vocab import ACTIVITY_TYPES, JSON, get_id, has_type, main_type, types_of
from federation.wire import check_activity_media_type, parse_json

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_IRI = 2048  # what inbox_items.activity_id and actor_id hold


def parse_activity(body: bytes) -> JSON:
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
    actor = get_id(activity.get("actor"))
    if not actor:
        raise BadRequest("the activity has no 'actor'")
    for name, value in (("id", activity["id"]), ("actor", actor)):
        if len(value) > MAX_IRI:
            raise BadRequest(f"the activity's {name} is too long (over {MAX_IRI} characters)")
    return activity


def _is_self_delete(activity: JSON) -> bool:
    return has_type(activity, "Delete") and get_id(activity.get("object")) == get_id(
        activity.get("actor")
    )


def activity_type(activity: JSON) -> str:
    """The one type an activity is stored and logged under (its ``type`` may be a list)."""
    return main_type(activity, ACTIVITY_TYPES) or ""


def dedupe_key(signer: str, activity_id: str) -> str:
    """What an inbox item is stored once under: the origin of ``signer`` (the owner of the
    key that signed it) and the activity id. No other server can sign for that origin, so
    none can take the id (activity-id squatting)."""
    return hashlib.sha256(f"{origin_text(signer)} {activity_id}".encode()).hexdigest()


def inbox_values(
    activity: JSON, raw: bytes, community_slug: str | None, *, signer: str
) -> dict[str, Any]:
    """The row of an accepted activity; ``signer``: the owner of the key that signed it."""
    return {
        "activity_id": activity["id"],
        "dedupe_key": dedupe_key(signer, activity["id"]),
        "activity_type": activity_type(activity)[:64],
        "actor_id": str(get_id(activity.get("actor"))),
        "community_slug": community_slug,
        "ap_raw": raw.decode("utf-8"),
        "state": "pending",
        "attempts": 0,
        "received_at": utcnow(),
    }


class InboxWriter:
    """Group commit: concurrent inbox requests share one transaction.

    Each caller waits until its row is committed (durable before the 202). While one
    batch is being written the next one gathers; a duplicate (same signer origin
    and activity id, see ``dedupe_key``) is ignored.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, postgresql: bool, max_batch: int = 500
    ) -> None:
        self._sessions = sessions
        self._insert = pg_insert if postgresql else sqlite_insert
        self._max_batch = max_batch
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing = False

    async def store(self, values: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((values, future))
        if not self._flushing:
            self._flushing = True
            try:
                while self._pending:
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    await self._write(batch)
            finally:
                self._flushing = False
        await future

    async def _write(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            async with self._sessions.begin() as session:
                rows = list({v["dedupe_key"]: v for v, _ in batch}.values())
                await session.execute(self._insert(InboxItemRow).on_conflict_do_nothing(), rows)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)


async def receive(
    request: web.Request,
    *,
    writer: InboxWriter,
    resolver: KeyResolver,
    max_body: int,
    scheme: str,
    community_slug: str | None,
) -> JSON:
    """Check and store one POST; returns the activity. Raises FederationError to reject."""
    check_activity_media_type(request.headers.get("Content-Type"))
    body = await read_limited_body(request, max_body)
    activity = parse_activity(body)
    try:
        verified = await verify_aiohttp_request(request, body, resolver, scheme=scheme)
    except FederationError:
        if _is_self_delete(activity):
            # A deleted account's key is gone with it; nothing to verify, nothing to do.
            log.info("unverifiable self-Delete of %s dropped", activity.get("actor"))
            return activity
        raise
    check_signer_is_actor(verified, activity)
    check_activity_origin(verified, activity)
    await writer.store(inbox_values(activity, body, community_slug, signer=verified.owner))
    log.info(
        "accepted %s %s from %s",
        activity_type(activity),
        activity["id"],
        verified.owner,
        extra={"activity_id": activity["id"], "activity_type": activity_type(activity)},
    )
    return activity


class InboxProcessor:
    """The loop that applies stored inbox items, one transaction each."""

    def __init__(
        self,
        *,
        urls: Urls,
        sessions: async_sessionmaker[AsyncSession],
        router: ActivityRouter[InboundContext],
        lookup_actor: ActorLookup,
        fetch_object: ObjectFetch,
        skip_locked: bool,
        lease_seconds: float = 120.0,
        batch: int = 50,
        observers: Sequence[ObjectObserver] = (),
    ) -> None:
        self.urls = urls
        self.sessions = sessions
        self.router = router
        self.lookup_actor = lookup_actor
        self.fetch_object = fetch_object
        self.skip_locked = skip_locked
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.observers = observers
        self.wakeup = asyncio.Event()
        self.holder: Holder | None = None  # while run() runs: this process, holding leases

    def notify(self) -> None:
        self.wakeup.set()

    async def run_once(self) -> int:
        """Claim and apply the pending items; returns how many were claimed."""
        async with self.sessions.begin() as session:
            items = await social.claim_inbox_items(
                session,
                limit=self.batch,
                lease_until=utcnow() + self.lease,
                skip_locked=self.skip_locked,
                holder=self.holder.id if self.holder is not None else None,
            )
            claimed = [(i.id, i.ap_raw, i.community_slug, i.attempts) for i in items]
        untouched = [
            item_id
            for item_id, raw, slug, attempts in claimed
            if not await self._apply(item_id, raw, slug, attempts)
        ]
        if untouched:  # handlers that changed nothing: mark them done together
            async with self.sessions.begin() as session:
                await session.execute(
                    update(InboxItemRow).where(InboxItemRow.id.in_(untouched)).values(state="done")
                )
        return len(claimed)

    async def _apply(self, item_id: int, raw: str, slug: str | None, attempts: int) -> bool:
        """Apply one item; True when its state was already written (done or failed)."""
        activity = json.loads(raw)
        ctx = InboundContext(
            urls=self.urls,
            sessions=self.sessions,
            lookup_actor=self.lookup_actor,
            fetch_object=self.fetch_object,
            item_id=item_id,
            recipient_slug=slug,
            observers=self.observers,
            limits=self.router.limits,
        )
        try:
            await self.router.dispatch(ctx, activity)
        except Exception as exc:
            failed = attempts + 1 >= MAX_ATTEMPTS or isinstance(exc, SignatureError)
            log.warning(
                "processing %s failed (attempt %d): %s",
                activity.get("id"),
                attempts + 1,
                exc,
                exc_info=not isinstance(exc, FederationError),
                extra={"activity_id": activity.get("id")},
            )
            retry_at = utcnow() + timedelta(seconds=min(3600, 5 * 4**attempts))
            async with self.sessions.begin() as session:
                await session.execute(
                    update(InboxItemRow)
                    .where(InboxItemRow.id == item_id)
                    .values(
                        attempts=attempts + 1,
                        error=str(exc)[:2000],
                        state="failed" if failed else "pending",
                        locked_until=retry_at,  # not a lease: no holder
                        locked_by=None,
                    )
                )
            return True
        return ctx.written

    async def run(self, poll_interval: float = 1.0) -> None:
        """Process until cancelled. First take back the items that a process killed while
        processing them left leased (actors.store.holders), so they do not wait out the
        lease."""
        try:
            try:
                self.holder = await Holder.register(self.sessions.kw["bind"])
                async with self.sessions.begin() as session:
                    await social.reclaim_inbox_items(session, self.holder)
            except Exception:
                log.exception("could not take back the leases of dead processes; they expire")
            await self._loop(poll_interval)
        finally:
            holder, self.holder = self.holder, None
            if holder is not None:
                await holder.close()

    async def _loop(self, poll_interval: float) -> None:
        while True:
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("inbox processing loop error")
                claimed = 0
            if claimed:
                continue
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), poll_interval)

"""One transaction for a batch of inbox items.

The processor (``actors.inbound.processor``) applies the items it claims in order, in one
transaction (:class:`Batch`): each handler's reads and writes (``InboundContext.read`` and
``write``) go through the batch's session, so an item sees what the items before it wrote,
as if each had committed, and the batch marks its items done in the transaction that
holds their effects. What one transaction saves over one per item: a BEGIN, a COMMIT, a
done mark and a content-version bump each, and the session set-up of every read.

The transaction is committed early, between items or before a handler's network call
(``before_network``): a remote fetch is never made holding SQLite's write lock (the remote
actor a lookup stores is written in a session of its own, which would wait for it), and a
request waiting for that lock (an inbox's 202) waits at most for the item under way
(``actors.store.db.requests_waiting``). An item that raises rolls back the items of the
open transaction with it; the processor then applies those one by one as before.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from actors.store import fanout, inbox_queue, memo
from actors.store.db import AsyncSession, async_sessionmaker, begin_deferred, requests_waiting

# the longest a batch's transaction stays open, items after items, before it commits
MAX_OPEN_SECONDS = 0.2


class Batch:
    """The open transaction of a batch of inbox items, and the items finished in it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        actors: frozenset[str] = frozenset(),
        objects: frozenset[str] = frozenset(),
    ) -> None:
        self._sessions = sessions
        # the ids the batch names, read together (actors.store.memo)
        self._actors, self._objects = actors, objects
        self._stack: AsyncExitStack | None = None
        self._session: AsyncSession | None = None
        self._opened = 0.0
        self._writing = 0  # ctx.write() blocks open: an item half written is never committed
        self.finished: list[int] = []  # items applied in the open transaction
        self.unsaved: list[int] = []  # items whose transaction failed to commit
        self.known_actors: frozenset[str] = frozenset()  # looked up before it began

    async def session(self) -> AsyncSession:
        if self._session is None:
            stack = AsyncExitStack()
            self._session = await stack.enter_async_context(begin_deferred(self._sessions))
            memo.enable(self._session, self._actors, self._objects)
            fanout.defer(self._session)  # its relays written at the commit
            self._stack, self._opened = stack, time.monotonic()
        return self._session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        yield await self.session()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        session = await self.session()
        self._writing += 1
        try:
            yield session
        finally:
            self._writing -= 1

    def due(self) -> bool:
        """Whether to commit before the next item: a request waits for the write lock, or
        the transaction has been open long enough."""
        if self._session is None:
            return False
        return (
            requests_waiting(self._sessions) or time.monotonic() - self._opened >= MAX_OPEN_SECONDS
        )

    async def before_network(self) -> None:
        """A handler is about to fetch: commit what the batch holds, unless an item is
        being written (then it goes on holding it, as one transaction per item did)."""
        if self._writing == 0:
            await self.commit()

    async def commit(self) -> list[int]:
        """Commit the open transaction with the done marks of the items finished in it;
        returns those items."""
        if self.finished and self._session is None:  # items that read and wrote nothing
            await self.session()
        stack, session, finished = self._stack, self._session, self.finished
        if stack is None or session is None:
            return []
        self._stack = self._session = None
        self.finished = []
        # Only the first transaction reads what the whole batch names together: one opened
        # after an early commit (requests waiting, a fetch) reads what it needs, else every
        # commit under load would read the batch's names again (quadratic in its size).
        self._actors = self._objects = frozenset()
        try:
            if finished:
                await inbox_queue.mark_done(session, finished)
        except BaseException as exc:
            self.unsaved.extend(finished)
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        try:
            await stack.aclose()
        except BaseException:
            self.unsaved.extend(finished)
            raise
        return finished

    async def rollback(self) -> list[int]:
        """Roll the open transaction back; returns the items that had finished in it."""
        stack, finished = self._stack, self.finished
        self._stack = self._session = None
        self.finished = []
        if stack is not None:
            error = RuntimeError("batch rolled back")
            await stack.__aexit__(RuntimeError, error, None)
        return finished

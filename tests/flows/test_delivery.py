"""Deliveries survive a failing peer (503: retried) and forget dead inboxes (410)."""

from __future__ import annotations

from sqlalchemy import select

from actors.store.models import ActivityRow, DeliveryRow
from actors.web.workers import DELIVERY_WORKER
from federation.delivery.retry import RetryPolicy
from tests.flows.copub import Copub, follow, sqlite_only, wait_until
from tests.flows.remote import Delivery, Person, RemoteServer
from tests.flows.test_publish import about

pytestmark = sqlite_only


def answered(status: int, type_: str, path: str) -> object:
    def check(got: list[Delivery]) -> list[Delivery]:
        return [d for d in got if d.status == status and d.type == type_ and d.path == path]

    return check


async def delivery_rows(copub: Copub, activity_type: str) -> list[tuple[str, str, int, int]]:
    """(inbox, state, attempts, last status) of the jobs for activities of a type."""
    async with copub.sessions() as session:
        rows = await session.execute(
            select(
                DeliveryRow.inbox, DeliveryRow.state, DeliveryRow.attempts, DeliveryRow.last_status
            )
            .join(ActivityRow, ActivityRow.id == DeliveryRow.activity_id)
            .where(ActivityRow.ap_type == activity_type)
        )
        return [tuple(r) for r in rows]


async def test_delivery_is_retried_after_503(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # Given retries after a fraction of a second (the default backoff starts at 30 s)
    copub.app[DELIVERY_WORKER].policy = RetryPolicy(base_seconds=0.2, jitter=0.0)
    # And alice's server answers the next POST to its shared inbox with 503
    remote.respond("/inbox", 503)
    # When the coordinator publishes
    story = await copub.publish("nightshift", "Retry me", "Arrives on the second try.")
    # Then the first attempt got 503 and the second one delivered the Create
    await remote.wait_for(answered(503, "Create", "/inbox"))
    [create] = await remote.wait_for(about("Create", story))
    assert create.path == "/inbox"
    await wait_until(
        lambda: _states(copub, "Create", {"done"}), what="the delivery recorded as done"
    )
    [(_inbox, _state, attempts, last_status)] = await delivery_rows(copub, "Create")
    assert (attempts, last_status) == (2, 202)


async def _states(copub: Copub, activity_type: str, states: set[str]) -> bool:
    rows = await delivery_rows(copub, activity_type)
    return bool(rows) and {state for _i, state, _a, _s in rows} <= states


async def test_410_removes_the_follower(
    copub: Copub, remote: RemoteServer, remote2: RemoteServer, follower: Person
) -> None:
    # Given carol (own inbox only) follows, then her account is deleted on remote2
    carol = remote2.person("carol", shared_inbox=False)
    await follow(remote2, carol, copub, "nightshift")
    assert (await copub.followers("nightshift"))[0] == 2
    remote2.respond(carol.inbox_path, 410)
    # When a story is published
    first = await copub.publish("nightshift", "One", "Carol's inbox is gone.")
    # Then her inbox answers 410 and copub drops her as a follower
    await remote2.wait_for(answered(410, "Create", carol.inbox_path))

    async def carol_removed() -> bool:
        return not await copub.has_follower(carol.id)

    await wait_until(carol_removed, what="carol removed after the 410")
    assert await copub.followers("nightshift") == (1, [follower.id])
    # And the next story goes to alice only
    await remote.wait_for(about("Create", first))
    second = await copub.publish("nightshift", "Two", "Only alice.")
    await remote.wait_for(about("Create", second))
    assert await copub.deliveries_to(carol.inbox, "Create") == 1
    assert len([d for d in remote2.received if d.type == "Create"]) == 1

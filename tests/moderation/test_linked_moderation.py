"""A community here links a Group elsewhere; what that Group's moderators decide about its
items (removals, locks, moderators) reaches our copies:

- from a Lemmy community (recorded shapes, tests/fixtures/activities/moderation/, served by
  a fake origin): a removal by one of its moderators is applied and passed on to our
  followers, a removal by someone else is ignored until the Group adds them as moderator,
  a restore, a lock and its undo, a ban (logged only);
- from another copub: its coordinator's removal and restore, and its new coordinator.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from actors.store.models_moderation import ModAction, RemoteModeratorRow
from federation.vocab import JSON
from tests.flows.copub import Copub, follow, start_copub, wait_until
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces
from tests.links.conftest import fa, home
from tests.links.network import Org, settled
from tests.links.origin import ACTIVITIES, Origin, start_origins
from tests.links.test_group_software import _link, _send_all
from tests.moderation.wire import FIXTURES, PUBLIC, announced, log_lines, stored

__all__ = ["fa", "home"]

_ids = itertools.count(1)


def from_group(origin: Origin, group: str, name: str, **changes: object) -> JSON:
    """The recorded Lemmy activity ``name`` (its hosts those of the test), changed by
    ``changes`` and given a fresh id, inside the Group's Announce, as Lemmy sends it."""
    inner = origin.hosts.load(FIXTURES / f"lemmy-{name}.json")
    inner.pop("@context")
    n = next(_ids)
    inner.update(changes, id=f"{inner['id']}-{n}")
    return {
        "@context": [
            "https://join-lemmy.org/context.json",
            "https://www.w3.org/ns/activitystreams",
        ],
        "id": f"{group}/activities/announce/{inner['type'].lower()}/{n}",
        "type": "Announce",
        "actor": group,
        "to": [PUBLIC],
        "cc": [group + "/followers"],
        "object": inner,
    }


async def _send(home: Copub, origin: Origin, group: str, activity: JSON) -> None:
    assert await origin.send(group, home.shared_inbox, activity) == 202
    await home.processed(activity["id"])


async def _remote_moderators(copub: Copub) -> list[tuple[str, str]]:
    async with copub.sessions() as session:
        rows = await session.execute(
            select(RemoteModeratorRow.group_id, RemoteModeratorRow.actor_id)
        )
        return [(g, a) for g, a in rows]


async def test_a_lemmy_communitys_moderation_reaches_our_copy(
    home: Copub, fa: tuple[RemoteServer, Person]
) -> None:
    people, _person = fa
    lemmy, other = await start_origins(
        "lemmy.example", "other.example", extra={"https://copub.example": home.base_url}
    )
    try:
        lemmy.accepting = True
        lemmy.accept_with = ACTIVITIES / "lemmy" / "accept" / "accept-follow.json"
        # Given hospital links the Lemmy community and announced its post to fa
        group = await _link(home, lemmy, "/c/nursing")
        post, ben = lemmy.url("/post/42"), other.url("/u/ben")
        await _send_all(
            home, lemmy, group, [ACTIVITIES / "lemmy/announce/announce-create-page.json"]
        )
        await people.wait_for(announces(object_id=post))
        # When ben, who moderates nothing there, removes it (announced by the Group)
        await _send(home, lemmy, group, from_group(lemmy, group, "remove-page", actor=ben))
        # Then our copy stays
        assert (await stored(home, post)).removed_at is None
        # When the Group adds ben to its moderators, and he removes it again
        await _send(home, lemmy, group, from_group(lemmy, group, "add-mod"))
        assert await _remote_moderators(home) == [(group, ben)]
        removal = from_group(lemmy, group, "remove-page", actor=ben)
        await _send(home, lemmy, group, removal)
        # Then our copy is removed, and fa hears it from hospital, with the reason
        assert (await stored(home, post)).removed_at is not None
        [told] = await people.wait_for(announced("Delete", post))
        delete = told.activity["object"]
        assert (told.signer, delete["actor"]) == (home.actor("hospital"), home.urls.moderation())
        assert delete["summary"] == removal["object"]["summary"]
        # And hospital's log has it, as the linked community's decision
        [line] = await log_lines(home)
        assert line == (ModAction.REMOVED, post, removal["object"]["summary"], "linked community")
        # When ana (of the Group's own server) undoes the removal
        await _send(home, lemmy, group, from_group(lemmy, group, "undo-remove-page"))
        # Then it is back, and fa gets the Undo of hospital's removal
        assert (await stored(home, post)).deleted_at is None
        [undo] = await people.wait_for(announced("Delete", post, undo=True))
        assert undo.activity["object"]["object"] == delete
        # When the Group locks the post, then unlocks it
        await _send(home, lemmy, group, from_group(lemmy, group, "lock-page"))
        assert (await stored(home, post)).locked_at is not None
        await _send(home, lemmy, group, from_group(lemmy, group, "undo-lock-page"))
        assert (await stored(home, post)).locked_at is None
        # When the Group bans ben, then removes him from its moderators
        await _send(home, lemmy, group, from_group(lemmy, group, "block-user"))
        await _send(home, lemmy, group, from_group(lemmy, group, "remove-mod"))
        # Then he is no moderator of it here, and a removal by him is ignored again
        assert await _remote_moderators(home) == []
        await _send(home, lemmy, group, from_group(lemmy, group, "remove-page", actor=ben))
        assert (await stored(home, post)).removed_at is None
        actions = [action for action, *_ in await log_lines(home)]
        assert actions == [ModAction.REMOVED, ModAction.RESTORED]
        await settled(Org(home, "hospital"))
    finally:
        for origin in (lemmy, other):
            await origin.close()


@pytest.fixture
async def two(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[tuple[Org, Org]]:
    """hospital and clinic, each a copub (SQLite) of its own."""
    servers = []
    try:
        for slug in ("hospital", "clinic"):
            path = tmp_path / f"{slug}.sqlite3"
            path.write_bytes(sqlite_template.read_bytes())
            server = await start_copub(f"sqlite+aiosqlite:///{path}", tmp_path)
            servers.append(server)
            await server.create_community(slug)
        yield Org(servers[0], "hospital"), Org(servers[1], "clinic")
    finally:
        for server in servers:
            await server.server.close()
    assert not [e for s in servers for e in s.errors]


async def test_another_copubs_removal_and_coordinators_reach_our_copy(
    two: tuple[Org, Org],
) -> None:
    a, b = two
    async with RemoteServer() as people:
        # Given hospital links clinic; alice posts to clinic and fa follows hospital
        await a.link(b)
        alice, fa_ = people.person("alice"), people.person("fa", shared_inbox=False)
        await follow(people, alice, b.copub, b.slug)
        await follow(people, fa_, a.copub, a.slug)
        note = people.note(alice, "Swap my Sunday?", mention=b.copub.mention(b.slug))
        await people.send_create(alice, b.copub.inbox(b.slug), note)
        await people.wait_for(announces(object_id=note["id"]))
        await settled(a, b)  # hospital has it from clinic
        # When clinic's coordinator removes alice's post
        await b.copub.cli("remove", b.slug, note["id"], "--reason", "Off topic")
        # Then hospital removes its copy and tells fa with a removal of its own
        [told] = await people.wait_for(announced("Delete", note["id"], path=fa_.inbox_path))
        assert told.signer == a.actor
        assert told.activity["object"]["summary"] == "Off topic"
        assert (await stored(a.copub, note["id"])).removed_at is not None
        # When clinic restores it
        await b.copub.cli("restore", b.slug, note["id"])
        # Then hospital shows it again
        await people.wait_for(announced("Delete", note["id"], undo=True, path=fa_.inbox_path))
        assert (await stored(a.copub, note["id"])).deleted_at is None
        # When clinic gets a new coordinator
        dan = people.person("dan").id
        await b.copub.cli("moderators", "add", b.slug, dan)

        # Then hospital knows him as one of clinic's moderators
        async def known() -> bool:
            return (b.actor, dan) in await _remote_moderators(a.copub)

        await wait_until(known, 15, "dan known as clinic's moderator")
        await settled(a, b)
        assert [x for x, *_ in await log_lines(a.copub)] == [
            ModAction.REMOVED,
            ModAction.RESTORED,
        ]

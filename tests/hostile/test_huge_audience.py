"""Attack class: huge lists in a remote document.

A signed ~1 MiB ``Create`` whose ``cc`` repeats the community's address 26,263 times (or
whose ``tag`` repeats a mention of it) once cost one database lookup per entry: 14.6 s of
processing for one message. Addressing, tags and attachments are de-duplicated and capped
(``[limits]``) before any per-entry work; the post is stored and relayed once, and what is
relayed carries the bounded lists, not the megabyte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from actors.inbound.context import InboundContext
from actors.store import queries
from actors.store.models import ObjectRow
from federation.intake import DEFAULT_LIMITS
from federation.vocab import JSON, as_list
from tests.flows import mastodon
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_relay import announces

MAX_BODY = 1_048_576


def _fill(base: JSON, key: str, entry: Any, *, inner: bool) -> int:
    """Repeat ``entry`` in ``base[key]`` (of the object if ``inner``) as often as the body
    limit allows; returns how many."""
    one = len(json.dumps(entry)) + 2
    room = MAX_BODY - len(json.dumps(base)) - 4096
    count = room // one
    target = base["object"] if inner else base
    target[key] = [*as_list(target.get(key)), *([entry] * count)]
    assert len(json.dumps(base)) < MAX_BODY
    return count


class Spy:
    """What the handlers saw: the addressing lists and the community lookups made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lookups = 0
        self.seen: list[int] = []
        lookup = queries.get_community
        targets = InboundContext.target_communities

        async def counting_lookup(session: Any, slug: str) -> Any:
            self.lookups += 1
            return await lookup(session, slug)

        async def watching(ctx: Any, session: Any, activity: JSON, obj: JSON | None) -> Any:
            for source in (activity, obj or {}):
                for key in ("to", "cc", "bto", "bcc", "audience", "tag"):
                    self.seen.append(len(as_list(source.get(key))))
            return await targets(ctx, session, activity, obj)

        monkeypatch.setattr(queries, "get_community", counting_lookup)
        monkeypatch.setattr(InboundContext, "target_communities", watching)


async def _stored(copub: Copub, object_id: str) -> int:
    query = select(func.count()).select_from(ObjectRow).where(ObjectRow.ap_id == object_id)
    return await copub.count(query)


async def test_create_repeating_the_community_in_cc_26263_times_is_processed_once_cheaply(
    copub: Copub,
    remote: RemoteServer,
    remote2: RemoteServer,
    follower: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given carol follows the community too, and alice's post repeats its address in cc
    carol = remote2.person("carol")
    await follow(remote2, carol, copub, "nightshift")
    note = remote.note(follower, "Hello", mention=copub.mention("nightshift"))
    create = mastodon.create(follower, note)
    repeats = _fill(create, "cc", copub.actor("nightshift"), inner=False)
    assert repeats > 20_000
    spy = Spy(monkeypatch)
    # When it reaches the shared inbox
    status, answer = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202, answer
    await copub.processed(create["id"])
    # Then it is applied (not failed), the post stored once and relayed once
    assert await copub.inbox_items(create["id"]) == ["done"]
    assert await _stored(copub, note["id"]) == 1
    [boost] = await remote2.wait_for(announces(inner_id=create["id"]))
    assert len(await copub.sent("Announce", note["id"])) == 2  # the Create and the post
    # And the handlers saw bounded lists and looked up the community a handful of times
    assert spy.seen
    assert max(spy.seen) <= DEFAULT_LIMITS.max_audience
    assert spy.lookups <= 4
    # And what was relayed carries the bounded list, not the megabyte
    relayed_cc = boost.activity["object"]["cc"]
    assert relayed_cc[:2] == [follower.followers, copub.actor("nightshift")]
    assert len(relayed_cc) <= DEFAULT_LIMITS.max_audience


@sqlite_only
async def test_post_repeating_a_mention_of_the_community_is_processed_once_cheaply(
    copub: Copub,
    remote: RemoteServer,
    follower: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given alice's post mentions the community in about ten thousand tags, addressed in cc
    note = remote.note(follower, "Hello", mention=copub.mention("nightshift"))
    create = mastodon.create(follower, note)
    mention = note["tag"][0]
    repeats = _fill(create, "tag", mention, inner=True)
    assert repeats > 9_000
    spy = Spy(monkeypatch)
    # When it reaches the shared inbox
    status, answer = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202, answer
    await copub.processed(create["id"])
    # Then the post is stored once, with the tags bounded, after a handful of lookups
    assert await copub.inbox_items(create["id"]) == ["done"]
    assert await _stored(copub, note["id"]) == 1
    assert spy.seen
    assert max(spy.seen) <= DEFAULT_LIMITS.max_tags
    assert spy.lookups <= 4
    async with copub.sessions() as session:
        row = await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == note["id"]))
    assert row is not None
    assert len(row.ap_json["tag"]) <= DEFAULT_LIMITS.max_tags

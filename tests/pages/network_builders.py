"""A community's network, written straight to the database: linked Groups (accepted links
both ways), their cached ``following`` (the second hop) and people who took part in more
than one community (followers here who wrote over a link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.community import Community
from actors.store.models import FollowerRow, ObjectRow, RemoteActorRow
from actors.store.models_links import LinkItemRow, LinkRow, NetworkCacheRow
from tests.pages.builders import now

Sessions = async_sessionmaker[AsyncSession]
_ids = count(1)


@dataclass
class Linked:
    actor: str
    name: str
    following: list[str] = field(default_factory=list)  # its links (the second hop)
    incoming: bool = False  # it follows us (else we follow it)


async def add_network(
    sessions: Sessions,
    community: Community,
    linked: list[Linked],
    brokers: dict[str, list[str]] | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """``brokers``: person actor id -> the linked Groups they wrote in (each also follows
    ``community``); ``names``: display names of people."""
    names = names or {}
    async with sessions.begin() as session:
        for group in linked:
            session.add(
                RemoteActorRow(ap_id=group.actor, inbox=group.actor + "/inbox", name=group.name,
                               actor_type="Group", url=group.actor)
            )  # fmt: skip
            if group.incoming:
                session.add(
                    FollowerRow(community_id=community.id, actor_id=group.actor,
                                inbox=group.actor + "/inbox", state="accepted",
                                follow_activity_id=group.actor + "#follow")
                )  # fmt: skip
            else:
                session.add(
                    LinkRow(community_id=community.id, remote_actor_id=group.actor,
                            inbox=group.actor + "/inbox", state="accepted", policy="none",
                            follow_activity_id=f"{group.actor}#from-{community.slug}")
                )  # fmt: skip
            session.add(
                NetworkCacheRow(actor_id=group.actor, following=group.following,
                                total=len(group.following), fetched_at=now())
            )  # fmt: skip
        for person, groups in (brokers or {}).items():
            session.add(
                RemoteActorRow(ap_id=person, inbox=person + "/inbox", name=names.get(person),
                               url=person)
            )  # fmt: skip
            session.add(
                FollowerRow(community_id=community.id, actor_id=person, inbox=person + "/inbox",
                            state="accepted", follow_activity_id=person + "#follow")
            )  # fmt: skip
            for origin in groups:
                url = f"{person}/statuses/{next(_ids)}"
                row = ObjectRow(
                    ap_id=url, community_id=community.id, kind="linked", ap_type="Note",
                    local=False, attributed_to=person, content_html="<p>Shared</p>",
                    ap_json={"id": url, "type": "Note"}, published=now(),
                )  # fmt: skip
                session.add(row)
                await session.flush()
                session.add(
                    LinkItemRow(community_id=community.id, object_id=row.id, kind="post",
                                via_actor=origin, origin_group=origin)
                )  # fmt: skip

"""Who knows about what: members' public part in the practices, by hashtag; a member asks,
by a mention or a direct message signed by their server, to be left out, and to be back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from actors.store.models import ObjectRow
from actors.store.models_whoknows import WhoKnowsOptOutRow
from tests.flows.copub import Copub, follow
from tests.flows.remote import Person, RemoteServer
from tests.flows.test_practice_filing import stored


def _tagged(note: dict[str, Any], *tags: str) -> dict[str, Any]:
    for tag in tags:
        note["tag"].append(
            {"type": "Hashtag", "name": f"#{tag}", "href": f"https://x.example/{tag}"}
        )
    return note


async def _page(copub: Copub) -> str:
    status, html = await copub.get(copub.urls.community_who_knows("nightshift"), accept="text/html")
    assert status == 200, html
    assert isinstance(html, str)
    return html


def _section(html: str, tag: str) -> str:
    start = html.index(f">#{tag}</a>")
    end = html.find("<section", start)
    return html[start:end]


async def _ask(copub: Copub, remote: RemoteServer, person: Person, text: str, **kw: Any) -> str:
    note = remote.note(person, text, mention=copub.mention("nightshift"), **kw)
    await remote.send_create(person, copub.inbox("nightshift"), note)
    await copub.processed(note["id"] + "/activity")
    return str(note["id"])


async def _count(copub: Copub, model: Any, *where: Any) -> int:
    async with copub.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_who_knows_and_leaving_it(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    alice = follower
    bob = remote.person("bob")
    await follow(remote, bob, copub, "nightshift")
    # Given alice's tip tagged #practice #insulin is filed as a practice, and bob discusses it
    text = "Label the syringe before drawing up."
    tip = _tagged(
        remote.note(alice, text, mention=copub.mention("nightshift")), "practice", "insulin"
    )
    await remote.send_create(alice, copub.inbox("nightshift"), tip)
    assert (await stored(copub, tip["id"])).kind == "practice"
    reply = remote.note(bob, "We do this too, with a colour code.", in_reply_to=tip["id"])
    await remote.send_create(bob, copub.inbox("nightshift"), reply)
    await stored(copub, reply["id"])
    # When someone opens who knows about what
    html = await _page(copub)
    # Then #insulin lists alice, who wrote it, and bob, who discussed it; #practice is no topic
    insulin = _section(html, "insulin")
    assert "Alice" in insulin
    assert "wrote 1" in insulin
    assert "Bob" in insulin
    assert "discussed 1" in insulin
    assert ">#practice</a>" not in html
    # And the page says how to be left out
    assert "leave me out of who-knows" in html
    assert "put me back in who-knows" in html
    # When bob asks, in a direct message signed by his server, to be left out
    asked = await _ask(copub, remote, bob, "Hi! Please leave me out of who knows, thanks.",
                       visibility="direct")  # fmt: skip
    # Then his request is filed, and the page no longer lists him
    assert await _count(copub, WhoKnowsOptOutRow, WhoKnowsOptOutRow.actor_id == bob.id) == 1
    insulin = _section(await _page(copub), "insulin")
    assert "Bob" not in insulin
    assert "Alice" in insulin
    assert await _count(copub, ObjectRow, ObjectRow.ap_id == asked) == 0
    # When alice asks in a public mention, the request is not relayed as a post
    asked = await _ask(copub, remote, alice, "Leave me out of Who-Knows please")
    assert await _count(copub, ObjectRow, ObjectRow.ap_id == asked) == 0
    html = await _page(copub)
    assert "Alice" not in _section(html, "insulin")
    assert "Nobody yet" in _section(html, "insulin")
    # When bob asks to be back, he is listed again; asking twice changes nothing
    for _ in range(2):
        await _ask(copub, remote, bob, "put me back in who-knows", visibility="direct")
    assert "Bob" in _section(await _page(copub), "insulin")
    assert await _count(copub, WhoKnowsOptOutRow) == 1  # alice's


async def test_a_post_quoting_both_phrases_or_someone_else_asks_nothing(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # A post quoting the page's instructions is an ordinary post
    text = 'The page says: "leave me out of who-knows" or "put me back in who-knows".'
    note = await _ask(copub, remote, follower, text)
    await stored(copub, note)
    # A post that says the phrase but is not by the sender is no request of theirs
    mallory = remote.person("mallory")
    forged = remote.note(follower, "leave me out of who-knows", mention=copub.mention("nightshift"))
    await remote.send_create(mallory, copub.inbox("nightshift"), forged)
    await copub.processed(forged["id"] + "/activity")
    assert await _count(copub, WhoKnowsOptOutRow) == 0

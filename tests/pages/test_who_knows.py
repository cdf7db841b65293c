"""The who-knows page: what counts (writing, revising, discussing, in public, not deleted),
who never shows (the community, coordinators, people left out), topics by hashtag."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from actors.community import Community
from actors.store.models import ObjectRow
from actors.store.models_whoknows import WhoKnowsOptOutRow
from tests.pages.builders import (
    Sessions,
    Version,
    actor_url,
    add_post,
    add_practice,
    add_remote_actor,
)


async def _tag(db: Sessions, row: ObjectRow, *tags: str) -> None:
    document = {**row.ap_json, "tag": [{"type": "Hashtag", "name": f"#{t}"} for t in tags]}
    async with db.begin() as session:
        await session.execute(
            update(ObjectRow).where(ObjectRow.id == row.id).values(ap_json=document)
        )


async def test_who_knows_what(
    client: TestClient[Any, Any], db: Sessions, nightshift: Community
) -> None:
    carol, erin, frank, gina, hal = (
        actor_url(n) for n in ("carol", "erin", "frank", "gina", "hal")
    )
    await add_remote_actor(db, carol, name="Carol <b>C</b>", handle="carol@social.example")
    # Given a practice tagged #insulin #nights, revised by carol (and by a coordinator)
    practice = await add_practice(
        db, nightshift, "Double-check insulin",
        [Version("Check."), Version("Check twice.", editor=carol), Version("Twice.", editor="ana")],
    )  # fmt: skip
    await _tag(db, practice, "insulin", "Nights")
    other = await add_practice(db, nightshift, "Fridge log", [Version("Log it.")])
    await _tag(db, other, "fridge")
    # And erin replied to it, frank deeper in its thread, gina's reply was deleted
    await add_post(db, nightshift, erin, reply_to=practice.ap_id)
    deeper = await add_post(db, nightshift, frank, reply_to=practice.ap_id + "#x")
    async with db.begin() as session:
        await session.execute(
            update(ObjectRow).where(ObjectRow.id == deeper.id).values(thread_root=practice.ap_id)
        )
    await add_post(db, nightshift, gina, reply_to=practice.ap_id, deleted=True)
    # And hal took part but asked to be left out
    await add_post(db, nightshift, hal, reply_to=practice.ap_id)
    async with db.begin() as session:
        session.add(
            WhoKnowsOptOutRow(community_id=nightshift.id, actor_id=hal, asked_in=hal + "/1")
        )
    response = await client.get(f"/c/{nightshift.slug}/who-knows")
    assert response.status == 200
    html = await response.text()
    insulin = html[html.index(">#insulin</a>") : html.index(">#nights</a>")]
    assert "Double-check insulin" in insulin
    assert "Carol &lt;b&gt;C&lt;/b&gt;" in insulin
    assert "@carol@social.example" in insulin
    assert "revised 1" in insulin
    for person in ("erin", "frank"):
        assert f"/users/{person}" in insulin or f"/@{person}" in insulin
    for absent in ("gina", "hal", ">ana<", nightshift.slug + "</a>"):
        assert absent not in insulin
    assert ">#nights</a>" in html  # tags are read as hashtags: lower case
    fridge = html[html.index(">#fridge</a>") : html.index(">#insulin</a>")]
    assert "Nobody yet" in fridge
    assert response.headers["ETag"]

"""Value creation in the console and the authoring API: a story told as a value-creation
story (its cycle, what changed, for whom, what it is about) reaches the followers with its
claim, and an edit can take it back; the Value page records and removes indicators, as
``copub value`` does; a wrong field comes back with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors.settings import Settings
from actors.store.models import ObjectRow
from actors.store.models_values import ValueIndicatorRow, ValueStoryRow
from tests.console.helpers import audit_actions
from tests.console.test_write import Sessions, alice_of, count, only_item, publish, sent
from tests.flows.copub import run_cli

VALUE = "/console/c/nightshift/value"
AS2 = "application/activity+json"


async def test_a_value_story_from_the_console_and_its_edit(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    out = await run_cli(config_file, "publish", "nightshift", "practice", "--title",
                        "Double check", "--content", "Read it aloud.")  # fmt: skip
    practice = out.strip().removeprefix("published ")
    # a link that is no item of the community is refused, with what was typed kept
    form = {"title": "Ward 3", "markdown": "A month of it.", "cycle": "applied",
            "changed": "Doses read aloud", "for_whom": "night nurses",
            "about": "https://elsewhere.example/o/1"}  # fmt: skip
    page = await publish(alice, "story", form)
    assert page.status == 400
    assert "not an item of nightshift" in page.text
    assert "Doses read aloud" in page.text
    # its id (the last part of its URL) names the practice
    page = await publish(alice, "story", {**form, "about": practice.rsplit("/", 1)[-1]})
    assert page.status == 200, page.text
    [_practice, (_inbox, create)] = await sent(db)
    note = create["object"]
    assert (note["valueCycle"], note["valueChanged"], note["valueFor"], note["valueAbout"]) == (
        "applied", "Doses read aloud", "night nurses", [practice]
    )  # fmt: skip
    assert "Applied value" in note["content"]
    assert ("alice", "story.publish") in await audit_actions(db)
    # the edit form shows the claim; choosing "not a value-creation story" takes it back
    story = await only_story(db)
    page = await alice.get(f"/console/c/nightshift/items/{story.rsplit('/', 1)[-1]}/edit")
    assert 'value="applied" selected' in page.text
    assert "Doses read aloud" in page.text
    page = await alice.post(
        f"/console/c/nightshift/items/{story.rsplit('/', 1)[-1]}/edit",
        {
            "title": "Ward 3",
            "markdown": "A month of it.",
            "cycle": "",
            "changed": "",
            "for_whom": "",
            "about": "",
        },
    )
    assert page.status == 200
    update = (await sent(db))[-1][1]
    assert update["type"] == "Update"
    assert "valueCycle" not in update["object"]
    assert await count(db, ValueStoryRow) == 0


async def only_story(db: Sessions) -> str:
    async with db() as session:
        [row] = await session.scalars(select(ValueStoryRow))
        obj = await session.get(ObjectRow, row.object_id)
        assert obj is not None
        return obj.ap_id


async def test_indicators_are_recorded_and_removed(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    alice = await alice_of(console, settings, db)
    page = await alice.get(VALUE)
    assert page.status == 200
    assert "No indicators yet." in page.text
    bad = {"cycle": "applied", "text": "wards adopted", "number": "twelve", "on": "2026-11-30"}
    page = await alice.post(VALUE, bad)
    assert page.status == 400
    assert "a number, or nothing" in page.text
    assert await count(db, ValueIndicatorRow) == 0
    page = await alice.post(VALUE, {**bad, "number": "12", "text": "wards adopted the check"})
    assert page.status == 200
    assert "Indicator recorded" in page.text
    assert "12 wards adopted the check" in page.text
    listed = await run_cli(config_file, "value", "list", "nightshift")
    [line] = listed.splitlines()
    indicator_id, cycle, on, number, text = line.split("\t")
    assert (cycle, on, number, text) == ("applied", "2026-11-30", "12", "wards adopted the check")
    # the public matrix shows it, and the Group's collection carries it
    public = await console.get("/c/nightshift/value", headers={"Accept": "text/html"})
    assert "wards adopted the check" in await public.text()
    document = await (await console.get("/c/nightshift/value", headers={"Accept": AS2})).json(
        content_type=None
    )
    [entry] = document["orderedItems"]
    assert (entry["type"], entry["valueNumber"], entry["valueDate"]) == (
        "ValueIndicator", 12, "2026-11-30"
    )  # fmt: skip
    page = await alice.post(f"{VALUE}/{indicator_id}/remove")
    assert "Indicator removed." in page.text
    assert await count(db, ValueIndicatorRow) == 0
    actions = [a for who, a in await audit_actions(db) if who == "alice"]
    assert [a for a in actions if a.startswith("value.")] == [
        "value.indicator.add", "value.indicator.remove"
    ]  # fmt: skip


async def test_the_authoring_api_takes_the_value_terms(
    console: TestClient[Any, Any], settings: Settings, db: Sessions, config_file: Path
) -> None:
    await alice_of(console, settings, db)
    token = (await run_cli(config_file, "token", "create", "nightshift")).strip().splitlines()[0]
    headers = {"Content-Type": AS2, "Authorization": f"Bearer {token}"}

    async def post(body: dict[str, Any]) -> tuple[int, Any]:
        async with console.post(
            "/c/nightshift/outbox", data=json.dumps(body), headers=headers
        ) as response:
            return response.status, await response.json()

    story = {"type": "Note", "name": "Ward 3", "content": "A month of it."}
    status, body = await post({**story, "valueCycle": "financial"})
    assert (status, body["field"]) == (400, "valueCycle")
    status, body = await post({**story, "valueCycle": "applied", "valueAbout": "javascript:x"})
    assert (status, body["field"]) == (400, "valueAbout")
    status, body = await post({**story, "valueChanged": "no cycle"})
    assert (status, body["field"]) == (400, "valueCycle")
    assert await count(db, ValueStoryRow) == 0
    status, body = await post({**story, "valueCycle": "Potential", "valueFor": "new nurses"})
    assert status == 201
    assert (body["valueCycle"], body["valueFor"]) == ("potential", "new nurses")
    row = await only_item(db)
    # an Update without the terms keeps the claim; "valueCycle": null takes it back
    update = {"type": "Update", "object": {"type": "Note", "id": row.ap_id, "name": "Ward 3b"}}
    status, body = await post(update)
    assert (status, body["valueCycle"]) == (200, "potential")
    update["object"]["valueCycle"] = None
    status, body = await post(update)
    assert status == 200
    assert "valueCycle" not in body
    assert await count(db, ValueStoryRow) == 0

"""Attack class: malformed reports.

A ``Flag`` is kept as a report for the coordinators to read. One that names nothing to
report (no ``object``, or nothing in it that is an http(s) URL: a number, a
``javascript:`` link, an object without an id) is refused at the inbox, before the 202,
with a 400 and a JSON reason the sender can read; nothing is kept and no queue grows.
A well-formed Flag from the same peer is taken (the refusal is about the shape alone).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from actors.store.models import InboxItemRow
from actors.store.models_moderation import ReportRow
from federation.vocab import AS_CONTEXT, JSON
from tests.flows.copub import Copub
from tests.flows.remote import RemoteServer

MALFORMED: list[Any] = [
    pytest.param(None, "no 'object'", id="no-object"),
    pytest.param([], "no 'object'", id="empty-list"),
    pytest.param(42, "names no http(s) URL", id="a-number"),
    pytest.param(["javascript:alert(1)", "data:,x"], "names no http(s) URL", id="scripts"),
    pytest.param({"type": "Note", "content": "x"}, "names no http(s) URL", id="no-id"),
    pytest.param(["https://a.example/\nx", "ftp://a.example/p"], "no http(s) URL", id="unsafe"),
]


def flag(copub: Copub, actor: str, n: str, reported: Any) -> JSON:
    activity: JSON = {
        "@context": AS_CONTEXT,
        "id": f"{actor}/flags/{n}",
        "type": "Flag",
        "actor": actor,
        "content": "spam",
        "to": [copub.actor("nightshift")],
    }
    if reported is not None:
        activity["object"] = reported
    return activity


@pytest.mark.parametrize(("reported", "reason"), MALFORMED)
async def test_a_malformed_flag_gets_a_400_with_a_reason(
    copub: Copub, remote: RemoteServer, community: str, reported: Any, reason: str
) -> None:
    mallory = remote.person("mallory")
    # When mallory's server sends a Flag that names nothing, signed, to the community
    bad = flag(copub, mallory.id, "bad", reported)
    status, answer = await remote.post(mallory, copub.inbox("nightshift"), bad)
    # Then the inbox refuses it with the reason, and keeps nothing
    assert status == 400, answer
    assert reason in answer["error"]
    assert await copub.inbox_items(bad["id"]) == []
    # While a well-formed one from the same server is taken and kept as a report
    good = flag(copub, mallory.id, "good", [community])
    status, answer = await remote.post(mallory, copub.inbox("nightshift"), good)
    assert status == 202, answer
    await copub.processed(good["id"])
    assert await copub.count(select(func.count()).select_from(ReportRow)) == 1
    assert await copub.count(select(func.count()).select_from(InboxItemRow)) == 1

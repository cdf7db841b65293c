"""Attack class (and real-world JSON-LD): documents whose context renames ActivityStreams terms.

JSON-LD lets a document name a term as it likes: ``{"texte": "as:content"}`` makes
``texte`` the content, ``as:Note`` or the full IRI may stand where ``Note`` would. Such a
document is compacted to the ActivityStreams context in the background (never before the
202), offline (``federation.loader``: a context we do not ship is never fetched), so it is
read by what its terms mean. The compaction cannot change what the inbox checked before
the 202 (the activity's id, type and actor); a document that would change them, is larger
than ``[limits] max_jsonld_bytes`` or cannot be compacted is processed as it came. Plain
documents (Mastodon's, Lemmy's ...) never reach pyld.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actors.store.models import ObjectRow
from federation.vocab import AS_CONTEXT, JSON
from tests.flows import mastodon
from tests.flows.copub import Copub, sqlite_only, start_copub
from tests.flows.remote import Person, RemoteServer

FRENCH = {
    "Billet": "as:Note",
    "texte": "as:content",
    "auteur": {"@id": "as:attributedTo", "@type": "@id"},
}


async def _row(copub: Copub, object_id: str) -> ObjectRow | None:
    async with copub.sessions() as session:
        return await session.scalar(select(ObjectRow).where(ObjectRow.ap_id == object_id))


def _renamed_create(copub: Copub, person: Person, text: str, **context: Any) -> JSON:
    """A member's post mentioning the community, its Note in the terms of ``FRENCH``."""
    note = mastodon.note(person, text, mention=copub.mention("nightshift"))
    note["type"] = "Billet"
    note["texte"] = note.pop("content")
    note["auteur"] = note.pop("attributedTo")
    create = mastodon.create(person, note)
    create["@context"] = [AS_CONTEXT, {**FRENCH, **context}]
    return create


async def test_a_post_in_renamed_terms_is_filed_by_what_they_mean(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # When alice's server sends a post whose Note is a "Billet" with its "texte"
    create = _renamed_create(copub, follower, "Handover checklist, in French terms")
    status, answer = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202, answer
    await copub.processed(create["id"])
    # Then it is filed as the Note it is, with its content and author
    assert await copub.inbox_items(create["id"]) == ["done"]
    row = await _row(copub, create["object"]["id"])
    assert row is not None
    assert (row.kind, row.ap_type) == ("post", "Note")
    assert "Handover checklist, in French terms" in (row.content_html or "")
    assert row.attributed_to == follower.id


@sqlite_only
async def test_a_renamed_term_cannot_change_who_an_activity_is_from(
    copub: Copub, remote: RemoteServer, community: str
) -> None:
    # Given bob signs a Follow whose context gives a second name to "actor", used for mallory
    bob = remote.person("bob")
    mallory = remote.person("mallory")
    follow = mastodon.follow(bob, community)
    follow["@context"] = [AS_CONTEXT, {"par": {"@id": "as:actor", "@type": "@id"}}]
    follow["par"] = mallory.id
    status, answer = await remote.post(bob, copub.inbox("nightshift"), follow)
    assert status == 202, answer
    await copub.processed(follow["id"])
    # Then the Follow is bob's, as the inbox checked it, and mallory follows nothing
    assert await copub.inbox_items(follow["id"]) == ["done"]
    assert await copub.follower_state("nightshift", bob.id) == "accepted"
    assert await copub.follower_state("nightshift", mallory.id) is None


@sqlite_only
async def test_an_unknown_context_is_not_fetched_and_the_post_is_read_as_it_came(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # A context URL copub does not ship (here on alice's own server) is never fetched: the
    # post cannot be compacted and is read as it came
    create = _renamed_create(copub, follower, "Unknown context")
    create["@context"].append(f"{remote.base_url}/contexts/mine.jsonld")
    status, answer = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202, answer
    await copub.processed(create["id"])
    assert await copub.inbox_items(create["id"]) == ["done"]
    assert await _row(copub, create["object"]["id"]) is None  # a "Billet" is no item


@sqlite_only
async def test_a_renamed_document_over_the_limit_is_read_as_it_came(
    database_url: str, tmp_path: Any, remote: RemoteServer
) -> None:
    copub = await start_copub(database_url, tmp_path, limits={"max_jsonld_bytes": 1024})
    try:
        await copub.create_community("nightshift")
        alice = remote.person("alice")
        create = _renamed_create(copub, alice, "x" * 2048)
        status, answer = await remote.post(alice, copub.shared_inbox, create)
        assert status == 202, answer
        await copub.processed(create["id"])
        # Then it was not compacted: processed once, without a failure, and no item filed
        assert await copub.inbox_items(create["id"]) == ["done"]
        assert await _row(copub, create["object"]["id"]) is None
    finally:
        await copub.server.close()
    assert not copub.errors


@sqlite_only
async def test_a_deeply_nested_renamed_document_does_not_fail_its_item(
    copub: Copub, remote: RemoteServer, follower: Person
) -> None:
    # A value nested 900 lists deep: too deep for pyld's recursion, fine for the JSON parser
    create = _renamed_create(copub, follower, "Deep")
    deep: Any = "bottom"
    for _ in range(900):
        deep = [deep]
    create["object"]["texte"] = deep
    status, answer = await remote.post(follower, copub.shared_inbox, create)
    assert status == 202, answer
    await copub.processed(create["id"])
    assert await copub.inbox_items(create["id"]) == ["done"]

"""Mastodon-shaped accounts and activities, as Mastodon 4 sends them.

``Person`` is an account (actor document, key); the functions build the activities a
Mastodon user's actions produce: follow, unfollow, post, reply, edit, delete, like.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

from federation.keys import Signer, generate_rsa_keypair
from federation.vocab import AS_CONTEXT, JSON, PUBLIC, SECURITY_CONTEXT

PUBLISHED = "2025-01-15T10:00:00Z"


@cache
def _keypair(name: str) -> tuple[str, str]:
    """One RSA key pair per person name for the whole test run (generation is slow)."""
    return generate_rsa_keypair()


@dataclass
class Person:
    """A Mastodon-like account; its key is made the first time it is needed."""

    name: str
    base_url: str
    shared_inbox: bool = True

    @property
    def id(self) -> str:
        return f"{self.base_url}/users/{self.name}"

    @property
    def inbox(self) -> str:
        return self.id + "/inbox"

    @property
    def inbox_path(self) -> str:
        return f"/users/{self.name}/inbox"

    @property
    def followers(self) -> str:
        return self.id + "/followers"

    @property
    def signer(self) -> Signer:
        return Signer(key_id=self.id + "#main-key", private_key_pem=_keypair(self.name)[0])

    def document(self) -> JSON:
        doc: JSON = {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": self.id,
            "type": "Person",
            "preferredUsername": self.name,
            "name": self.name.title(),
            "url": f"{self.base_url}/@{self.name}",
            "inbox": self.inbox,
            "outbox": self.id + "/outbox",
            "followers": self.followers,
            "following": self.id + "/following",
            "publicKey": {
                "id": self.id + "#main-key",
                "owner": self.id,
                "publicKeyPem": _keypair(self.name)[1],
            },
        }
        if self.shared_inbox:
            doc["endpoints"] = {"sharedInbox": f"{self.base_url}/inbox"}
        return doc


def follow(person: Person, target: str) -> JSON:
    return {
        "@context": AS_CONTEXT,
        "id": f"{person.base_url}/{uuid.uuid4()}",
        "type": "Follow",
        "actor": person.id,
        "object": target,
    }


def undo(person: Person, inner: JSON) -> JSON:
    return {
        "@context": AS_CONTEXT,
        "id": f"{inner['id']}#undo",
        "type": "Undo",
        "actor": person.id,
        "object": {k: v for k, v in inner.items() if k != "@context"},
    }


def note(
    person: Person,
    text: str,
    *,
    mention: tuple[str, str] | None = None,
    in_reply_to: str | None = None,
    visibility: str = "public",
) -> JSON:
    """A Note; ``mention`` = (actor id, handle) adds the Mention tag, the address and the
    link. ``visibility`` is Mastodon's: public, unlisted, private (followers only), direct."""
    note_id = f"{person.id}/statuses/{uuid.uuid4().int >> 64}"
    mentioned: list[str] = []
    tags: list[JSON] = []
    content = f"<p>{text}</p>"
    if mention is not None:
        actor, handle = mention
        mentioned.append(actor)
        tags.append({"type": "Mention", "href": actor, "name": f"@{handle}"})
        content = f'<p><span class="h-card"><a href="{actor}">@{handle}</a></span> {text}</p>'
    to, cc = {
        "public": ([PUBLIC], [person.followers, *mentioned]),
        "unlisted": ([person.followers], [PUBLIC, *mentioned]),
        "private": ([person.followers], mentioned),
        "direct": (mentioned, []),
    }[visibility]
    return {
        "id": note_id,
        "type": "Note",
        "attributedTo": person.id,
        "inReplyTo": in_reply_to,
        "content": content,
        "published": PUBLISHED,
        "url": note_id,
        "to": to,
        "cc": cc,
        "tag": tags,
        "sensitive": False,
    }


def create(person: Person, obj: JSON) -> JSON:
    return _wrap(person, "Create", obj, obj["id"] + "/activity")


def update(person: Person, obj: JSON) -> JSON:
    return _wrap(person, "Update", obj, f"{obj['id']}#updates/{uuid.uuid4()}")


def delete(person: Person, obj: JSON) -> JSON:
    tombstone = {"id": obj["id"], "type": "Tombstone", "atomUri": obj["id"]}
    return _wrap(person, "Delete", tombstone, obj["id"] + "#delete")


def like(person: Person, object_id: str) -> JSON:
    return {
        "@context": AS_CONTEXT,
        "id": f"{person.id}#likes/{uuid.uuid4()}",
        "type": "Like",
        "actor": person.id,
        "object": object_id,
    }


def _wrap(person: Person, verb: str, obj: JSON, activity_id: str) -> JSON:
    return {
        "@context": [AS_CONTEXT, {"sensitive": "as:sensitive"}],
        "id": activity_id,
        "type": verb,
        "actor": person.id,
        "published": obj.get("published", PUBLISHED),
        "to": list(obj.get("to", [PUBLIC])),
        "cc": list(obj.get("cc", [person.followers])),
        "object": dict(obj),
    }

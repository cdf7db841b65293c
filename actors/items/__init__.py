"""The one home of an item (a story, practice, event, member post, reply or linked item).

:func:`store_item`, :func:`revise_item` and :func:`withdraw_item` write its row, its event
details, a practice's revisions, the activity that tells of it and what observers are told;
publishing, inbound filing, links and adapters build an :class:`Item` and call them.

This package is also the surface an adapter reaches items through: the reads below, and
what an item looks like (its kinds, drafts and AS2 shapes, kept in the modules named), so
an adapter that publishes as the community builds the same objects copub does.
"""

from __future__ import annotations

from actors.content import (
    KIND_TO_TYPE,
    OBJECT_CONTEXT,
    PUBLISHED_KINDS,
    InvalidContent,
    base_object,
    hashtags,
    new_token,
    normalize_tag,
)
from actors.event_json import event_to_json
from actors.events import EventDraft, Place
from actors.html import plain_text, sanitize
from actors.items.model import Item, ItemKind, Owner, Revision, Send, community_item
from actors.items.read import Author, author_of, community_of, find_item, participant_count
from actors.items.write import (
    remove_item,
    restore_item,
    revise_item,
    store_item,
    withdraw_item,
)
from actors.practices import STATUSES, PracticeDraft, practice_to_article
from actors.store.models import ObjectRow

__all__ = [
    "KIND_TO_TYPE",
    "OBJECT_CONTEXT",
    "PUBLISHED_KINDS",
    "STATUSES",
    "Author",
    "EventDraft",
    "InvalidContent",
    "Item",
    "ItemKind",
    "ObjectRow",
    "Owner",
    "Place",
    "PracticeDraft",
    "Revision",
    "Send",
    "author_of",
    "base_object",
    "community_item",
    "community_of",
    "event_to_json",
    "find_item",
    "hashtags",
    "new_token",
    "normalize_tag",
    "participant_count",
    "plain_text",
    "practice_to_article",
    "remove_item",
    "restore_item",
    "revise_item",
    "sanitize",
    "store_item",
    "withdraw_item",
]

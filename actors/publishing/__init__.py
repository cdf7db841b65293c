"""What coordinators publish: stories, practices and events. Create, edit and delete are
sent to every follower. The CLI, the authoring API and the console publish through here;
this package checks what a coordinator gave and calls ``actors.items``, which stores it (an
adapter calls ``actors.items`` itself).
"""

from __future__ import annotations

from actors.publishing.common import NotPublished, Unchanged, WrongKind, delete_item
from actors.publishing.events import current_event, edit_event, publish_event
from actors.publishing.practices import current_practice, edit_practice, publish_practice
from actors.publishing.stories import current_claim, edit_story, publish_story

__all__ = [
    "NotPublished",
    "Unchanged",
    "WrongKind",
    "current_claim",
    "current_event",
    "current_practice",
    "delete_item",
    "edit_event",
    "edit_practice",
    "edit_story",
    "publish_event",
    "publish_practice",
    "publish_story",
]

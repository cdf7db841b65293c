"""A read-restricted forum category is mirrored only into a members-only community:
into a public or closed one it would publish what the forum keeps private."""

from __future__ import annotations

from actors.store.models import ObjectRow
from tests.discourse.harness import SLUG, count_rows
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.discourse_shapes import Category
from tests.flows.copub import Copub, sqlite_only

pytestmark = sqlite_only


async def test_a_restricted_category_only_into_a_members_only_community(
    copub: Copub, forum: FakeDiscourse, category: Category, community: str
) -> None:
    forum.rate_limit = None
    category.read_restricted = True  # the bot sees it (its permission), the public does not
    forum.seed_topics(category, 2, posts=1)
    out = await copub.cli("discourse", "sync", SLUG, ok=False)
    assert "read-restricted" in out
    assert await count_rows(copub, ObjectRow) == 0
    out = await copub.cli("community", "edit", SLUG, "--visibility", "members")
    assert "from now on only approved followers see" in out
    await copub.cli("discourse", "sync", SLUG)
    assert await count_rows(copub, ObjectRow) == 2

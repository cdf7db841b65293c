"""The mirror's status on a community's dashboard in the console (``actors.hooks.Panel``):
the forum and category configured, what is mirrored, the last poll and backfill, and the
queue of forum work, read from the adapter's tables (no request to the forum)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from actors.community import Community
from actors.hooks import Panel
from actors.store.db import AsyncSession
from adapters.discourse import store
from adapters.discourse.config import ForumConfig
from adapters.discourse.models import ForumStateRow

TITLE = "Discourse mirror"


def _when(moment: datetime | None, never: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else never


def status_panel(
    forum: ForumConfig,
    state: ForumStateRow | None,
    mirrored: Mapping[str, int],
    jobs: Mapping[str, int],
) -> Panel:
    """The panel for ``forum`` from its sync state (None: never synced), the posts mirrored
    by origin and the forum jobs by state."""
    if state is not None and state.category_id is not None:
        category = f"{state.category_slug or forum.category} (id {state.category_id})"
    else:
        category = f"{forum.category} (not looked up yet)"
    if state is not None and state.backfill_finished_at is not None:
        backfill = "finished " + _when(state.backfill_finished_at, "")
    elif state is not None and state.backfill_page:
        backfill = f"under way, at page {state.backfill_page}"
    else:
        backfill = "not run yet (copub discourse sync)"
    waiting = {name: n for name, n in sorted(jobs.items()) if n and name != "done"}
    facts = (
        ("Forum", forum.base_url),
        ("Category", category),
        ("Mirrored", f"{mirrored.get('forum', 0)} forum posts; "
                     f"{mirrored.get('fediverse', 0)} fediverse replies posted to the forum"),
        ("Last poll", _when(state.last_poll_at if state else None, "never")),
        ("Backfill", backfill),
        ("Forum jobs", ", ".join(f"{n} {name}" for name, n in waiting.items()) or "none waiting"),
    )  # fmt: skip
    problems = []
    if state is not None and state.last_error:
        problems.append(f"Last error: {state.last_error}")
    if jobs.get("failed"):
        problems.append(
            f"{jobs['failed']} forum jobs failed: `copub discourse retry {forum.community}` "
            "tries them again."
        )
    return Panel(TITLE, facts, tuple(problems))


class ForumPanel:
    """``actors.hooks.DashboardSource`` for the communities with a ``[[discourse]]`` table."""

    def __init__(self, forums: Mapping[str, ForumConfig]) -> None:
        self.forums = forums

    async def dashboard_panel(self, session: AsyncSession, community: Community) -> Panel | None:
        forum = self.forums.get(community.slug)
        if forum is None:
            return None
        state = await session.get(ForumStateRow, community.id)
        mirrored = await store.count_links(session, community.id)
        jobs = await store.job_counts(session, community.id)
        return status_panel(forum, state, mirrored, jobs)

"""The Discourse adapter: a community and a Discourse category, in sync both ways.

Enable it in the config file with ``adapters = ["adapters.discourse"]`` and one
``[[discourse]]`` table per community (see config.example.toml and the README's "Connect a
Discourse forum"). copub loads it by name and calls :func:`setup`.

- forum -> fediverse: webhooks (``webhooks.py``), the backfill and the poller
  (``backfill.py``) apply topics and posts through ``sync.py``;
- fediverse -> forum: ``writes.py`` posts members' replies into the topic;
- ``copub discourse check|sync|status`` (``cli.py``).
"""

from __future__ import annotations

from aiohttp import web

from actors.settings import Settings
from actors.web.keys import DASHBOARD_PANELS, OBJECT_OBSERVERS
from adapters.discourse.adapter import DiscourseAdapter
from adapters.discourse.config import forums_of
from adapters.discourse.panel import ForumPanel
from adapters.discourse.webhooks import ROUTE, handler

__all__ = ["DISCOURSE", "DiscourseAdapter", "setup"]

DISCOURSE = web.AppKey("discourse", DiscourseAdapter)


def setup(app: web.Application, settings: Settings) -> None:
    """The plugin hook: validate the ``[[discourse]]`` tables, add the webhook route, the
    observer of fediverse replies, the mirror's panel on the console's dashboard and the
    background work (clients, jobs, polling)."""
    adapter = DiscourseAdapter(settings, forums_of(settings))
    app[DISCOURSE] = adapter
    app[OBJECT_OBSERVERS].append(adapter.observer)
    app[DASHBOARD_PANELS].append(ForumPanel(adapter.forums))
    app.router.add_post(ROUTE, handler(lambda: adapter.runtimes, adapter.wake))
    app.cleanup_ctx.append(adapter.context)

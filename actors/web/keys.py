"""Typed application state."""

from __future__ import annotations

from aiohttp import web

from actors.hooks import DashboardSource, ObjectObserver
from actors.inbound.processor import InboxProcessor
from actors.remote import Remote
from actors.settings import Settings
from actors.store.db import AsyncEngine, AsyncSession, async_sessionmaker
from actors.store.inbox_queue import InboxWriter
from actors.store.loop_reads import LoopReads
from actors.urls import Urls
from actors.web.cache import TimedCache
from actors.web.directory import CommunityDirectory
from actors.web.present import CirclesView
from federation.client import FederationClient
from federation.httpsig import CachingKeyResolver
from federation.keys import Signer

SETTINGS = web.AppKey("settings", Settings)
URLS = web.AppKey("urls", Urls)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
SERVER_SIGNER = web.AppKey("server_signer", Signer)
SERVER_PUBLIC_KEY_PEM = web.AppKey("server_public_key_pem", str)
DIRECTORY = web.AppKey("directory", CommunityDirectory)
LOOP_READS = web.AppKey("loop_reads", LoopReads)  # SQLite: one-row reads on the loop
CLIENT = web.AppKey("client", FederationClient)
REMOTE = web.AppKey("remote", Remote)
KEY_RESOLVER = web.AppKey("key_resolver", CachingKeyResolver)
INBOX_PROCESSOR = web.AppKey("inbox_processor", InboxProcessor)
INBOX_WRITER = web.AppKey("inbox_writer", InboxWriter)
# Plugins' observers of members' posts (actors.hooks); adapters append in their setup()
OBJECT_OBSERVERS = web.AppKey("object_observers", list[ObjectObserver])
# Plugins' panels on a community's console dashboard (actors.hooks); adapters append too
DASHBOARD_PANELS = web.AppKey("dashboard_panels", list[DashboardSource])
# the members' circles of each community (by id), as the community page shows them
CIRCLES = web.AppKey("circles", TimedCache[int, CirclesView])

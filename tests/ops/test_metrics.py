"""/metrics: off by default; when on, on a listener of its own, in Prometheus's text format
with bounded labels (a route's template, an inbox refusal's reason, a failure's class).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actors.settings import ConfigError, Settings, settings_from_dict
from actors.web.app import create_app
from actors.web.metrics import METRICS, MULTIPROC_ENV, Metrics
from federation.client import FederationClient
from federation.delivery.outcomes import failure_class
from federation.errors import FetchError, UnsafeAddress
from tests import factories
from tests.delivery.inboxes import StaticKeys, add_follower, make_worker, publish, start_inbox
from tests.flows.copub import Copub, follow, sqlite_only, start_copub, wait_until
from tests.flows.remote import RemoteServer
from tests.ops.conftest import Scrape, scrape
from tests.pg import free_port

ROOT = Path(__file__).resolve().parents[2]


async def test_metrics_are_off_by_default(
    database_url: str, tmp_path: Path, metrics_port: int
) -> None:
    # Given the defaults, with only the listen address changed to a free port
    assert Settings().metrics.enabled is False
    listen = f"127.0.0.1:{metrics_port}"
    copub = await start_copub(database_url, tmp_path, metrics={"listen": listen})
    try:
        # Then nothing listens there, and the main port has no /metrics either
        assert METRICS not in copub.app
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectorError):
                await session.get(f"http://{listen}/metrics")
        status, _ = await copub.get(f"{copub.base_url}/metrics", accept="text/plain")
        assert status == 404
    finally:
        await copub.server.close()


@sqlite_only
async def test_inbox_deliveries_keys_and_routes_are_counted(
    metered: Copub, remote: RemoteServer, metrics_port: int
) -> None:
    # Given a copub with metrics on: its counters start at zero, on their own port
    before = await scrape(metrics_port)
    assert before.content_type.startswith("text/plain")
    assert before.value("copub_inbox_accepted_total") == 0
    assert before.value("copub_inbox_rejected_total", reason="signature") == 0
    assert before.value("copub_database_up") == 1
    # When alice's signed Follow comes (accepted, applied, answered with an Accept)...
    alice = remote.person("alice")
    await follow(remote, alice, metered, "nightshift")
    # ...an unsigned POST is refused, and a page that does not exist is asked for
    refused = {"id": f"{remote.base_url}/x", "type": "Follow", "actor": alice.id, "object": "x"}
    status, _ = await metered.post_json(metered.inbox("nightshift"), refused)
    assert status == 401
    status, _ = await metered.get(f"{metered.base_url}/no/such/page/42")
    assert status == 404

    # Then the accepted and the refused POST are counted, the refusal by its reason
    async def delivered_and_applied() -> Scrape | None:
        now = await scrape(metrics_port)
        done = now.value("copub_deliveries_total", outcome="done") >= 1
        return now if done and now.value("copub_inbox_processing_lag_seconds_count") else None

    after = await wait_until(delivered_and_applied, what="the Accept delivered and counted")
    assert after is not None
    assert after.value("copub_inbox_accepted_total") == 1
    assert after.value("copub_inbox_rejected_total", reason="signature") == 1
    # And the request times are labelled by route template, never by the URL asked for
    count = "copub_http_request_duration_seconds_count"
    assert after.value(count, method="POST", route="/c/{slug}/inbox", status="2xx") == 1
    assert after.value(count, method="POST", route="/c/{slug}/inbox", status="4xx") == 1
    assert after.value(count, method="GET", route="unmatched", status="4xx") == 1
    routes = after.labels_of(count, "route")
    assert not [r for r in routes if "nightshift" in r or "/no/such" in r], routes
    assert after.families["copub_http_request_duration_seconds"].type == "histogram"
    # And alice's key was fetched once (a miss), the processing lag observed, the queues read
    assert after.value("copub_key_cache_lookups_total", result="miss") == 1
    assert after.families["copub_inbox_processing_lag_seconds"].type == "histogram"
    assert {"queued", "retrying"} <= after.labels_of("copub_deliveries_pending", "state")
    assert "copub_inbox_pending" in after.families
    # And every label set is one of the fixed few (no peer, URL or community anywhere)
    for sample in after.samples:
        assert not any(remote.domain in v or "nightshift" in v for v in sample.labels.values())


async def test_delivery_outcomes_and_failure_classes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given a follower whose inbox answers 503, and one whose server is not there
    community = await factories.create_community(sessions)
    inbox = await start_inbox(StaticKeys(community))
    gone_port = free_port()
    try:
        inbox.script("/inbox", 503)
        await add_follower(sessions, community, inbox.url("/u/a"), inbox.url("/inbox"))
        down = f"http://127.0.0.1:{gone_port}"
        await add_follower(sessions, community, f"{down}/u/b", f"{down}/inbox")
        await publish(sessions, community)
        metrics = Metrics()
        # When the worker tries both once
        async with FederationClient("copub-test", allow_private_addresses=True) as client:
            worker = make_worker(sessions, client, observer=metrics.delivery)
            assert await worker.run_once() == 2
    finally:
        await inbox.close()
    # Then both are to be retried, one failed as a server error, one as a connection failure
    assert metrics.registry is not None
    value = metrics.registry.get_sample_value
    assert value("copub_deliveries_total", {"outcome": "retry"}) == 2
    assert value("copub_deliveries_total", {"outcome": "done"}) == 0
    assert value("copub_delivery_failures_total", {"class": "server_error"}) == 1
    assert value("copub_delivery_failures_total", {"class": "connection"}) == 1


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (202, None, None),
        (None, FetchError("x"), "other"),
        (301, None, "redirect"),
        (401, None, "unauthorized"),
        (410, None, "gone"),
        (429, None, "rate_limited"),
        (422, None, "client_error"),
        (502, None, "server_error"),
        (None, UnsafeAddress("10.0.0.1 is private"), "unsafe_address"),
    ],
)
def test_failure_classes_by_status(
    status: int | None, error: BaseException | None, expected: str | None
) -> None:
    assert failure_class(status, error) == expected


def test_failure_classes_read_the_cause() -> None:
    for cause, expected in (
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(), "connection"),
        (aiohttp.ServerDisconnectedError(), "connection"),
    ):
        error = FetchError("https://peer.example/inbox: failed")
        error.__cause__ = cause  # as `raise FetchError(...) from cause` leaves it
        assert failure_class(None, error) == expected


_PROCESS = """
import sys
from actors.web.metrics import Metrics, render
metrics = Metrics()
metrics.inbox_answered(None)
metrics.inbox_answered(401)
metrics.delivery.finished("done")
if sys.argv[1] == "scrape":
    sys.stdout.write(render(metrics).decode())
"""


def test_several_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    # Given two processes sharing PROMETHEUS_MULTIPROC_DIR, each counting once
    env = {**os.environ, MULTIPROC_ENV: str(tmp_path)}

    def run(arg: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS, arg],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("count")
    text = run("scrape")
    # Then the second one's scrape shows the counts of both
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("copub_inbox_accepted_total", ())] == 2
    assert samples[("copub_inbox_rejected_total", (("reason", "signature"),))] == 2
    assert samples[("copub_deliveries_total", (("outcome", "done"),))] == 2


def test_a_metrics_address_must_be_host_and_port() -> None:
    for listen in ("9464", "localhost", "127.0.0.1:99999", ":9464"):
        with pytest.raises(ConfigError, match=r"metrics\.listen"):
            settings_from_dict({"metrics": {"listen": listen}})
    settings = settings_from_dict({"metrics": {"enabled": True, "listen": "[::1]:9100"}})
    assert settings.metrics.address == ("::1", 9100)


async def test_a_taken_metrics_port_stops_the_start(database_url: str) -> None:
    # Given something already listening on the metrics port
    taken = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    listen = f"127.0.0.1:{taken.sockets[0].getsockname()[1]}"
    app = create_app(
        factories.make_settings(database_url, metrics={"enabled": True, "listen": listen})
    )
    runner = web.AppRunner(app)
    try:
        # When copub starts with metrics there, it refuses to, naming the address
        with pytest.raises(ConfigError, match=listen):
            await runner.setup()
    finally:
        await app.cleanup()  # what had started (the database, the workers) stops
        taken.close()
        await taken.wait_closed()

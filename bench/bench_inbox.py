"""Inbox rate: signed activities accepted (verified, persisted, 202) per second.

One copub process (SQLite, one core) receives pre-signed Like activities from a
keep-alive client in this process; the sender's actor and key are served here too.
Prints requests/s and p50/p99 latency. Target: >= 1,000/s with p99 under 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from federation.httpsig import sign_request
from federation.keys import Signer, generate_rsa_keypair

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import free_port, wait_ready

TOTAL = int(os.environ.get("BENCH_INBOX_REQUESTS", "5000"))
CONCURRENCY = 16
FLOOR_PORT = free_port()
FLOOR_URL = "http://127.0.0.1:{port}/inbox"
FLOOR_SERVER = """
from aiohttp import web
async def inbox(request):
    await request.read()
    return web.json_response({"accepted": True}, status=202)
app = web.Application()
app.router.add_post("/inbox", inbox)
web.run_app(app, host="127.0.0.1", port=%d, print=None, access_log=None)
"""
# BENCH_PROFILE=/tmp/inbox.prof runs the server under cProfile (written on SIGINT).
PROFILE = (
    ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if "BENCH_PROFILE" in os.environ else []
)


async def serve_actor(port: int, public_pem: str) -> web.AppRunner:
    actor_id = f"http://127.0.0.1:{port}/users/bench"

    async def actor(_request: web.Request) -> web.Response:
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": "bench",
            "inbox": actor_id + "/inbox",
            "publicKey": {
                "id": actor_id + "#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
        }
        return web.json_response(doc, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/users/bench", actor)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def build_requests(
    inbox: str, actor_id: str, signer: Signer, count: int
) -> list[tuple[bytes, dict[str, str]]]:
    prepared = []
    for i in range(count):
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{actor_id}/likes/{i}-{time.time_ns()}",
                "type": "Like",
                "actor": actor_id,
                "object": f"{actor_id}/statuses/{i}",
            }
        ).encode()
        headers = sign_request(
            "POST", inbox, {"Content-Type": "application/activity+json"}, body, signer
        )
        prepared.append((body, headers))
    return prepared


async def run(base: str, actor_port: int) -> None:
    private_pem, public_pem = generate_rsa_keypair()
    runner = await serve_actor(actor_port, public_pem)
    actor_id = f"http://127.0.0.1:{actor_port}/users/bench"
    signer = Signer(actor_id + "#main-key", private_pem)
    inbox = f"{base}/c/bench/inbox"
    await wait_ready(f"{base}/c/bench")
    await wait_ready(FLOOR_URL.format(port=FLOOR_PORT).replace("/inbox", "/"))
    warm = build_requests(inbox, actor_id, signer, 10)
    requests = build_requests(inbox, actor_id, signer, TOTAL)
    for body, headers in warm:  # the first request fetches and caches the sender's key
        async with (
            aiohttp.ClientSession() as session,
            session.post(inbox, data=body, headers=headers) as resp,
        ):
            assert resp.status == 202, (resp.status, await resp.text())
    floor_rate, _, _ = await blast(FLOOR_URL.format(port=FLOOR_PORT), requests)
    rate, p50, p99 = await blast(inbox, requests)
    await runner.cleanup()
    print(
        f"inbox: bare aiohttp POST -> 202 (floor) {floor_rate:8.0f} req/s, same requests and client"
    )
    print(
        f"inbox: {rate:8.0f} signed activities accepted/s (target >= 1000), ratio "
        f"{rate / floor_rate:.2f} of the floor, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(target < 50), {TOTAL} requests, concurrency {CONCURRENCY}"
    )


async def blast(
    url: str, requests: list[tuple[bytes, dict[str, str]]]
) -> tuple[float, float, float]:
    """POST every request with CONCURRENCY keep-alive connections: rate, p50 ms, p99 ms."""
    latencies: list[float] = []
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body, headers in queue:
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 202, resp.status
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return len(requests) / elapsed, statistics.median(latencies) * 1000, p99


def main() -> None:
    tmp = tempfile.mkdtemp()
    port, actor_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    config = Path(tmp) / "config.toml"
    config.write_text(
        f'[server]\nbase_url = "{base}"\nport = {port}\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp}/bench.sqlite3"\n'
        "[federation]\nallow_private_addresses = true\n"
        '[[communities]]\nslug = "bench"\nname = "Bench"\n'
        + os.environ.get("BENCH_INBOX_EXTRA", "")
    )
    server = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, *PROFILE, "-m", "actors.cli", "serve"],
        env={**os.environ, "COPUB_CONFIG": str(config)},
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    floor = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, "-c", FLOOR_SERVER % FLOOR_PORT],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        asyncio.run(run(base, actor_port))
    finally:
        floor.terminate()
        floor.wait(10)
        server.send_signal(signal.SIGINT)
        server.wait(20)


if __name__ == "__main__":
    main()

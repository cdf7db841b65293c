"""Requests/s of the actor document and WebFinger next to a bare aiohttp handler.

All three servers run in one process on loopback, measured in the same run by
the same keep-alive aiohttp client loop, so the ratio is what matters.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DURATION = float(os.environ.get("BENCH_SECONDS", "3"))
CONCURRENCY = 16

HELLO = """
from aiohttp import web
async def hello(request):
    return web.Response(text="hello")
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port={port}, print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


async def measure(url: str, headers: dict[str, str]) -> float:
    count = 0
    deadline = time.perf_counter() + DURATION
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                async with session.get(url, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                count += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - start)


def main() -> None:
    tmp = tempfile.mkdtemp()
    hello_port, copub_port = free_port(), free_port()
    base = f"http://127.0.0.1:{copub_port}"
    config = Path(tmp) / "config.toml"
    config.write_text(
        f'[server]\nbase_url = "{base}"\nport = {copub_port}\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp}/bench.sqlite3"\n'
        '[[communities]]\nslug = "bench"\nname = "Bench"\nsummary = "Benchmarks."\n'
    )
    env = {**os.environ, "COPUB_CONFIG": str(config)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HELLO.format(port=hello_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "actors.cli", "serve"],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        asyncio.run(run(hello_port, base))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


async def run(hello_port: int, base: str) -> None:
    hello = f"http://127.0.0.1:{hello_port}/"
    await wait_ready(hello)
    await wait_ready(f"{base}/c/bench")
    floor = await measure(hello, {})
    actor = await measure(f"{base}/c/bench", {"Accept": "application/activity+json"})
    host = base.split("//", 1)[1]
    finger = await measure(f"{base}/.well-known/webfinger?resource=acct:bench@{host}", {})
    print(f"http: bare aiohttp hello        {floor:9.0f} req/s  (floor)")
    print(f"http: actor document            {actor:9.0f} req/s  ratio {actor / floor:.2f}")
    print(f"http: webfinger                 {finger:9.0f} req/s  ratio {finger / floor:.2f}")


if __name__ == "__main__":
    main()

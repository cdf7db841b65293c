"""Hostile mix: memory and latency of one copub process under a repeated attack mix.

Two runs in the same invocation, each against a fresh ``copub serve`` process (SQLite):
*quiet*, normal traffic only, and *hostile*, the same normal traffic plus a repeated mix of
what an outside attack run sent. Normal traffic, open loop with random (Poisson) arrivals:
actor document GETs (10/s) and genuine signed Follows (2/s), each Follow from a fresh actor
with a fresh key on one of many hosts. The hostile mix (about 20 requests/s;
``BENCH_HOSTILE_RATE`` scales it): unsigned POSTs, bad signatures, keyIds on hosts that
never answer, refuse or do not resolve, 10,000-deep JSON, bodies over the limit, ~1 MiB
audiences, multi-typed objects, actors with ``javascript:`` urls, Likes with ids squatted on
other hosts, Follows from actors whose inbox is dead, the follow form with dead accounts,
and GETs of pages and objects that do not exist.

Per run: the steady RSS of the copub process (the median of its samples, every 10 s) over
the first minute after the warm-up and over the last minute, their growth %, the samples
through the run, and p50/p99 of both normal requests after the warm-up.
Targets: RSS flat within 10 %; in the hostile run, p99s within 2x the quiet run's.

Everything stays on loopback. A peer process serves the actors on 48 addresses 127.0.0.x
(each a distinct host) and keeps 16 more that accept connections and never answer. Keys are
fresh: one RSA prime pair gives a new key pair for every public exponent (~0.1 ms), so every
actor has its own keyId and its own key, as cold to the server as a new sender's.

``BENCH_HOSTILE_SECONDS`` (default 600) per run, after ``BENCH_HOSTILE_WARMUP`` (default 60).
``BENCH_HOSTILE_ONLY=kind,kind`` sends only those kinds of the mix (which attack costs latency).
Roles (this file runs three ways): no argument, the benchmark; ``peer KEYFILE``;
``hostile CONFIG_JSON``, the hostile traffic until stdin closes (its counts on stdout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.httpsig import sign_request
from federation.keys import PrivateKey, Signer

sys.path.insert(0, str(Path(__file__).parent))
from bench_http import free_port, wait_ready

SECONDS = float(os.environ.get("BENCH_HOSTILE_SECONDS", "600"))
WARMUP = float(os.environ.get("BENCH_HOSTILE_WARMUP", "60"))
RATE = float(os.environ.get("BENCH_HOSTILE_RATE", "1"))
PROBE = os.environ.get("BENCH_HOSTILE_PROBE", "")
ONLY = [kind for kind in os.environ.get("BENCH_HOSTILE_ONLY", "").split(",") if kind]
FULL_SECONDS = 600
STEADY_WINDOW = min(60.0, SECONDS / 4)  # seconds of RSS samples making one steady figure
SLUG = "bench"
GET_RATE, FOLLOW_RATE = 10.0, 2.0
PEER_HOSTS, SILENT_HOSTS = 48, 16
AS2 = "application/activity+json"
MIB = 1 << 20
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
HERE = Path(__file__).resolve()


# --- keys: a fresh RSA key pair per public exponent -------------------------------------


@dataclass(frozen=True)
class KeySigner(Signer):
    """A Signer holding its key object: a fresh key is never serialized and parsed again."""

    key: PrivateKey = field(repr=False, compare=False)

    @property
    def private_key(self) -> PrivateKey:
        return self.key


class KeyFamily:
    """RSA keys sharing one modulus: exponent ``e`` names a key pair of its own."""

    def __init__(self, private_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        numbers = key.private_numbers()
        self.p, self.q = numbers.p, numbers.q
        self.n = self.p * self.q
        self.lam = math.lcm(self.p - 1, self.q - 1)

    def fresh(self, rng: random.Random) -> int:
        while True:
            e = rng.randrange(1 << 17, 1 << 32) | 1
            if math.gcd(e, self.lam) == 1:
                return e

    def public_pem(self, e: int) -> str:
        public = rsa.RSAPublicNumbers(e, self.n).public_key()
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def signer(self, key_id: str, e: int) -> KeySigner:
        d = pow(e, -1, self.lam)
        numbers = rsa.RSAPrivateNumbers(
            self.p, self.q, d, d % (self.p - 1), d % (self.q - 1), pow(self.q, -1, self.p),
            rsa.RSAPublicNumbers(e, self.n),
        )  # fmt: skip
        key = numbers.private_key(unsafe_skip_rsa_key_validation=True)
        return KeySigner(key_id, "", key)


def dead_host(e: int) -> str:
    """A loopback address where nothing listens (port 1): connections are refused."""
    return f"127.{2 + (e >> 16) % 250}.{(e >> 8) & 255}.{1 + e % 254}:1"


# --- the peer: fresh actors on many hosts, and hosts that never answer ---------------------


def actor_document(host: str, name: str, family: KeyFamily) -> dict[str, Any] | None:
    """``u<e>``: a Person; ``j<e>``: a Group whose url is a script; ``d<e>``: a Person whose
    inbox is on a dead host."""
    kind, digits = name[:1], name[1:]
    if kind not in "ujd" or not digits.isdigit():
        return None
    e = int(digits)
    actor_id = f"http://{host}/users/{name}"
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Group" if kind == "j" else "Person",
        "preferredUsername": name,
        "inbox": f"http://{dead_host(e)}/inbox" if kind == "d" else actor_id + "/inbox",
        "publicKey": {
            "id": actor_id + "#main-key",
            "owner": actor_id,
            "publicKeyPem": family.public_pem(e),
        },
    }
    if kind == "u":
        doc["endpoints"] = {"sharedInbox": f"http://{host}/inbox"}
    if kind == "j":
        doc["url"] = "javascript:alert(document.domain)"
        doc["name"] = "<img src=x onerror=alert(1)>"
    return doc


class Silent(asyncio.Protocol):
    """Accepts a connection and never answers."""


async def peer(keyfile: str, count: int = PEER_HOSTS) -> None:
    """Serve actors on ``count`` loopback hosts (and keep the silent ones) until stdin closes."""
    family = KeyFamily(Path(keyfile).read_bytes())

    async def actor(request: web.Request) -> web.Response:
        doc = actor_document(request.host, request.match_info["name"], family)
        if doc is None:
            raise web.HTTPNotFound()
        return web.json_response(doc, content_type=AS2)

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_get("/users/{name}", actor)
    app.router.add_post("/users/{name}/inbox", inbox)
    app.router.add_post("/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hosts = []
    for i in range(count):
        sock = socket.socket()
        sock.bind((f"127.0.0.{10 + i}", 0))
        await web.SockSite(runner, sock).start()
        hosts.append("{}:{}".format(*sock.getsockname()))
    loop = asyncio.get_running_loop()
    silent = []
    for i in range(SILENT_HOSTS):
        server = await loop.create_server(Silent, f"127.0.1.{10 + i}", 0)
        silent.append("{}:{}".format(*server.sockets[0].getsockname()))
    print(json.dumps({"hosts": hosts, "silent": silent}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


# --- requests -------------------------------------------------------------------------------


def signed_post(url: str, activity: dict[str, Any], signer: Signer) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(activity).encode()
    return body, sign_request("POST", url, {"Content-Type": AS2}, body, signer)


def follow(base: str, actor_id: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor_id}/follows/{uuid.uuid4()}",
        "type": "Follow",
        "actor": actor_id,
        "object": f"{base}/c/{SLUG}",
    }


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> int:
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def get(session: aiohttp.ClientSession, url: str, accept: str = AS2) -> int:
    async with session.get(url, headers={"Accept": accept}, allow_redirects=False) as response:
        await response.read()
        return response.status


# --- the hostile mix --------------------------------------------------------------------------


class Hostile:
    """Each ``kind_*`` method sends one hostile request and returns the HTTP status."""

    def __init__(self, config: dict[str, Any], session: aiohttp.ClientSession) -> None:
        self.base: str = config["base"]
        self.hosts: list[str] = config["hosts"]
        self.silent: list[str] = config["silent"]
        self.family = KeyFamily(Path(config["keyfile"]).read_bytes())
        self.session = session
        self.rng = random.Random(config["seed"])
        self.inbox = f"{self.base}/c/{SLUG}/inbox"
        self.community = f"{self.base}/c/{SLUG}"
        self.members: list[tuple[str, Signer]] = []

    def fresh_actor(self, kind: str = "u") -> tuple[str, Signer]:
        e = self.family.fresh(self.rng)
        actor_id = f"http://{self.rng.choice(self.hosts)}/users/{kind}{e}"
        return actor_id, self.family.signer(actor_id + "#main-key", e)

    def like(self, actor_id: str, object_id: str | None = None) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{actor_id}/likes/{uuid.uuid4()}",
            "type": "Like",
            "actor": actor_id,
            "object": object_id or f"{self.community}/o/{uuid.uuid4().hex}",
        }

    def create(self, actor_id: str, note: dict[str, Any], **audience: list[str]) -> dict[str, Any]:
        note_id = f"{actor_id}/statuses/{uuid.uuid4().hex}"
        obj = {"id": note_id, "type": "Note", "attributedTo": actor_id, "content": "<p>hi</p>",
               "to": [PUBLIC], "cc": [self.community], **note}  # fmt: skip
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": note_id + "/activity",
                "type": "Create", "actor": actor_id, "to": obj["to"], "cc": obj["cc"],
                "object": obj, **audience}  # fmt: skip

    async def signed(self, activity: dict[str, Any], signer: Signer) -> int:
        body, headers = signed_post(self.inbox, activity, signer)
        return await post(self.session, self.inbox, body, headers)

    async def join(self, count: int = 8) -> None:
        """Members (accepted followers) who send the hostile posts."""
        for _ in range(count):
            actor_id, signer = self.fresh_actor()
            if await self.signed(follow(self.base, actor_id), signer) == 202:
                self.members.append((actor_id, signer))

    async def kind_unsigned(self) -> int:
        body = json.dumps(self.like(self.fresh_actor()[0])).encode()
        return await post(self.session, self.inbox, body, {"Content-Type": AS2})

    async def kind_bad_signature(self) -> int:
        actor_id, _ = self.fresh_actor()
        _, other = self.fresh_actor()  # signed with another actor's key under this keyId
        wrong = KeySigner(actor_id + "#main-key", "", other.private_key)
        return await self.signed(self.like(actor_id), wrong)

    async def _key_at(self, host: str) -> int:
        actor_id = f"http://{host}/users/u{self.family.fresh(self.rng)}"
        _, signer = self.fresh_actor()
        return await self.signed(
            self.like(actor_id), KeySigner(actor_id + "#main-key", "", signer.private_key)
        )

    async def kind_silent_key_host(self) -> int:
        return await self._key_at(self.rng.choice(self.silent))

    async def kind_refusing_key_host(self) -> int:
        return await self._key_at(dead_host(self.family.fresh(self.rng)))

    async def kind_unresolvable_key_host(self) -> int:
        return await self._key_at(f"h{uuid.uuid4().hex[:12]}.invalid")

    async def kind_deep_json(self) -> int:
        body = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
        return await post(self.session, self.inbox, body, {"Content-Type": AS2})

    async def kind_oversized(self) -> int:
        body = b'{"type":"Like","x":"' + b"a" * (2 * MIB) + b'"}'
        return await post(self.session, self.inbox, body, {"Content-Type": AS2})

    async def kind_huge_audience(self) -> int:
        actor_id, signer = self.rng.choice(self.members) if self.members else self.fresh_actor()
        cc = [self.community] * ((MIB - 4096) // (len(json.dumps(self.community)) + 2))
        return await self.signed(self.create(actor_id, {}, cc=cc), signer)

    async def kind_multi_typed(self) -> int:
        actor_id, signer = self.rng.choice(self.members) if self.members else self.fresh_actor()
        kinds = ["Note", "http://schema.org/CreativeWork"]
        return await self.signed(self.create(actor_id, {"type": kinds}), signer)

    async def kind_script_url_follow(self) -> int:
        actor_id, signer = self.fresh_actor("j")
        return await self.signed(follow(self.base, actor_id), signer)

    async def kind_squatted_like(self) -> int:
        actor_id, signer = self.fresh_actor()
        activity = self.like(actor_id)
        activity["id"] = f"http://{self.rng.choice(self.hosts)}/users/victim#delete-{uuid.uuid4()}"
        return await self.signed(activity, signer)

    async def kind_dead_inbox_follow(self) -> int:
        actor_id, signer = self.fresh_actor("d")
        return await self.signed(follow(self.base, actor_id), signer)

    async def kind_follow_form(self) -> int:
        account = f"x{uuid.uuid4().hex[:8]}@{dead_host(self.family.fresh(self.rng))}"
        async with self.session.post(f"{self.community}/follow", data={"account": account}) as r:
            await r.read()
            return r.status

    async def kind_missing_page(self) -> int:
        rand = uuid.uuid4().hex
        path = self.rng.choice(
            [f"/c/{SLUG}/o/{rand}", f"/c/{SLUG}/a/{rand}", f"/c/{rand[:10]}",
             f"/c/{SLUG}/tags/{rand}", f"/c/{rand[:10]}/feed.atom", f"/c/{SLUG}/o/{rand}/event.ics",
             f"/.well-known/webfinger?resource=acct:{rand[:10]}@{self.base.split('//')[1]}"]
        )  # fmt: skip
        return await get(self.session, self.base + path, self.rng.choice([AS2, "text/html"]))


# requests per second of each kind (times BENCH_HOSTILE_RATE), and the most in flight at once
MIX: dict[str, tuple[float, int]] = {
    "unsigned": (4.0, 64),
    "bad_signature": (3.0, 64),
    "silent_key_host": (2.0, 48),
    "refusing_key_host": (1.5, 64),
    "unresolvable_key_host": (0.5, 64),
    "deep_json": (1.0, 16),
    "oversized": (0.2, 4),
    "huge_audience": (0.05, 2),
    "multi_typed": (0.5, 16),
    "script_url_follow": (0.5, 16),
    "squatted_like": (2.0, 64),
    "dead_inbox_follow": (0.5, 16),
    "follow_form": (0.5, 16),
    "missing_page": (4.0, 64),
}
if unknown := set(ONLY) - set(MIX):
    raise SystemExit(f"BENCH_HOSTILE_ONLY: no such kind {sorted(unknown)}; kinds: {list(MIX)}")
if ONLY:
    MIX = {kind: MIX[kind] for kind in ONLY}


async def every(
    rate: float, stop: asyncio.Event, fire: Callable[[], None], *, poisson: bool = False
) -> None:
    """Call ``fire`` ``rate`` times a second (open loop) until ``stop``: on a fixed schedule,
    or with ``poisson`` at random moments, as independent clients arrive (exponential gaps).

    The traffic of both runs arrives the Poisson way. On fixed schedules two kinds whose
    rates divide each other (Follows at 2/s, a member's post relayed at 0.5/s) kept one
    phase for the whole run: the slowest Follows were all those that came a few ms after a
    relay, the same one in four every time, or none, by the random start; the Follow p99 of
    four 2-minute runs of the same code went from 31 to 55 ms."""
    interval = 1.0 / rate
    due = time.perf_counter() + random.random() * interval  # spread the starts
    while not stop.is_set():
        delay = due - time.perf_counter()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            continue
        fire()
        due += random.expovariate(rate) if poisson else interval


async def hostile(config: dict[str, Any]) -> None:
    counts: dict[str, Counter[str]] = {kind: Counter() for kind in MIX}
    stop = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    in_flight: Counter[str] = Counter()
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        mix = Hostile(config, session)
        await mix.join()

        def launcher(kind: str, cap: int) -> Callable[[], None]:
            send: Callable[[], Awaitable[int]] = getattr(mix, f"kind_{kind}")

            async def one() -> None:
                try:
                    counts[kind][str(await send())] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    counts[kind][type(exc).__name__] += 1
                finally:
                    in_flight[kind] -= 1

            def fire() -> None:
                if in_flight[kind] >= cap:
                    counts[kind]["skipped"] += 1
                    return
                in_flight[kind] += 1
                task = asyncio.create_task(one())
                tasks.add(task)
                task.add_done_callback(tasks.discard)

            return fire

        loops = [
            asyncio.create_task(every(rate * RATE, stop, launcher(kind, cap), poisson=True))
            for kind, (rate, cap) in MIX.items()
        ]
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        stop.set()
        await asyncio.gather(*loops)
        if tasks:
            await asyncio.wait(tasks, timeout=30)
    print(json.dumps({kind: dict(c) for kind, c in counts.items()}), flush=True)


# --- the benchmark: normal traffic, RSS, two runs -----------------------------------------


@dataclass
class Run:
    name: str
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds, KiB) after warm-up
    gets: list[float] = field(default_factory=list)
    follows: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    hostile: dict[str, dict[str, int]] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def steady_rss(run: Run, since: float) -> float:
    """The RSS (MB) over ``STEADY_WINDOW`` seconds from ``since`` (after the warm-up): the
    median of its samples. A single sample lands anywhere in glibc's swing between the
    process's releases of freed memory (3-8 MB over a minute, measured)."""
    window = [kib for at, kib in run.rss if since <= at <= since + STEADY_WINDOW]
    return statistics.median(window) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * q) - 1))] * 1000


async def normal_traffic(
    run: Run, base: str, hosts: list[str], family: KeyFamily, pid: int
) -> None:
    """Actor GETs and fresh signed Follows for the warm-up and the run; RSS sampled."""
    rng = random.Random(1)
    inbox = f"{base}/c/{SLUG}/inbox"
    measuring = False
    stop = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def timed(kind: str, out: list[float], request: Awaitable[int], ok: int) -> None:
            began = time.perf_counter()
            try:
                status = await request
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.errors[f"{kind} {type(exc).__name__}"] += 1
                return
            if status != ok:
                run.errors[f"{kind} {status}"] += 1
            elif measuring:
                out.append(time.perf_counter() - began)

        def spawn(coro: Awaitable[None]) -> None:
            task = asyncio.ensure_future(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def actor_get() -> None:
            spawn(timed("actor GET", run.gets, get(session, f"{base}/c/{SLUG}"), 200))

        def signed_follow() -> None:
            e = family.fresh(rng)
            actor_id = f"http://{rng.choice(hosts)}/users/u{e}"
            signer = family.signer(actor_id + "#main-key", e)
            body, headers = signed_post(inbox, follow(base, actor_id), signer)
            spawn(timed("Follow", run.follows, post(session, inbox, body, headers), 202))

        loops = [
            asyncio.create_task(every(GET_RATE, stop, actor_get, poisson=True)),
            asyncio.create_task(every(FOLLOW_RATE, stop, signed_follow, poisson=True)),
        ]
        await asyncio.sleep(WARMUP)
        measuring = True
        began = time.perf_counter()
        sample = max(1.0, SECONDS / 60)
        while (elapsed := time.perf_counter() - began) < SECONDS:
            run.rss.append((elapsed, rss_kib(pid)))
            await asyncio.sleep(min(sample, SECONDS - elapsed))
        run.rss.append((time.perf_counter() - began, rss_kib(pid)))
        measuring = False
        stop.set()
        await asyncio.gather(*loops)
        if tasks:
            await asyncio.wait(tasks, timeout=30)


def start_server(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    base = f"http://127.0.0.1:{port}"
    config = tmp / "config.toml"
    config.write_text(
        f'[server]\nbase_url = "{base}"\nport = {port}\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp}/bench.sqlite3"\n'
        "[federation]\nallow_private_addresses = true\n"
        f'[[communities]]\nslug = "{SLUG}"\nname = "Bench"\n'
        + os.environ.get("BENCH_HOSTILE_EXTRA", "")
    )
    command = [sys.executable, "-m", "actors.cli", "serve"]
    if PROBE:  # bench/loop_probe.py: the server's event-loop stalls and their stacks
        command[1:3] = [str(HERE.parent / "loop_probe.py"), f"{PROBE}/{tmp.name}.json", "--"]
    return subprocess.Popen(
        command,
        env={**os.environ, "COPUB_CONFIG": str(config)},
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "wb"),  # the child owns it
    )


def one_run(name: str, peers: dict[str, list[str]], keyfile: Path, family: KeyFamily) -> Run:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-hostile-{name}-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp, port)
    run = Run(name)
    generator = None
    try:
        asyncio.run(wait_ready(f"{base}/c/{SLUG}"))
        load = os.getloadavg()[0]
        if name == "hostile":
            config = {"base": base, "keyfile": str(keyfile), "seed": 7, **peers}
            generator = subprocess.Popen(
                [sys.executable, str(HERE), "hostile", json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        asyncio.run(normal_traffic(run, base, peers["hosts"], family, server.pid))
        if generator is not None:
            out, _ = generator.communicate(timeout=120)
            run.hostile = json.loads(out.decode().strip().splitlines()[-1])
        run.load = (load, os.getloadavg()[0])
    finally:
        if generator is not None and generator.poll() is None:
            generator.kill()
        server.send_signal(signal.SIGINT)
        server.wait(30)
    return run


def report(quiet: Run, hostile: Run) -> None:
    minutes = SECONDS / 60
    short = (
        ""
        if SECONDS >= FULL_SECONDS
        else f"  SHORT RUN (not the {FULL_SECONDS // 60}-minute measure)"
    )
    if ONLY:
        short += f"  ONLY {','.join(ONLY)} (not the whole mix)"
    print(f"hostile mix: {minutes:.1f} min per run after a {WARMUP:.0f} s warm-up, "
          f"hostile rate x{RATE:g}{short}")  # fmt: skip
    rows = []
    for run in (quiet, hostile):
        start, end = steady_rss(run, 0), steady_rss(run, SECONDS - STEADY_WINDOW)
        first, last = run.rss[0][1] / 1024, run.rss[-1][1] / 1024
        top = max(kib for _, kib in run.rss) / 1024
        growth = (end - start) / start * 100
        half = steady_rss(run, (SECONDS - STEADY_WINDOW) / 2)
        late = (end - half) / half * 100  # filling caches grow early; a leak grows on
        get99, fol99 = percentile(run.gets, 0.99), percentile(run.follows, 0.99)
        rows.append((growth, get99, fol99))
        print(
            f"hostile mix: {run.name:8s} RSS {start:6.1f} -> {end:6.1f} MB ({growth:+5.1f} %, "
            f"{late:+5.1f} % in the second half; samples {first:.1f} first, {last:.1f} last, "
            f"max {top:.1f})"
            f"  actor GET p50 {percentile(run.gets, 0.5):6.1f} p99 {get99:7.1f} ms"
            f"  Follow p50 {percentile(run.follows, 0.5):6.1f} p99 {fol99:7.1f} ms"
            f"  ({len(run.gets)} GETs, {len(run.follows)} Follows; "
            f"load {run.load[0]:.1f} -> {run.load[1]:.1f})"
        )
        trail = " ".join(f"{kib / 1024:.0f}" for _, kib in run.rss[:: max(1, len(run.rss) // 10)])
        print(f"hostile mix: {run.name:8s} RSS MB through the run: {trail}")
        if run.errors:
            print(f"hostile mix: {run.name:8s} normal requests failed: {dict(run.errors)}")
    answers = [
        f"{kind} " + " ".join(f"{n}x{status}" for status, n in sorted(counts.items()))
        for kind, counts in hostile.hostile.items()
    ]
    print(f"hostile mix: hostile answers: {'; '.join(answers)}")
    (_, qget, qfol), (growth, hget, hfol) = rows
    worst_growth = max(abs(rows[0][0]), abs(growth))
    print(
        f"hostile mix: RSS growth {worst_growth:.1f} % (target <= 10 %)"
        f" {'ok' if worst_growth <= 10 else 'MISSED'}; hostile/quiet p99: actor GET "
        f"{hget / qget:.1f}x, Follow {hfol / qfol:.1f}x (target <= 2x) "
        f"{'ok' if max(hget / qget, hfol / qfol) <= 2 else 'MISSED'}"
    )


@contextlib.contextmanager
def peer_process(
    tmp: Path, hosts: int = PEER_HOSTS
) -> Iterator[tuple[Path, KeyFamily, dict[str, list[str]]]]:
    """The peer as a child process (this file's ``peer`` role) serving actors on ``hosts``
    loopback addresses, with a fresh key family in ``tmp``: (its key file, the family, the
    peer's ``hosts`` and ``silent`` addresses)."""
    keyfile = tmp / "family.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    family = KeyFamily(keyfile.read_bytes())
    process = subprocess.Popen(
        [sys.executable, str(HERE), "peer", str(keyfile), str(hosts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        yield keyfile, family, json.loads(process.stdout.readline())
    finally:
        process.communicate(timeout=30)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    with peer_process(tmp) as (keyfile, family, peers):
        quiet = one_run("quiet", peers, keyfile, family)
        hostile_run = one_run("hostile", peers, keyfile, family)
    report(quiet, hostile_run)


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "bench"
    if role == "peer":
        asyncio.run(peer(sys.argv[2], *map(int, sys.argv[3:4])))
    elif role == "hostile":
        asyncio.run(hostile(json.loads(sys.argv[2])))
    else:
        main()

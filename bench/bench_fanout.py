"""Fan-out: one story to 10,000 followers on 1,000 loopback servers (1,000 deliveries).

Followers on a server share its inbox, so the story becomes one job per server. A sink
process (bench/fanout_sink.py) listens on 1,000 ports of 127.0.0.1 and counts deliveries.
Wall time runs from the publishing transaction to the sink's 1,000th delivery. The floor,
measured in the same run against the same sinks, is 1,000 RSA signatures plus 1,000
keep-alive POSTs with no copub code. Scenarios:

- SQLite, one process: the publishing process runs the in-process worker (`copub serve`);
- SQLite, CLI publish: `copub serve` runs (its in-process worker); `copub publish`, a
  process of its own, publishes. Wall time runs from starting the CLI process to the last
  delivery (its start-up, the commit, waking the server's worker, the deliveries); also
  shown: from its start to its "published" line, printed after the commit (target 300 ms);
- PostgreSQL, two `copub worker` processes; a separate process publishes.

Peak RSS is each copub process's own ru_maxrss (os.wait4). Targets: within 2x the floor
on SQLite, 1.5x from the CLI and on PostgreSQL, peak RSS under 200 MB. Everything stops by
itself. BENCH_FANOUT_ONLY=sqlite,cli,pg runs only those scenarios.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVERS = int(os.environ.get("BENCH_SERVERS", "1000"))
PER_SERVER = int(os.environ.get("BENCH_FOLLOWERS_PER_SERVER", "10"))
TIMEOUT = 120.0
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
DEADLINE = 900  # seconds for the whole benchmark
SINK = [sys.executable, str(ROOT / "bench" / "fanout_sink.py")]
VERBOSE = ["-v"] if os.environ.get("BENCH_VERBOSE") else []
ONLY = {x for x in os.environ.get("BENCH_FANOUT_ONLY", "").split(",") if x}

STORY = "Night shift medication review: what we learned this month. " * 8


def config_text(database_url: str, in_process_worker: bool) -> str:
    return (
        '[server]\nbase_url = "http://127.0.0.1:9"\n'
        f'[database]\nurl = "{database_url}"\n'
        "[federation]\nallow_private_addresses = true\n"
        f"[delivery]\nin_process_worker = {'true' if in_process_worker else 'false'}\n"
    )


# -- the copub side: seeding, and the publishing process -------------------------------------


async def seed(database_url: str, ports: list[int]) -> str:
    """Migrate, create the community, add the followers; returns its private key PEM."""
    from actors import founding
    from actors.store.db import create_engine, migrate, sessionmaker
    from actors.store.models import FollowerRow

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with sessionmaker(engine).begin() as session:
            community = await founding.create_community(session, slug="bench", name="Bench")
            rows = [
                {
                    "community_id": community.id,
                    "actor_id": f"http://127.0.0.1:{port}/users/u{k}",
                    "inbox": f"http://127.0.0.1:{port}/users/u{k}/inbox",
                    "shared_inbox": f"http://127.0.0.1:{port}/inbox",
                    "state": "accepted",
                    "follow_activity_id": f"http://127.0.0.1:{port}/follows/{k}",
                }
                for port in ports
                for k in range(PER_SERVER)
            ]
            for start in range(0, len(rows), 2000):
                await session.execute(FollowerRow.__table__.insert(), rows[start : start + 2000])
        return community.private_key_pem
    finally:
        await engine.dispose()


async def publisher(config: str, with_worker: bool) -> None:
    """Wait for "go", publish one story (the real code path), wait for "stop"."""
    import logging

    from actors import publishing
    from actors.content import StoryDraft
    from actors.delivery import build_worker, delivery_client, wake_on_commit
    from actors.settings import load_settings
    from actors.store import queries
    from actors.store.db import create_engine, sessionmaker
    from actors.urls import Urls

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(config)
    engine = create_engine(settings.database.url)
    sessions = sessionmaker(engine)
    client = delivery_client(settings)
    await client.start()
    worker = build_worker(settings, sessions, client)
    task = None
    await worker.queue.prepare()  # as a running server has: keys loaded
    if with_worker:
        wake_on_commit(sessions, worker)
        task = asyncio.create_task(worker.run())
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    started = time.perf_counter()
    async with sessions.begin() as session:
        community = await queries.get_community(session, "bench")
        assert community is not None
        draft = StoryDraft(title="Monthly case review", markdown=STORY)
        await publishing.publish_story(session, Urls(settings.server.base_url), community, draft)
    print(f"published in {time.perf_counter() - started:.3f} s", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    if task is not None:
        worker.stop()
        await task
    await client.close()
    await engine.dispose()
    print(json.dumps(worker.counts), flush=True)


async def count_states(database_url: str) -> dict[str, int]:
    from actors.store import jobs
    from actors.store.db import create_engine, sessionmaker

    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            return await jobs.delivery_stats(session)
    finally:
        await engine.dispose()


# -- orchestration ---------------------------------------------------------------------------


def wait_for_text(path: Path, expected: str) -> None:
    """Until ``expected`` appears in the file a process logs to (polled: a startup wait)."""
    deadline = time.monotonic() + TIMEOUT
    while expected not in path.read_text():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {expected!r} in {path}")
        time.sleep(0.05)


def wait_line(proc: subprocess.Popen[str], expected: str) -> str:
    pipe = proc.stdout
    assert pipe is not None
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = pipe.readline()
        if not line:
            raise RuntimeError(f"process exited before printing {expected!r}")
        if expected in line:
            return line
    raise RuntimeError(f"timed out waiting for {expected!r}")


def reap(proc: subprocess.Popen[str]) -> float:
    """Wait for the process; its peak RSS in MB."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
    if VERBOSE:
        print(f"fanout:   pid {proc.pid}: cpu {usage.ru_utime:.2f} user + {usage.ru_stime:.2f} sys")
    return usage.ru_maxrss / 1024


def kill_leftovers(procs: list[subprocess.Popen[str]]) -> None:
    """Kill what is still running (a run that failed midway)."""
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            proc.wait()


class SinkControl:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.file = self.sock.makefile("rw")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def ask(self, line: str) -> tuple[int, int]:
        self.file.write(line + "\n")
        self.file.flush()
        _ok, distinct, total = self.file.readline().split()
        return int(distinct), int(total)


def run_once(
    database_url: str, config: Path, workers: int, sink: SinkControl, n: int
) -> dict[str, Any]:
    """Start the copub process(es), publish one story, wait for the sink's ``n``-th
    delivery, stop everything; wall time, peak RSS per copub process."""
    logs = [config.with_name(f"{config.stem}-worker{i}.log") for i in range(workers)]
    worker_procs = [
        subprocess.Popen(
            [sys.executable, "-m", "actors.cli", "--config", str(config), *VERBOSE, "worker"],
            cwd=ROOT,
            stderr=log.open("w"),
            stdout=subprocess.DEVNULL,
            text=True,
        )
        for log in logs
    ]
    pub = subprocess.Popen(
        [sys.executable, __file__, "publisher", str(config), "1" if workers == 0 else "0"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    procs = [pub, *worker_procs]
    try:
        for log in logs:
            wait_for_text(log, "delivering (")
        wait_line(pub, "ready")
        sink.ask("RESET")
        assert pub.stdin is not None
        assert pub.stdout is not None
        start = time.perf_counter()
        pub.stdin.write("go\n")
        pub.stdin.flush()
        distinct, total = sink.ask(f"WAIT {n}")
        wall = time.perf_counter() - start
        published = pub.stdout.readline().strip()
        pub.stdin.write("stop\n")
        pub.stdin.flush()
        for proc in worker_procs:
            proc.send_signal(signal.SIGTERM)
        rss = [reap(proc) for proc in worker_procs]
        rss = rss or [reap(pub)]
        if worker_procs:
            reap(pub)
    finally:
        kill_leftovers(procs)
    if VERBOSE:
        print(f"fanout:   {published}")
    return {"wall": wall, "rss": rss, "distinct": distinct, "total": total}


def measure_floor(tmp: Path, ports: list[int], sink: SinkControl) -> float:
    """Seconds for N signatures plus N keep-alive POSTs, in a fresh process."""
    sink.ask("RESET")
    out = subprocess.run(
        [*SINK, "floor", json.dumps(ports), str(tmp / "key.pem"), str(tmp / "body.json")],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    )
    floor = json.loads(out.stdout)
    if VERBOSE:
        print(
            f"fanout:   floor: signatures {floor['sign_s']:.2f} s + POSTs {floor['post_s']:.2f} s"
        )
    return float(floor["sign_s"] + floor["post_s"])


def scenario(
    name: str,
    database_url: str,
    workers: int,
    target: float,
    tmp: Path,
    ports: list[int],
    sink: SinkControl,
) -> bool:
    """Seed once, then REPEAT times: the floor, then copub, each ratio against the floor
    measured just before it (the machine's load changes); the median run is reported."""
    key_pem = asyncio.run(seed(database_url, ports))
    (tmp / "key.pem").write_text(key_pem)
    (tmp / "body.json").write_bytes(json.dumps({"type": "Create", "content": STORY}).encode())
    config = tmp / f"{name.split(',')[0].lower()}.toml"
    config.write_text(config_text(database_url, in_process_worker=workers == 0))
    n = len(ports)
    runs = []
    for _ in range(REPEAT):
        floor = measure_floor(tmp, ports, sink)
        run = run_once(database_url, config, workers, sink, n)
        run["floor"] = floor
        runs.append(run)
    states = asyncio.run(count_states(database_url))
    runs.sort(key=lambda r: r["wall"] / r["floor"])
    mid = runs[len(runs) // 2]
    ratio = mid["wall"] / mid["floor"]
    peak = max(max(r["rss"]) for r in runs)
    complete = states["done"] == n * REPEAT and all(r["distinct"] == r["total"] == n for r in runs)
    ok = ratio <= target and peak < 200 and complete
    rss = "/".join(f"{x:.0f}" for x in mid["rss"])
    ratios = ", ".join(f"{r['wall'] / r['floor']:.2f}" for r in runs)
    print(
        f"fanout: {name:22} wall {mid['wall']:5.2f} s  {n / mid['wall']:5.0f} deliveries/s  "
        f"floor {mid['floor']:5.2f} s  {ratio:4.2f}x floor (target {target}x, "
        f"all runs {ratios})  "
        f"peak RSS {rss} MB  [{'ok' if ok else 'MISSED'}]"
    )
    if not complete:
        print(
            f"fanout:   incomplete: jobs {states}, "
            f"sink {[(r['distinct'], r['total']) for r in runs]}"
        )
    return ok


def publish_with_cli(config: Path, sink: SinkControl, n: int) -> dict[str, Any]:
    """``copub publish`` as an operator runs it, beside a running server: seconds from its
    start to its "published" line (after the commit) and to the sink's ``n``-th delivery."""
    sink.ask("RESET")
    argv = [sys.executable, "-m", "actors.cli", "--config", str(config), "publish", "bench"]
    story = ["story", "--title", "Monthly case review", "--content", STORY]
    start = time.perf_counter()
    pub = subprocess.Popen(
        [*argv, *story],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # the line as soon as it is printed
    )
    try:
        wait_line(pub, "published")
        committed = time.perf_counter() - start
        distinct, total = sink.ask(f"WAIT {n}")
        wall = time.perf_counter() - start
        rss = reap(pub)
    finally:
        if pub.returncode is None:
            pub.kill()
            pub.wait()
    return {"wall": wall, "committed": committed, "rss": rss, "distinct": distinct, "total": total}


def cli_scenario(tmp: Path, ports: list[int], sink: SinkControl, target: float) -> bool:
    """`copub serve` on a SQLite database of its own; REPEAT times the floor, then a CLI
    publish timed from the CLI's start; the median run (by its ratio to the floor)."""
    name = "SQLite, CLI publish"
    database_url = f"sqlite+aiosqlite:///{tmp}/cli.sqlite3"
    key_pem = asyncio.run(seed(database_url, ports))
    (tmp / "key.pem").write_text(key_pem)
    (tmp / "body.json").write_bytes(json.dumps({"type": "Create", "content": STORY}).encode())
    config = tmp / "cli.toml"
    config.write_text(config_text(database_url, in_process_worker=True))
    log = tmp / "cli-serve.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listen = ["--host", "127.0.0.1", "--port", str(port)]
    serve = subprocess.Popen(
        [sys.executable, "-m", "actors.cli", "--config", str(config), *VERBOSE, "serve", *listen],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
    )
    n = len(ports)
    runs = []
    try:
        wait_for_text(log, "delivering (")  # the server's worker runs
        for _ in range(REPEAT):
            floor = measure_floor(tmp, ports, sink)
            run = publish_with_cli(config, sink, n)
            run["floor"] = floor
            runs.append(run)
        serve.send_signal(signal.SIGTERM)
        server_rss = reap(serve)
    finally:
        if serve.returncode is None:
            serve.kill()
            serve.wait()
    states = asyncio.run(count_states(database_url))
    runs.sort(key=lambda r: r["wall"] / r["floor"])
    mid = runs[len(runs) // 2]
    ratio = mid["wall"] / mid["floor"]
    committed = sorted(r["committed"] for r in runs)[len(runs) // 2] * 1000
    complete = states["done"] == n * REPEAT and all(r["distinct"] == r["total"] == n for r in runs)
    peak = max(server_rss, *(r["rss"] for r in runs))
    ok = ratio <= target and committed <= 300 and peak < 200 and complete
    ratios = ", ".join(f"{r['wall'] / r['floor']:.2f}" for r in runs)
    commits = ", ".join(f"{r['committed'] * 1000:.0f}" for r in runs)
    print(
        f"fanout: {name:22} wall {mid['wall']:5.2f} s  {n / mid['wall']:5.0f} deliveries/s  "
        f"floor {mid['floor']:5.2f} s  {ratio:4.2f}x floor (target {target}x, "
        f"all runs {ratios})  copub publish start to commit {committed:.0f} ms (target 300; "
        f"all runs {commits})  peak RSS serve {server_rss:.0f} MB, "
        f"CLI {max(r['rss'] for r in runs):.0f} MB  [{'ok' if ok else 'MISSED'}]"
    )
    if not complete:
        print(
            f"fanout:   incomplete: jobs {states}, "
            f"sink {[(r['distinct'], r['total']) for r in runs]}"
        )
    return ok


class Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise Timeout(f"the benchmark took longer than {DEADLINE} s")


def main() -> int:
    from tests.pg import PostgresUnavailable, start_cluster

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(DEADLINE)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = Path(tempfile.mkdtemp(prefix="copub-fanout-"))
    sink = subprocess.Popen(
        [*SINK, "sink", str(SERVERS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    pg = None
    control = None
    ok = True
    try:
        assert sink.stdout is not None
        info = json.loads(sink.stdout.readline())
        ports, control = info["ports"], SinkControl(info["control"])
        print(
            f"fanout: 1 story -> {SERVERS * PER_SERVER} followers on {SERVERS} loopback servers "
            f"= {SERVERS} deliveries; floor = {SERVERS} RSA signatures + {SERVERS} keep-alive "
            f"POSTs without copub; median of {REPEAT} runs"
        )
        sqlite_url = f"sqlite+aiosqlite:///{tmp}/fanout.sqlite3"
        if not ONLY or "sqlite" in ONLY:
            ok &= scenario("SQLite, 1 process", sqlite_url, 0, 2.0, tmp, ports, control)
        if not ONLY or "cli" in ONLY:
            ok &= cli_scenario(tmp, ports, control, 1.5)
        if ONLY and "pg" not in ONLY:
            return 0 if ok else 1
        try:
            pg = start_cluster()
        except PostgresUnavailable as exc:
            print(f"fanout: PostgreSQL skipped: {exc}")
            return 0 if ok else 1
        pg_url = pg.url_for(pg.create_database("copub_fanout"))
        ok &= scenario("PostgreSQL, 2 workers", pg_url, 2, 1.5, tmp, ports, control)
    finally:
        signal.alarm(0)
        if control is not None:
            control.close()
        if sink.stdin is not None:
            sink.stdin.close()
        sink.wait(10)
        if pg is not None:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publisher":
        from actors.cli.support import new_event_loop  # the loop `copub serve` runs on

        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(publisher(sys.argv[2], sys.argv[3] == "1"))
    else:
        sys.exit(main())

"""Scale on PostgreSQL (issue 16, item 4): one community post fanned out to 100,000
followers on 10,000 loopback servers, delivered by 1 and then 2 `copub worker` processes.

Followers on a server share its inbox, so the post becomes one job per server (the
expected deliveries are what copub's own ``follower_inboxes`` returns, so a follower
without a shared inbox would add its own). Sink processes (bench/fanout_sink.py) listen on
10,000 ports of 127.0.0.1 and count distinct deliveries by (port, path, digest). A
separate process publishes (bench_fanout's publisher); the workers are real processes
woken by NOTIFY. Each run is timed from the publishing transaction's commit to the last
sink's last delivery; beside it, the floor of the same run: the same number of RSA
signatures and keep-alive POSTs with nothing but cryptography and aiohttp, in as many
processes as there are workers. Peak RSS is each worker's VmHWM. Target: peak RSS under
200 MB per worker; the deliveries/s of 1 and 2 workers and their ratio are reported.

File descriptors: the hard RLIMIT_NOFILE here is 20,000 (raised to it, not beyond: no
CAP_SYS_RESOURCE). A sink holds one socket per port it listens on plus every connection a
client keeps open to it (aiohttp keeps idle connections 15 s, one per host), so the ports
are spread over several sink processes, each within its own limit. A worker with 10,000
kept-alive connections stays within its own. Listening ports come from the ephemeral range
(28,000 ports here); outgoing connections reuse source ports across destinations.

Knobs: BENCH_SCALE_FOLLOWERS (100000), BENCH_SCALE_SERVERS (10000), BENCH_SCALE_REPEAT
(3 runs of each worker count, alternating; the median is reported). Anything smaller
than the defaults is labelled SHORT RUN. BENCH_SCALE_PYSPY=<folder>: py-spy records each
worker (raw collapsed stacks; it costs the worker some CPU, so the numbers are then off).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bench_fanout
from bench_fanout import SINK, SinkControl, kill_leftovers, reap, wait_for_text, wait_line
from fanout_sink import raise_fd_limit

ROOT = bench_fanout.ROOT
DEFAULT_FOLLOWERS, DEFAULT_SERVERS = 100_000, 10_000
FOLLOWERS = int(os.environ.get("BENCH_SCALE_FOLLOWERS", str(DEFAULT_FOLLOWERS)))
SERVERS = int(os.environ.get("BENCH_SCALE_SERVERS", str(DEFAULT_SERVERS)))
REPEAT = int(os.environ.get("BENCH_SCALE_REPEAT", "3"))
SHORT = FOLLOWERS < DEFAULT_FOLLOWERS or SERVERS < DEFAULT_SERVERS
WORKER_COUNTS = (1, 2)
RSS_TARGET_MB = 200
FDS_PER_PORT = 3  # its listening socket, the floor's connection, copub's (old ones closing)
FD_MARGIN = 200
DEADLINE = 1800  # seconds for the whole benchmark
TICKS = os.sysconf("SC_CLK_TCK")
PROFILE_DIR = os.environ.get("BENCH_SCALE_PYSPY", "")
PYSPY = str(Path(sys.executable).with_name("py-spy"))


# -- the database side ----------------------------------------------------------------------


async def seed(database_url: str, ports: list[int]) -> tuple[str, list[str]]:
    """Migrate, create the community, COPY its followers in (follower i on server
    i mod SERVERS); returns its private key PEM and the inboxes copub will deliver to."""
    from actors import founding
    from actors.store.db import create_engine, migrate, sessionmaker
    from actors.store.jobs import follower_inboxes
    from actors.store.models import FollowerRow
    from actors.store.states import FollowerState
    from federation.clock import utcnow

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with sessionmaker(engine).begin() as session:
            community = await founding.create_community(session, slug="bench", name="Bench")
            now = utcnow()
            records = []
            for i in range(FOLLOWERS):
                server = f"http://127.0.0.1:{ports[i % len(ports)]}"
                records.append(
                    (
                        community.id,
                        f"{server}/users/u{i}",
                        f"{server}/users/u{i}/inbox",
                        f"{server}/inbox",
                        FollowerState.ACCEPTED.value,
                        f"{server}/follows/{i}",
                        now,
                    )
                )
            raw = (await (await session.connection()).get_raw_connection()).driver_connection
            assert raw is not None
            await raw.copy_records_to_table(
                FollowerRow.__tablename__,
                records=records,
                columns=[
                    "community_id",
                    "actor_id",
                    "inbox",
                    "shared_inbox",
                    "state",
                    "follow_activity_id",
                    "created_at",
                ],
            )
        async with sessionmaker(engine)() as session:
            inboxes = await follower_inboxes(session, community.id)
        return community.private_key_pem, inboxes
    finally:
        await engine.dispose()


async def outcomes(database_url: str) -> dict[str, int]:
    """Jobs by state and attempts ("done x1": delivered at the first attempt)."""
    from sqlalchemy import func, select

    from actors.store.db import create_engine, sessionmaker
    from actors.store.models import DeliveryRow

    engine = create_engine(database_url)
    try:
        async with sessionmaker(engine)() as session:
            rows = await session.execute(
                select(DeliveryRow.state, DeliveryRow.attempts, func.count()).group_by(
                    DeliveryRow.state, DeliveryRow.attempts
                )
            )
            return {f"{state} x{attempts}": int(n) for state, attempts, n in rows}
    finally:
        await engine.dispose()


# -- the processes ---------------------------------------------------------------------------


def start_sinks(servers: int) -> tuple[list[subprocess.Popen[str]], list[list[int]], list[int]]:
    """As many sink processes as the descriptor limit needs; their ports and control ports."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    per_sink = max(1, (soft - FD_MARGIN) // FDS_PER_PORT)
    sizes = [min(per_sink, servers - start) for start in range(0, servers, per_sink)]
    procs = [
        subprocess.Popen([*SINK, "sink", str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
        for n in sizes
    ]  # fmt: skip
    ports, controls = [], []
    for proc in procs:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        ports.append(info["ports"])
        controls.append(info["control"])
    return procs, ports, controls


def vm_hwm_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children_cpu_seconds(parent: int) -> dict[int, float]:
    """CPU seconds of each child of ``parent`` (PostgreSQL's backends: of the postmaster)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == parent:
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split()[0])


def machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    idle = int(fields[3]) + int(fields[4])  # idle, iowait
    return (sum(int(f) for f in fields[:8]) - idle) / TICKS


def measure_floor(tmp: Path, ports: list[int], processes: int) -> tuple[float, float]:
    """Seconds for one signature and one keep-alive POST per port, the ports split over
    ``processes`` floor processes started together (the slowest one's time), and the CPU
    seconds they used (their start-up included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [
        subprocess.Popen(
            [*SINK, "floor", json.dumps(ports[i::processes]), str(tmp / "key.pem"),
             str(tmp / "body.json")],
            stdout=subprocess.PIPE, text=True,
        )
        for i in range(processes)
    ]  # fmt: skip
    times = []
    for proc in procs:
        out, _ = proc.communicate(timeout=bench_fanout.TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"floor process exited with {proc.returncode}")
        floor = json.loads(out)
        times.append(float(floor["sign_s"] + floor["post_s"]))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return max(times), cpu


def profile(pid: int, name: str) -> subprocess.Popen[str]:
    """With BENCH_SCALE_PYSPY=<folder>: py-spy records the worker until it exits
    (collapsed stacks, <folder>/<name>-<n>.txt: w<workers>-<worker>-<run>)."""
    folder = Path(PROFILE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name}-{len(list(folder.glob(f'{name}-*')))}.txt"
    argv = [PYSPY, "record", "--pid", str(pid), "-r", "250", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def timed_line(proc: subprocess.Popen[str], expected: str) -> tuple[float, str]:
    line = wait_line(proc, expected)
    return time.perf_counter(), line.strip()


def timed_wait(control: SinkControl, n: int) -> tuple[float, int, int]:
    distinct, total = control.ask(f"WAIT {n}")
    return time.perf_counter(), distinct, total


def run_once(
    config: Path,
    workers: int,
    sinks: list[SinkControl],
    expected: list[int],
    busy: list[int],
    postmaster: int,
) -> dict[str, Any]:
    """Start ``workers`` copub workers and a publisher, publish one post, wait until every
    sink has its expected deliveries; stop them all."""
    logs = [config.with_name(f"worker{i}.log") for i in range(workers)]
    worker_procs = [
        subprocess.Popen(
            [sys.executable, "-m", "actors.cli", "--config", str(config), "worker"],
            cwd=ROOT, stderr=log.open("w"), stdout=subprocess.DEVNULL, text=True,
        )
        for log in logs
    ]  # fmt: skip
    pub = subprocess.Popen(
        [sys.executable, bench_fanout.__file__, "publisher", str(config), "0"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    procs = [pub, *worker_procs]
    try:
        for log in logs:
            wait_for_text(log, "delivering (")
        if PROFILE_DIR:
            procs += [profile(p.pid, f"w{workers}-{i}") for i, p in enumerate(worker_procs)]
        wait_line(pub, "ready")
        for sink in sinks:
            sink.ask("RESET")
        assert pub.stdin is not None
        pids = [p.pid for p in worker_procs] + busy
        cpu_before = [cpu_seconds(pid) for pid in pids], machine_cpu_seconds()
        pg_before = children_cpu_seconds(postmaster)
        start = time.perf_counter()
        pub.stdin.write("go\n")
        pub.stdin.flush()
        with ThreadPoolExecutor(len(sinks) + 1) as pool:
            published = pool.submit(timed_line, pub, "published in")
            waits = [pool.submit(timed_wait, s, n) for s, n in zip(sinks, expected, strict=True)]
            arrived = [w.result() for w in waits]
            committed, published_line = published.result()
        end = max(at for at, _d, _t in arrived)
        peak = [vm_hwm_mb(p.pid) for p in worker_procs]
        cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before[0], strict=True)]
        machine = machine_cpu_seconds() - cpu_before[1]
        pg = sum(t - pg_before.get(pid, 0.0) for pid, t in children_cpu_seconds(postmaster).items())
        pub.stdin.write("stop\n")
        pub.stdin.flush()
        for proc in worker_procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            if proc.args[0] == PYSPY:  # py-spy: exits once its worker has
                proc.wait()
            else:
                reap(proc)
    finally:
        kill_leftovers(procs)
    split = []
    for log in logs:
        found = re.search(r"delivery worker stopped: .*'done': (\d+)", log.read_text())
        split.append(int(found.group(1)) if found else -1)
    return {
        "wall": end - start,
        "deliver": end - committed,
        "publish": published_line.removeprefix("published in "),
        "distinct": sum(d for _a, d, _t in arrived),
        "total": sum(t for _a, _d, t in arrived),
        "rss": peak,
        "split": split,
        "cpu_workers": sum(cpu[:workers]),
        "cpu_sinks": sum(cpu[workers:]),
        "cpu_pg": pg,
        "cpu_other": machine - sum(cpu) - pg,
    }


# -- the report ------------------------------------------------------------------------------


def report(workers: int, runs: list[dict[str, Any]], n: int) -> tuple[float, float, bool]:
    """One line for a worker count; (deliveries/s, floor deliveries/s, ok)."""
    runs = sorted(runs, key=lambda r: r["deliver"])
    mid = runs[len(runs) // 2]
    rate, floor_rate = n / mid["deliver"], n / mid["floor"]
    peak = max(max(r["rss"]) for r in runs)
    complete = all(r["distinct"] == r["total"] == n for r in runs)
    ok = complete and peak < RSS_TARGET_MB
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    print(
        f"scale-pg: {label:9} {rate:6.0f} deliveries/s ({mid['deliver']:5.2f} s from the commit; "
        f"publish {mid['publish']}, {mid['wall']:5.2f} s from go)  floor {floor_rate:6.0f}/s in "
        f"{workers} process{'es' if workers > 1 else ''} ({rate / floor_rate:4.2f}x of it)  "
        f"peak RSS {'/'.join(f'{x:.0f}' for x in mid['rss'])} MB (max {peak:.0f}, "
        f"target < {RSS_TARGET_MB})  [{'ok' if ok else 'MISSED'}]"
    )
    print(
        f"scale-pg:   split {'/'.join(map(str, mid['split']))}; cpu s: workers "
        f"{mid['cpu_workers']:.1f} ({1000 * mid['cpu_workers'] / n:.2f} ms a delivery; the "
        f"floor's {1000 * mid['cpu_floor'] / n:.2f}), sinks {mid['cpu_sinks']:.1f}, PostgreSQL "
        f"{mid['cpu_pg']:.1f}, the rest of the machine (the publisher, loopback TCP, anything "
        f"else running) "
        f"{mid['cpu_other']:.1f}; all runs " + ", ".join(f"{n / r['deliver']:.0f}/s" for r in runs)
    )
    if not complete:
        print(f"scale-pg:   incomplete: sink {[(r['distinct'], r['total']) for r in runs]}")
    return rate, floor_rate, ok


def _alarm(_signum: int, _frame: object) -> None:
    raise TimeoutError(f"the benchmark took longer than {DEADLINE} s")


def main() -> int:
    from tests.pg import PostgresUnavailable, start_cluster

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(DEADLINE)
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="copub-scale-"))
    sink_procs: list[subprocess.Popen[str]] = []
    controls: list[SinkControl] = []
    pg = None
    try:
        try:
            pg = start_cluster()
        except PostgresUnavailable as exc:
            print(f"scale-pg: skipped: {exc}")
            return 0
        url = pg.url_for(pg.create_database("copub_scale"))
        sink_procs, sink_ports, control_ports = start_sinks(SERVERS)
        controls = [SinkControl(port) for port in control_ports]
        ports = [port for group in sink_ports for port in group]
        sink_of = {port: i for i, group in enumerate(sink_ports) for port in group}
        started = time.perf_counter()
        key_pem, inboxes = asyncio.run(seed(url, ports))
        seeded = time.perf_counter() - started
        expected = [0] * len(sink_ports)
        for inbox in inboxes:
            expected[sink_of[int(inbox.split(":")[2].split("/")[0])]] += 1
        n = len(inboxes)
        (tmp / "key.pem").write_text(key_pem)
        body = json.dumps({"type": "Create", "content": bench_fanout.STORY}).encode()
        (tmp / "body.json").write_bytes(body)
        config = tmp / "scale.toml"
        config.write_text(bench_fanout.config_text(url, in_process_worker=False))
        short = "SHORT RUN: " if SHORT else ""
        print(
            f"scale-pg: {short}1 post -> {FOLLOWERS} followers on {SERVERS} loopback servers "
            f"({len(sink_procs)} sink processes; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.1f}) = {n} deliveries "
            f"(copub's follower_inboxes); followers COPied in {seeded:.1f} s; "
            f"median of {REPEAT} runs each"
        )
        runs: dict[int, list[dict[str, Any]]] = {w: [] for w in WORKER_COUNTS}
        busy = [p.pid for p in sink_procs]
        assert pg.basedir is not None  # a cluster of our own: its processes are measured
        postmaster = postmaster_pid(pg.basedir / "data")
        for _ in range(REPEAT):
            for workers in WORKER_COUNTS:
                floor, floor_cpu = measure_floor(tmp, ports, workers)
                run = run_once(config, workers, controls, expected, busy, postmaster)
                run["floor"], run["cpu_floor"] = floor, floor_cpu
                runs[workers].append(run)
        results = {w: report(w, runs[w], n) for w in WORKER_COUNTS}
        (one, floor_one, ok_one), (two, floor_two, ok_two) = results[1], results[2]
        faster = two > one * 1.1
        print(
            f"scale-pg: 2 workers / 1 worker: {two / one:.2f}x deliveries/s (the floor: "
            f"{floor_two / floor_one:.2f}x)  [{'ok' if faster else 'NOT FASTER'}]"
        )
        states = asyncio.run(outcomes(url))
        print(f"scale-pg:   jobs: {states}")
        clean = set(states) == {"done x1"} and states["done x1"] == n * REPEAT * 2
        print(f"scale-pg:   every job delivered once at its first attempt: {clean}")
        return 0 if ok_one and ok_two and clean else 1
    finally:
        signal.alarm(0)
        for control in controls:
            control.close()
        for proc in sink_procs:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(10)
        if pg is not None:
            pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

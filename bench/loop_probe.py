"""Event-loop stall probe for a ``copub serve`` under a benchmark (diagnosis only).

``python bench/loop_probe.py OUT.json -- serve ...`` runs ``copub`` (``actors.cli``) with a
heartbeat on the server's event loop (a callback every millisecond) and a watchdog thread:
while the heartbeat is older than ``LOOP_PROBE_MS`` (default 5) ms, the thread samples the
main thread's stack every millisecond. At exit OUT.json holds each stall's length and its
most sampled stack, and the samples summed by stack (``by_stack``: ms, stalls, worst).
``bench_hostile.py`` runs its server this way when ``BENCH_HOSTILE_PROBE`` names a directory.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import os
import runpy
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = str(Path(__file__).resolve().parent.parent)
THRESHOLD = float(os.environ.get("LOOP_PROBE_MS", "5")) / 1000
DEPTH = 14
IDLE = (" wait", " get", " _worker", " select", " poll", " accept")


def describe(frame: FrameType | None) -> str:
    """The innermost frames, the project's marked with their file; the outermost last."""
    parts: list[str] = []
    while frame is not None and len(parts) < DEPTH:
        code = frame.f_code
        path = code.co_filename
        mine = path.startswith(ROOT) and "/.venv/" not in path
        where = path[len(ROOT) + 1 :] if mine else Path(path).name
        parts.append(f"{'*' if mine else ''}{where}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return " <- ".join(parts)


class Probe:
    def __init__(self, out: str) -> None:
        self.out = out
        self.beat = time.perf_counter()
        self.main = threading.main_thread().ident
        self.stalls: list[dict[str, Any]] = []
        self.started = time.time()
        self.gc_ms = 0.0
        self.gc_began = 0.0
        self.gc_slow: list[tuple[float, int, float]] = []
        self.gets: list[tuple[float, float, float, int, int]] = []
        self.posts: list[tuple[float, float, float, int, int]] = []  # the inbox's, all of them

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        def tick() -> None:
            self.beat = time.perf_counter()
            loop.call_later(0.001, tick)

        tick()
        self.schedstat = f"/proc/self/task/{threading.main_thread().native_id}/schedstat"
        gc.callbacks.append(self.on_gc)
        threading.Thread(target=self.watch, daemon=True, name="loop-probe").start()
        atexit.register(self.write)

    def counters(self) -> tuple[float, float, float]:
        """ms so far: the main thread on a CPU, waiting for one (the kernel's schedstat),
        and in the garbage collector."""
        with open(self.schedstat) as f:
            on_cpu, waiting, _ = f.read().split()
        return int(on_cpu) / 1e6, int(waiting) / 1e6, self.gc_ms

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.gc_began = time.perf_counter()
        else:
            took = (time.perf_counter() - self.gc_began) * 1000
            self.gc_ms += took
            if took > 2:
                self.gc_slow.append((round(time.time() - self.started, 3), info["generation"],
                                     round(took, 1)))  # fmt: skip

    def watch(self) -> None:
        samples: Counter[str] = Counter()
        stalled_since = 0.0
        before = self.counters()
        while True:
            time.sleep(0.001)
            beat = self.beat
            lag = time.perf_counter() - beat
            if lag > THRESHOLD:
                if not samples:
                    stalled_since = beat
                samples[self.sample()] += 1
            elif samples:
                length = (beat - stalled_since) * 1000
                stack = samples.most_common(1)[0][0]
                after = self.counters()
                cpu, queued, gc_ms = (round(a - b, 1) for a, b in zip(after, before, strict=True))
                self.stalls.append(
                    {"at": round(time.time() - self.started, 3), "ms": round(length, 1),
                     "cpu": cpu, "queued": queued, "gc": gc_ms,
                     "samples": sum(samples.values()), "stack": stack,
                     "others": [s for s, _ in samples.most_common(3)[1:]]}
                )  # fmt: skip
                samples = Counter()
                before = after
            else:
                before = self.counters()

    def sample(self) -> str:
        """The main thread's stack; when it runs no Python (uvloop's C code, or waiting for
        the GIL), the innermost frames of the other threads not waiting idle too."""
        frames = sys._current_frames()
        main = describe(frames.get(self.main or 0))
        if not main.startswith("web.py:"):
            return main
        busy = []
        for ident, frame in frames.items():
            if ident in (self.main, threading.get_ident()):
                continue
            stack = describe(frame)
            if not stack.split(" <- ")[0].endswith(IDLE):
                busy.append(" <- ".join(stack.split(" <- ")[:5]))
        return "(loop in C) " + " || ".join(sorted(busy))

    def write(self) -> None:
        by_stack: dict[str, dict[str, float]] = {}
        for stall in self.stalls:
            entry = by_stack.setdefault(stall["stack"], {"ms": 0.0, "stalls": 0, "worst": 0.0})
            entry["ms"] += stall["ms"]
            entry["stalls"] += 1
            entry["worst"] = max(entry["worst"], stall["ms"])
        ranked = dict(sorted(by_stack.items(), key=lambda kv: -kv[1]["ms"]))
        names = {t.native_id: t.name for t in threading.enumerate()}
        threads: dict[str, float] = {}
        for task in Path("/proc/self/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            name = names.get(int(task.name), task.name)
            threads[name] = threads.get(name, 0.0) + (int(fields[11]) + int(fields[12])) * 10.0
        report = {"threads_cpu_ms": threads, "gc_slow": self.gc_slow, "gc_ms": self.gc_ms,
                  "gets": self.gets, "posts": self.posts, "stalls": self.stalls,
                  "by_stack": ranked}  # fmt: skip
        Path(self.out).write_text(json.dumps(report, indent=1))


def main() -> None:
    out, argv = sys.argv[1], sys.argv[3:]  # OUT -- args of copub
    probe = Probe(out)
    from aiohttp import web

    run_app = web.run_app

    import contextvars

    import aiosqlite.core

    spent: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("db", default=None)
    execute = aiosqlite.core.Connection._execute

    async def timed_execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await execute(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            tally = spent.get()
            if tally is not None:
                tally[0] += time.perf_counter() - began
                tally[1] += 1

    aiosqlite.core.Connection._execute = timed_execute  # type: ignore[method-assign]

    @web.middleware
    async def timing(request: web.Request, handler: Any) -> web.StreamResponse:
        timed = probe.gets if request.method == "GET" else probe.posts
        if request.path.count("/") != (2 if request.method == "GET" else 3):
            return await handler(request)  # type: ignore[no-any-return]
        tally = [0.0, 0.0]
        spent.set(tally)
        began = time.perf_counter()
        status = 500
        try:
            response: web.StreamResponse = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Exception as exc:
            status = getattr(exc, "http_status", 500)
            raise
        finally:
            took = (time.perf_counter() - began) * 1000
            timed.append((round(time.time() - probe.started, 3), round(took, 2),
                          round(tally[0] * 1000, 2), int(tally[1]), status))  # fmt: skip

    def probed_run_app(app: web.Application, **kwargs: Any) -> None:
        async def on_startup(_app: web.Application) -> None:
            probe.start(asyncio.get_running_loop())

        app.on_startup.append(on_startup)
        app.middlewares.insert(0, timing)
        run_app(app, **kwargs)

    web.run_app = probed_run_app  # type: ignore[assignment]
    sys.argv = ["copub", *argv]
    sys.path.insert(0, ROOT)
    runpy.run_module("actors.cli", run_name="__main__")


if __name__ == "__main__":
    main()

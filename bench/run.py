"""`make bench`: every benchmark, each printing its numbers next to a floor from the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = [
    "bench_http.py",
    "bench_signatures.py",
    "bench_inbox.py",
    "bench_fanout.py",
    "bench_discourse.py",
    "bench_pages.py",
    "bench_members.py",  # members-only 404s: an existing item's and a missing one's times
    "bench_console.py",
    "bench_links.py",
    "bench_moderation.py",  # a spam wave: BENCH_WAVE_SECONDS (60) of Creates, two runs
    "bench_scale_pg.py",  # 100,000 followers on 10,000 servers, 1 and 2 workers (PostgreSQL)
    "bench_hostile.py",  # last: two runs of BENCH_HOSTILE_SECONDS (10 min each)
]


def main() -> int:
    failed = 0
    for name in BENCHES:
        path = HERE / name
        if not path.exists():
            continue
        print(f"== {name}", flush=True)
        failed |= subprocess.call([sys.executable, str(path)])
    return failed


if __name__ == "__main__":
    sys.exit(main())

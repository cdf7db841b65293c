"""copub as a real process (``python -m actors.cli --config FILE serve``, or another
command such as ``worker``), to SIGKILL it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CopubProcess:
    """One copub process: ``copub serve`` by default, ``start()`` returning once it answers
    HTTP at ``base_url``; with ``ready_text`` (a process with no HTTP, ``args=("worker",)``),
    once its log shows that text."""

    config_file: Path
    base_url: str
    log_file: Path
    args: tuple[str, ...] = ("serve",)
    ready_text: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, timeout: float = 30) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        logged = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "actors.cli", "--config", str(self.config_file), *self.args],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        if self.ready_text is None:
            await self._until_ready(timeout)
        else:
            await self._until_logged(self.ready_text, logged, timeout)

    async def _until_logged(self, text: str, offset: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            with self.log_file.open("rb") as log:
                log.seek(offset)
                if text.encode() in log.read():
                    return
            if self.proc.poll() is not None:
                raise AssertionError(f"copub exited with {self.proc.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"copub did not log {text!r} within {timeout} s:\n{self.log}")
            await asyncio.sleep(0.1)  # polling its log: a process with nothing to ask

    async def _until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(f"copub exited with {self.proc.returncode}:\n{self.log}")
                try:
                    async with session.get(self.base_url + "/actor") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"copub did not answer within {timeout} s:\n{self.log}")
                await asyncio.sleep(0.1)  # polling for the port to open

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace")[-4000:]

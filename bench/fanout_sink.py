"""The parts of the fan-out benchmark with no copub code in them: the sink and the floor.

``sink N [DELAY]``: one process listening on N loopback ports (each a distinct host),
answering every POST with 202 on keep-alive connections (DELAY seconds after it arrived:
slow servers, so that a fan-out lasts a while) and counting deliveries by (port, path, Digest):
an activity sent to a server's shared inbox and to a follower's own inbox counts twice.
It prints its ports and control port as one JSON line. On the control port, a line
``WAIT n`` is answered once n distinct deliveries arrived (``OK distinct total``), ``RESET``
clears the counts, ``DUPLICATES`` answers one JSON line: port -> the most times one delivery
arrived there, for the ports where one arrived more than once (tests/flows/test_fleet.py).

``floor PORTS_JSON KEY_PEM BODY``: the cost of the work itself, measured with nothing but
cryptography and aiohttp: one RSA signature per sink (Digest and a cavage signing string
as copub signs them), then one keep-alive POST to each sink with 64 in flight. Prints
``{"sign_s": ..., "post_s": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import resource
import sys
import time
from email.utils import formatdate

RESPONSE = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n"
CONCURRENCY = 64


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Counts:
    def __init__(self) -> None:
        self.seen: set[tuple[int, bytes, bytes]] = set()
        self.total = 0
        self.repeated: dict[tuple[int, bytes, bytes], int] = {}  # arrivals after the first
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []

    def record(self, port: int, path: bytes, digest: bytes) -> None:
        self.total += 1
        key = (port, path, digest)
        if key in self.seen:
            self.repeated[key] = self.repeated.get(key, 0) + 1
        self.seen.add(key)
        for n, future in self.waiters:
            if len(self.seen) >= n and not future.done():
                future.set_result(None)


class Sink(asyncio.Protocol):
    def __init__(self, counts: Counts, port: int, delay: float = 0.0) -> None:
        self.counts = counts
        self.port = port
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length, digest = 0, b""
            request, *headers = self.buffer[:end].split(b"\r\n")
            path = request.split(b" ")[1] if request.count(b" ") >= 2 else b""
            for line in headers:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"digest":
                    digest = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.counts.record(self.port, path, digest)
            if self.delay:
                asyncio.get_running_loop().call_later(self.delay, self.answer)
            else:
                self.answer()

    def answer(self) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)


async def sink(n: int, delay: float = 0.0) -> None:
    raise_fd_limit()
    loop = asyncio.get_running_loop()
    counts = Counts()
    ports: list[int] = []
    for _ in range(n):
        holder: list[int] = []
        server = await loop.create_server(
            lambda h=holder: Sink(counts, h[0], delay), "127.0.0.1", 0, backlog=256
        )
        holder.append(server.sockets[0].getsockname()[1])
        ports.append(holder[0])

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := (await reader.readline()).decode().split():
            if line[0] == "WAIT":
                future: asyncio.Future[None] = loop.create_future()
                counts.waiters.append((int(line[1]), future))
                if len(counts.seen) >= int(line[1]):
                    future.set_result(None)
                await future
                counts.waiters.remove((int(line[1]), future))
            elif line[0] == "RESET":
                counts.seen.clear()
                counts.repeated.clear()
                counts.total = 0
            elif line[0] == "DUPLICATES":
                most: dict[int, int] = {}
                for (port, _path, _digest), extra in counts.repeated.items():
                    most[port] = max(most.get(port, 0), extra + 1)
                writer.write(json.dumps(most).encode() + b"\n")
                await writer.drain()
                continue
            writer.write(f"OK {len(counts.seen)} {counts.total}\n".encode())
            await writer.drain()
        writer.close()

    control_server = await asyncio.start_server(control, "127.0.0.1", 0)
    control_port = control_server.sockets[0].getsockname()[1]
    print(json.dumps({"ports": ports, "control": control_port}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


async def floor(ports: list[int], key_pem: bytes, body: bytes) -> dict[str, float]:
    import aiohttp
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    raise_fd_limit()
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    start = time.perf_counter()
    requests = []
    for port in ports:
        host = f"127.0.0.1:{port}"
        date = formatdate(usegmt=True)
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        text = (
            f"(request-target): post /inbox\nhost: {host}\ndate: {date}\n"
            f"digest: {digest}\ncontent-type: application/activity+json"
        )
        signature = base64.b64encode(
            key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        ).decode()
        headers = {
            "Date": date,
            "Digest": digest,
            "Content-Type": "application/activity+json",
            "Signature": f'keyId="k",algorithm="rsa-sha256",headers="(request-target) host '
            f'date digest content-type",signature="{signature}"',
        }
        requests.append((f"http://{host}/inbox", headers))
    signed = time.perf_counter()
    semaphore = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def post(url: str, headers: dict[str, str]) -> None:
            async with semaphore, http.post(url, data=body, headers=headers) as response:
                await response.read()
                assert response.status == 202, response.status

        await asyncio.gather(*(post(url, headers) for url, headers in requests))
    return {"sign_s": signed - start, "post_s": time.perf_counter() - signed}


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed, as copub uses it: the floor gets the same event loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main() -> None:
    role = sys.argv[1]
    if role == "sink":
        asyncio.run(sink(int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0))
    elif role == "floor":
        ports = json.loads(sys.argv[2])
        with open(sys.argv[3], "rb") as fh:
            key_pem = fh.read()
        with open(sys.argv[4], "rb") as fh:
            body = fh.read()
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            print(json.dumps(runner.run(floor(ports, key_pem, body))), flush=True)
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()

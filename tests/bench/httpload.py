"""The load generator: a minimal HTTP/1.1 keep-alive client on asyncio streams, run in its
own process so that its CPU use is separate from the measuring process and reported.

httpx spends more CPU per request than the endpoints under test on this 2-core box; this
client writes prebuilt request bytes and parses only the status line and Content-Length.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

# One request: method, path, JSON body (or None).
Request = tuple[str, str, bytes | None]


@dataclass
class LoadResult:
    latencies: list[float]  # seconds, of successful requests
    errors: dict[int, int] = field(default_factory=dict)  # status -> count (0: I/O error)
    wall: float = 0.0
    cpu: float = 0.0  # CPU seconds of the load generator process during the run
    first_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    @property
    def cpu_share(self) -> float:
        """The load generator's CPU use, as a fraction of one core."""
        return self.cpu / self.wall if self.wall else 0.0


class HttpConnection:
    """One keep-alive connection; `request` returns (status, body)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self._head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def encode(self, method: str, path: str, body: bytes | None) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self._head}"
        if body is None:
            return (head + "\r\n").encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        return await self.send(self.encode(method, path, body))

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        reader, writer = await self._open()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding":
                raise RuntimeError("chunked answers are not supported by the bench client")
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None


async def _drive(
    host: str, port: int, headers: dict[str, str], plans: list[list[Request]]
) -> LoadResult:
    result = LoadResult(latencies=[])

    async def lane(plan: list[Request]) -> None:
        conn = HttpConnection(host, port, headers)
        raws = [conn.encode(*r) for r in plan]
        for raw in raws:
            start = time.perf_counter()
            try:
                status, body = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError) as exc:
                status, body = 0, repr(exc).encode()
                await conn.close()
            if 200 <= status < 300:
                result.latencies.append(time.perf_counter() - start)
            else:
                result.errors[status] = result.errors.get(status, 0) + 1
                result.first_error = result.first_error or body[:300].decode(errors="replace")
        await conn.close()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(lane(p) for p in plans))
    result.wall = time.perf_counter() - wall0
    result.cpu = time.process_time() - cpu0
    return result


def _run(host: str, port: int, headers: dict[str, str], plans: list[list[Request]]) -> LoadResult:
    return asyncio.run(_drive(host, port, headers, plans))


class LoadGenerator:
    """A separate process that runs one load at a time: each plan is one connection that
    sends its requests one after the other, so len(plans) is the concurrency."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self.pid = self._pool.submit(os.getpid).result()

    async def run(
        self, base_url: str, plans: list[list[Request]], headers: dict[str, str] | None = None
    ) -> LoadResult:
        host, _, port = base_url.removeprefix("http://").partition(":")
        future = self._pool.submit(_run, host, int(port), headers or {}, plans)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown()

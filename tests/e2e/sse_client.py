"""A small server-sent events client over httpx streaming, for the live events' tests:
frames are parsed as the EventSource standard says (id, event, data, comments)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Frame:
    event: str  # "heartbeat" for a comment line
    id: str | None
    data: dict[str, Any]


class EventStream:
    """GET /events held open in the background; `next()` waits for the next frame."""

    def __init__(self, client: httpx.AsyncClient, last_event_id: str | None = None) -> None:
        self._client = client
        self._headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.frames: asyncio.Queue[Frame | None] = asyncio.Queue()
        self.status = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        headers = {**self._headers, "Accept": "text/event-stream"}
        timeout = httpx.Timeout(10, read=None)
        async with self._client.stream("GET", "/events", headers=headers, timeout=timeout) as resp:
            self.status = resp.status_code
            event, event_id, data = "message", None, []
            async for line in resp.aiter_lines():
                if line.startswith(":"):
                    await self.frames.put(Frame("heartbeat", None, {}))
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    await self.frames.put(Frame(event, event_id, json.loads("\n".join(data))))
                    event, event_id, data = "message", None, []
        await self.frames.put(None)  # the server ended the stream

    async def next(self, timeout: float = 15.0) -> Frame | None:
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def until(self, want: Any, timeout: float = 20.0) -> tuple[Frame, list[Frame]]:
        """Frames up to the first one `want(frame)` accepts: (that frame, all before it)."""
        seen: list[Frame] = []
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.frames.get()
                if frame is None:
                    raise AssertionError(f"the stream ended; saw {[f.event for f in seen]}")
                if want(frame):
                    return frame, seen
                seen.append(frame)

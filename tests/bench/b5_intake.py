"""B5 mail intake: 1,000 messages from new senders over 4 SMTP connections to the stack's
intake (each stored as a lead and a contact before its 250): messages/s, and per message the
time from the end of DATA to the 250 (the lead is then listed: it is stored first) and, for
a sample, to the lead being listed by the REST API; against a bare aiosmtpd server on the
same machine whose handler answers 250 at once."""

from __future__ import annotations

import asyncio
import smtplib
import threading
import time
import uuid
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP

from deploy.local.stack import free_port
from tests.bench.context import Bench, ok, runs
from tests.bench.stats import Figure, Spread, ms, per_run

MESSAGES = 1000
CONNECTIONS = 4
SAMPLE = 40  # messages per run whose listing is timed


def _message(run: str, i: int) -> bytes:
    m = EmailMessage()
    m["From"] = f"Sender {i} <s{i}-{run}@bench.example>"
    m["To"] = "leads@dealflow.example"
    m["Subject"] = f"bench {run} {i}"
    m["Message-ID"] = f"<{run}.{i}@bench.example>"
    m.set_content(f"Request number {i}: 500 pens, please.\n")
    return m.as_bytes()


def _deliver(port: int, messages: list[tuple[int, bytes]], took: dict[int, float]) -> None:
    """One connection: each message's DATA round trip (end of DATA → 250)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo()
        for i, raw in messages:
            smtp.mail(f"s{i}@bench.example")
            smtp.rcpt("leads@dealflow.example")
            smtp.putcmd("data")
            code, _ = smtp.getreply()
            assert code == 354, code
            smtp.send(raw.replace(b"\n", b"\r\n") + b"\r\n.\r\n")
            start = time.perf_counter()  # the end of DATA has left the client
            code, reply = smtp.getreply()
            took[i] = time.perf_counter() - start
            assert code == 250, (code, reply)


async def _send_all(port: int, run: str) -> tuple[float, dict[int, float]]:
    took: dict[int, float] = {}
    per_connection: list[list[tuple[int, bytes]]] = [[] for _ in range(CONNECTIONS)]
    for i in range(MESSAGES):
        per_connection[i % CONNECTIONS].append((i, _message(run, i)))
    started = time.perf_counter()
    await asyncio.gather(
        *(asyncio.to_thread(_deliver, port, batch, took) for batch in per_connection)
    )
    return MESSAGES / (time.perf_counter() - started), took


async def _listed(bench: Bench, funnel_id: int, run: str, i: int) -> float:
    """Seconds from the 250 of message i until GET /leads finds its lead."""
    start = time.perf_counter()
    while True:
        params = {"pipeline_id": funnel_id, "q": f"bench {run} {i}"}
        page = ok(await bench.admin.get("/leads", params=params))
        if page["items"]:
            return time.perf_counter() - start
        await asyncio.sleep(0.005)


class _Bare:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _bare_server() -> tuple[int, threading.Event]:
    """A bare aiosmtpd server in a thread of its own (its own loop, as the intake process
    has), answering every message 250 at once."""
    port, stop, ready = free_port(), threading.Event(), threading.Event()

    def serve() -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            server = await loop.create_server(lambda: SMTP(_Bare()), "127.0.0.1", port)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            server.close()

        asyncio.run(main())

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    return port, stop


async def run(bench: Bench) -> None:
    funnel = ok(
        await bench.admin.post(
            "/pipelines",
            json={"name": "Bench mail", "kind": "lead", "stages": [{"name": "New"}]},
        ),
        201,
    )
    ok(await bench.admin.put("/intake/settings", json={"pipeline_id": funnel["id"]}))
    rates, bare_rates = [], []
    data_end: list[list[float]] = []
    bare_end: list[list[float]] = []
    listed: list[list[float]] = []
    bare_port, stop = _bare_server()
    try:
        for _ in range(runs()):
            tag = uuid.uuid4().hex[:8]
            rate, took = await _send_all(bench.stack.ports.smtp_intake, tag)
            rates.append(rate)
            data_end.append(ms(list(took.values())))
            sample = range(0, MESSAGES, MESSAGES // SAMPLE)
            listed.append(
                ms([await _listed(bench, funnel["id"], tag, i) + took[i] for i in sample])
            )
            bare_rate, bare_took = await _send_all(bare_port, tag)
            bare_rates.append(bare_rate)
            bare_end.append(ms(list(bare_took.values())))
    finally:
        stop.set()
    bench.add(
        Figure(
            "B5",
            f"intake: {MESSAGES} messages over {CONNECTIONS} connections",
            "msg/s",
            Spread.of(rates),
            Spread.of(bare_rates),
            "bare aiosmtpd, 250 at once",
            better="higher",
            note="each stored (lead, contact, timeline) before its 250",
        )
    )
    for q in (50, 99):
        bench.add(
            Figure(
                "B5",
                f"intake end of DATA → 250 (stored) p{q}",
                "ms",
                per_run(data_end, q),
                per_run(bare_end, q),
                "bare aiosmtpd, 250 at once",
            )
        )
        bench.add(Figure("B5", f"intake end of DATA → lead listed p{q}", "ms", per_run(listed, q)))

"""The local stack's catch-all SMTP sink: accepts every message and logs who it is from, who
it is for and its subject (and, at DEBUG, its text), so notifications sent by e-mail under
`make up` can be seen without a real mailbox. Production points NOTIFICATIONS_SMTP_HOST at
a relay instead. `python -m deploy.local.mail_sink` (DEALFLOW_MAIL_SINK_PORT, default 2526)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("mail-sink")


class LoggingHandler:
    """Logs each message it receives, and keeps the last ones (for tests in process)."""

    def __init__(self, keep: int = 100) -> None:
        self.received: list[dict[str, Any]] = []
        self._keep = keep

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(("plain",))
        to = [str(r) for r in envelope.rcpt_tos]
        seen: dict[str, Any] = {
            "from": str(envelope.mail_from),
            "to": to,
            "subject": str(message.get("Subject", "")),
            "text": body.get_content() if body is not None else "",
        }
        self.received = [*self.received[-self._keep + 1 :], seen]
        log.info("mail from %s to %s: %s", seen["from"], ", ".join(to), seen["subject"])
        log.debug("%s", seen["text"])
        return "250 OK"


async def serve(host: str, port: int, handler: LoggingHandler) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, hostname="dealflow-mail-sink"), host=host, port=port
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s %(name)s: %(message)s")
    port = int(os.environ.get("DEALFLOW_MAIL_SINK_PORT", "2526"))
    server = await serve("127.0.0.1", port, LoggingHandler())
    log.info("catching all mail on 127.0.0.1:%d", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())

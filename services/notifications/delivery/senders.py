"""The two ways out: an e-mail over SMTP (a relay in production; the local stack's catch-all
sink under `make up`) and an HTTP POST to a webhook, signed. Each returns an Attempt and
raises nothing: a failure is recorded and retried."""

from __future__ import annotations

import asyncio
import json
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from services.notifications.delivery.addresses import destination_problem
from services.notifications.delivery.signing import HEADER, signature


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None = None  # the HTTP status or SMTP reply code
    error: str = ""

    def as_log(self, at: str) -> dict[str, Any]:
        return {"at": at, "ok": self.ok, "status": self.status, "error": self.error}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str = "dealflow@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, *, to: str, subject: str, text: str) -> Attempt:
        message = EmailMessage()
        message["From"] = self._config.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(text)
        try:
            await asyncio.to_thread(self._send, message)
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            return Attempt(False, exc.smtp_code, text)
        except (OSError, smtplib.SMTPException) as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}")
        return Attempt(True, 250)

    def _send(self, message: EmailMessage) -> None:
        c = self._config
        with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
            if c.starttls:
                smtp.starttls()
            if c.username:
                smtp.login(c.username, c.password)
            smtp.send_message(message)


class WebhookSender:
    def __init__(self, *, allow_private: bool = False, timeout: float = 10.0) -> None:
        self._allow_private = allow_private
        self._timeout = timeout

    async def send(self, *, url: str, secret: str, delivery_id: int, payload: Any) -> Attempt:
        problem = await destination_problem(url, allow_private=self._allow_private)
        if problem is not None:
            return Attempt(False, None, f"refused: the URL {problem}")
        body = json.dumps(payload, default=str, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            HEADER: signature(secret, int(time.time()), body),
            "Dealflow-Delivery": str(delivery_id),
        }
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
                resp = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}")
        if 200 <= resp.status_code < 300:
            return Attempt(True, resp.status_code)
        return Attempt(False, resp.status_code, f"HTTP {resp.status_code}")

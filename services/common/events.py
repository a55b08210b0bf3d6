"""The event envelope (protos/dealflow/events/v1/envelope.proto) as it travels on NATS."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.db import PendingEvent

# One JetStream stream per producing service; subjects are the event types.
STREAMS: dict[str, str] = {
    "DEALS": "deals.>",
    "APPROVALS": "approvals.>",
    "FINANCE": "finance.>",
    "NOTIFICATIONS": "notifications.>",
}


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    type: str
    source: str
    time: datetime
    subject: str
    actor: str
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": str(self.id),
                "type": self.type,
                "source": self.source,
                "time": self.time.isoformat(),
                "subject": self.subject,
                "actor": self.actor,
                "data": self.data,
            },
            default=str,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Envelope:
        body = json.loads(raw)
        return cls(
            id=uuid.UUID(body["id"]),
            type=str(body["type"]),
            source=str(body["source"]),
            time=datetime.fromisoformat(body["time"]),
            subject=str(body["subject"]),
            actor=str(body.get("actor", "")),
            data=dict(body.get("data") or {}),
        )

    @classmethod
    def from_pending(cls, event: PendingEvent, source: str) -> Envelope:
        return cls(event.id, event.type, source, event.time, event.subject, event.actor, event.data)

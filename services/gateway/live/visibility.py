"""Which live event a user may see: the same rules as the lists. Plain rules, no I/O.

- a deal's events: whoever sees the deal as it is after the change (so a manager whose deal
  went to a colleague hears nothing more of it), by `Principal.sees_deal`, the rule deal
  lists filter by;
- a deal's chat messages and files: whoever sees the deal (as last known to the hub);
- a task's events: its assignee and watchers ("tasks for them");
- a notification: the user it is for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.common.events import Envelope
from services.gateway.auth import Principal


@dataclass(frozen=True)
class DealRef:
    """What deciding who sees a deal needs of it."""

    pipeline_id: int
    responsible_id: int

    @classmethod
    def of_summary(cls, deal: dict[str, Any]) -> DealRef:
        return cls(int(deal["pipeline_id"]), int(deal["responsible_id"]))


DealLookup = Callable[[int], DealRef | None]


def deal_id_of(event: Envelope) -> int | None:
    """The deal an event is about (its subject `deal/<id>`), if any."""
    kind, _, raw = event.subject.partition("/")
    return int(raw) if kind == "deal" and raw.isdigit() else None


def deal_ref_in(event: Envelope) -> DealRef | None:
    """The deal as a deal event leaves it (every `deals.deal.*` carries its summary)."""
    deal = event.data.get("deal")
    if event.type.startswith("deals.deal.") and isinstance(deal, dict):
        return DealRef.of_summary(deal)
    return None


def sees(user: Principal, event: Envelope, deal_of: DealLookup) -> bool:
    """Whether the user may see the event."""
    if event.type.startswith("notifications.task."):
        task = event.data.get("task") or {}
        people = {task.get("assignee_id"), *(task.get("watcher_ids") or [])}
        return user.id in {int(p) for p in people if p is not None}
    if event.type.startswith("notifications.notification."):
        return str((event.data.get("notification") or {}).get("user_id")) == str(user.id)
    deal = deal_ref_in(event)
    if deal is None:
        deal_id = deal_id_of(event)
        deal = deal_of(deal_id) if deal_id is not None else None
    if deal is None:
        return False
    return user.sees_deal(pipeline_id=deal.pipeline_id, responsible_id=deal.responsible_id)

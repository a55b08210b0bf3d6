"""Reminder plan events (`deals.reminder_plan.changed`, subject `reminder_plan/<id>`): the
plan was made, changed or stopped, or an activity done on its record restarted a channel's
clock. The worker (workflows/reminder_starts.py) tells the plan's workflow, or starts it."""

from __future__ import annotations

from services.common.db import PendingEvent

PLAN_CHANGED = "deals.reminder_plan.changed"


def plan_changed(plan_id: int, *, reason: str, actor_id: int | None) -> PendingEvent:
    data = {"plan": {"id": str(plan_id)}, "reason": reason}
    actor = "" if actor_id is None else str(actor_id)
    return PendingEvent(PLAN_CHANGED, f"reminder_plan/{plan_id}", data, actor=actor)

"""The run log of automation rules: one row per firing of a rule on a deal or a lead, and
its view.

A run log entry (JSON): {"id", "workflow_id", "deal_id" (a lead's run: "lead_id"),
"rule_id", "rule_version", "rule_name", "event_id", "trigger", "condition": {"result",
"reason"}, "status"
(scheduled | running | done | failed | cancelled | skipped | loop_bound), "reason",
"due_at" (of the rule's delay), "actions": [{"index", "type", "due_at"}] (when each is
due), "steps": [{"index", "type", "status", "detail", "at", ...}], "created_at",
"updated_at"}.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.deals.automation_tables import automation_runs

WAITING = ("scheduled", "waiting_leave")  # a run on a delay, a run whose tasks close on leaving


def run_view(row: sa.Row[Any]) -> dict[str, Any]:
    plan = dict(row.plan)
    record = {"lead_id": str(row.lead_id)} if row.lead_id else {"deal_id": str(row.deal_id)}
    return {
        "id": str(row.id),
        "workflow_id": row.workflow_id,
        **record,
        "rule_id": str(row.rule_id),
        "rule_version": row.rule_version,
        "rule_name": plan.get("rule_name", ""),
        "event_id": row.event_id,
        "trigger": row.trigger,
        "condition": plan.get("condition", {}),
        "status": row.status,
        "reason": row.reason,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "actions": [
            {"index": a["index"], "type": a["type"], "due_at": a.get("due_at")}
            for a in plan.get("actions", [])
        ],
        "steps": list(row.steps),
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


async def run_row(
    conn: AsyncConnection, workflow_id: str, *, for_update: bool = False
) -> sa.Row[Any] | None:
    query = sa.select(automation_runs).where(automation_runs.c.workflow_id == workflow_id)
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def run_rows(conn: AsyncConnection, workflow_ids: list[str]) -> dict[str, sa.Row[Any]]:
    """The runs of those ids that are in the log, by id (one query)."""
    if not workflow_ids:
        return {}
    query = sa.select(automation_runs).where(automation_runs.c.workflow_id.in_(workflow_ids))
    return {row.workflow_id: row for row in (await conn.execute(query)).all()}

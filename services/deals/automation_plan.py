"""Planning a rule's run on a deal or a lead (a record, services/deals/automation_records.py):
the condition's result and reason, the delay's due
time, and each action with its resolved values (assignee, deadline, due time) on the
company calendar. The same plan serves a real run (the workflow waits and acts on it) and
a dry run (answered, nothing stored).

A plan (JSON):
    {"fires": bool, "status": "scheduled" | "skipped" | "loop_bound",
     "reason", "condition": {"result", "reason"}, "due_at": ISO | null,
     "stage_id": the stage the run belongs to (leaving it cancels the run),
     "keep_on_leave": bool, "delay": the rule's delay or null, "rule_id",
     "rule_version", "rule_name",
     "actions": [{"index", "type", "due_at", ...the action, resolved: "assignee_id",
                  "deadline", "error" (why it cannot run, e.g. nobody found)}],
     "recorded": {"status", "steps": [{"index", "status"}]} (planned before: how far)}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.errors import NotFound
from services.deals import org_repository
from services.deals.automation_records import Record, record_values, runs_of
from services.deals.automation_tables import automation_runs
from services.deals.domain.calendar import CompanyCalendar, apply_offset
from services.deals.domain.conditions import evaluate, value_of
from services.deals.domain.lead_actions import resolve_convert
from services.deals.domain.rules import StageRule
from services.deals.org_service import OrgService

LOOP_BOUND = 20  # runs that fired on one deal within LOOP_WINDOW seconds
LOOP_WINDOW = 60


deal_values = record_values  # what conditions, mappings and offsets read of a deal


async def recent_runs(conn: AsyncConnection, record: Record, now: datetime) -> int:
    since = now.timestamp() - LOOP_WINDOW
    query = sa.select(sa.func.count()).where(
        runs_of(record),
        automation_runs.c.fired,
        automation_runs.c.created_at >= sa.func.to_timestamp(since),
    )
    return int((await conn.execute(query)).scalar_one())


async def resolve_assignee(
    conn: AsyncConnection, org: OrgService, spec: dict[str, Any], deal: Record
) -> int:
    """The user an assignee spec names for the deal (or lead); NotFound when there is nobody."""
    kind = spec.get("kind")
    if kind == "responsible":
        return deal.responsible_id
    if kind == "responsible_head":
        return (await org.find_head(user_id=deal.responsible_id)).id
    if kind == "user":
        user = await org_repository.get_user(conn, int(spec["user_id"]))
        if user is None or not user.active:
            raise NotFound(f"user {spec['user_id']} is not an active user")
        return user.id
    if kind == "role":
        department = spec.get("department_id")
        found = await org_repository.find_users(
            conn,
            role=str(spec["role"]),
            department_ids=None if not department else {int(department)},
            include_inactive=False,
            q="",
            before_id=None,
            limit=1000,
        )
        if not found:
            raise NotFound(f"nobody has the role {spec['role']}")
        return min(u.id for u in found)  # the longest-standing holder: stable
    return await _from_list(conn, spec, deal)


async def _from_list(conn: AsyncConnection, spec: dict[str, Any], deal: Record) -> int:
    key = value_of(str(spec["key_field"]), deal_values(deal))
    items = await org_repository.list_items_of(
        conn, str(spec["list_code"]), before_id=None, limit=10_000
    )
    column = spec.get("key_column") or ""
    for item in items:
        candidate = str(item.id) if not column else item.values.get(column)
        if key is not None and str(candidate) == str(key):
            user = item.values.get(str(spec["user_column"]))
            if user not in (None, ""):
                return int(user)
    raise NotFound(f"no row of list {spec['list_code']} matches {spec['key_field']} = {key}")


def date_fields(definition: dict[str, Any]) -> list[str]:
    """The date fields the rule's delays and deadlines count from (a change reschedules)."""
    offsets = [definition.get("delay")] + [
        a.get(key) for a in definition["actions"] for key in ("delay", "deadline")
    ]
    return sorted({str(o["field"]) for o in offsets if isinstance(o, dict) and "field" in o})


async def plan_rule(
    conn: AsyncConnection,
    org: OrgService,
    *,
    rule: StageRule,
    deal: Record,
    calendar: CompanyCalendar,
    now: datetime,
    check_loop: bool = True,
    recent: int | None = None,
) -> dict[str, Any]:
    """The plan of `rule` on `deal` (a deal or a lead) now (see the module's docstring);
    `recent`: the runs fired on the record within the loop window, when counted already."""
    definition = rule.definition
    values = deal_values(deal)
    trigger = definition["trigger"]
    # The run belongs to the stage it entered (the deal may have moved on since), else to
    # the stage the deal is in.
    stage = trigger["stage_id"] if trigger.get("event") == "enter" else deal.stage_id
    base = {
        "date_fields": date_fields(definition),
        "rule_id": str(rule.id),
        "rule_version": rule.version,
        "rule_name": definition.get("name", ""),
        "stage_id": str(stage),
        "keep_on_leave": bool(definition.get("keep_on_leave", False)),
        "delay": definition.get("delay"),  # the rule's own (an action's is in the action)
        "actions": [],
        "due_at": None,
    }
    if recent is None and check_loop:
        recent = await recent_runs(conn, deal, now)
    if check_loop and (recent or 0) >= LOOP_BOUND:
        reason = f"loop bound hit: {LOOP_BOUND} runs on the deal within {LOOP_WINDOW} s"
        condition = {"result": False, "reason": "not evaluated"}
        return {
            **base,
            "fires": False,
            "status": "loop_bound",
            "reason": reason,
            "condition": condition,
        }
    outcome = evaluate(definition.get("condition"), values)
    condition = {"result": outcome.result, "reason": outcome.reason}
    if not outcome.result:
        return {
            **base,
            "fires": False,
            "status": "skipped",
            "reason": outcome.reason,
            "condition": condition,
        }
    return {
        **base,
        **await schedule(conn, org, definition=definition, deal=deal, calendar=calendar, now=now),
        "fires": True,
        "status": "scheduled",
        "reason": outcome.reason,
        "condition": condition,
    }


async def schedule(
    conn: AsyncConnection,
    org: OrgService,
    *,
    definition: dict[str, Any],
    deal: Record,
    calendar: CompanyCalendar,
    now: datetime,
) -> dict[str, Any]:
    """The due times and resolved actions of a firing rule: {"due_at", "actions"}."""
    values = deal_values(deal)

    def field(code: str) -> Any:
        return value_of(code, values)

    due = apply_offset(now, definition.get("delay"), calendar, field)
    actions: list[dict[str, Any]] = []
    at = due
    for index, action in enumerate(definition["actions"]):
        resolved: dict[str, Any] = {**action, "index": index}
        if at is not None:
            at = apply_offset(at, action.get("delay"), calendar, field)
        resolved["due_at"] = at.isoformat() if at is not None else None
        if at is None:
            resolved["error"] = "the date field the delay counts from is empty"
        if "assignee" in action:
            try:
                resolved["assignee_id"] = str(
                    await resolve_assignee(conn, org, action["assignee"], deal)
                )
            except NotFound as exc:
                resolved["error"] = exc.message
        if action.get("type") == "convert_lead":
            resolved.update(resolve_convert(action, values.get("fields") or {}))
        if action.get("deadline") and at is not None:
            deadline = apply_offset(at, action["deadline"], calendar, field)
            resolved["deadline"] = deadline.isoformat() if deadline else None
        actions.append(resolved)
    return {"due_at": due.isoformat() if due is not None else None, "actions": actions}

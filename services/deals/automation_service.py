"""Use cases of rule runs: plan a run (on a deal or a lead) and record it in the run log,
record each action's result, list a deal's (or a lead's) log, dry-run the rules of a
pipeline, keep the company calendar, and create a deal linked to its source.

The run log entry's shape: services/deals/run_log.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.db import UnitOfWork, utcnow
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.deals import deal_links, repository, rules_repository
from services.deals.audit import record
from services.deals.automation_plan import plan_rule, recent_runs, schedule
from services.deals.automation_records import load_record, owner
from services.deals.automation_tables import automation_runs, company_calendar
from services.deals.domain.calendar import CompanyCalendar, calendar_of
from services.deals.domain.deals import Deal
from services.deals.domain.leads import Lead
from services.deals.domain.rules import StageRule, matches
from services.deals.run_log import WAITING, run_rows, run_view
from services.deals.run_log import run_row as _run_row
from services.deals.tables import outbox

if TYPE_CHECKING:
    from services.deals.leads_service import LeadsService
    from services.deals.service import DealsService


async def load_calendar(conn: AsyncConnection) -> tuple[CompanyCalendar, datetime | None]:
    row = (await conn.execute(sa.select(company_calendar))).first()
    if row is None:
        return CompanyCalendar(), None
    return calendar_of(row.definition), row.updated_at


class AutomationService:
    def __init__(self, deals: DealsService, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._deals = deals
        self._engine = deals.engine
        self._now = clock
        self._leads_service: LeadsService | None = None

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    def _leads(self) -> LeadsService:
        """Who sees a lead (the leads' own visibility rules); made on first use, since
        the leads service is built on the deals service this one belongs to."""
        if self._leads_service is None:
            from services.deals.contacts_service import ContactsService
            from services.deals.leads_service import LeadsService

            self._leads_service = LeadsService(ContactsService(self._deals))
        return self._leads_service

    async def plan_run(
        self,
        *,
        workflow_id: str,
        deal_id: int | None,
        rule_id: int,
        rule_version: int,
        event_id: str,
        trigger: str,
        lead_id: int | None = None,
    ) -> dict[str, Any]:
        """Evaluate the rule at the version that fired on the deal (or the lead) and record
        the run (once per workflow id: asked again, the recorded plan, with `recorded`:
        the run's status and its steps' so far)."""
        ask = PlanAsk(workflow_id, rule_id, rule_version, event_id, trigger)
        (plan,) = await self.plan_runs(deal_id=deal_id, lead_id=lead_id, asks=[ask])
        if plan.get("gone"):
            raise NotFound(str(plan["reason"]))
        return plan

    async def plan_runs(
        self, *, deal_id: int | None, lead_id: int | None, asks: list[PlanAsk]
    ) -> list[dict[str, Any]]:
        """plan_run for every rule one event fires on one record, in one transaction (the
        record and the calendar read once, the run log rows written together): a move that
        fires ten rules costs one round trip. A rule gone since (at that version) plans
        `{"fires": false, "gone": true}` and records nothing."""
        async with self._uow() as uow:
            deal = await load_record(uow.conn, deal_id=deal_id, lead_id=lead_id)
            calendar, _ = await load_calendar(uow.conn)
            now = self._now()
            existing = await run_rows(uow.conn, [a.workflow_id for a in asks])
            new = [a for a in asks if a.workflow_id not in existing]
            rules = await _rules_at(uow.conn, [(a.rule_id, a.rule_version) for a in new])
            # The loop bound counts the runs fired before each one, those planned here too.
            recent = await recent_runs(uow.conn, deal, now) if new else 0
            plans: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            for ask in asks:
                row = existing.get(ask.workflow_id)
                if row is not None:  # asked again (a redelivered event, the workflow)
                    plans.append({**dict(row.plan), "recorded": _recorded(row)})
                    continue
                rule = rules.get((ask.rule_id, ask.rule_version))
                if rule is None:
                    reason = f"rule {ask.rule_id} (version {ask.rule_version}) not found"
                    plans.append({"fires": False, "gone": True, "reason": reason})
                    continue
                plan = await plan_rule(
                    uow.conn,
                    self._deals.org,
                    rule=rule,
                    deal=deal,
                    calendar=calendar,
                    now=now,
                    recent=recent,
                )
                recent += bool(plan["fires"])
                plan["workflow_id"] = ask.workflow_id
                due = plan["due_at"]
                rows.append(
                    {
                        "workflow_id": ask.workflow_id,
                        **owner(deal),
                        "rule_id": ask.rule_id,
                        "rule_version": rule.version,
                        "event_id": ask.event_id,
                        "trigger": ask.trigger,
                        "fired": plan["fires"],
                        "reason": plan["reason"],
                        "status": plan["status"],
                        "due_at": datetime.fromisoformat(due) if due else None,
                        "plan": plan,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                plans.append(plan)
            await _record_runs(uow.conn, rows)
            return plans

    async def replan_run(self, *, workflow_id: str) -> dict[str, Any]:
        """The run's due times again from the deal as it is now (a date field changed)."""
        async with self._uow() as uow:
            row = await _run_row(uow.conn, workflow_id, for_update=True)
            if row is None:
                raise NotFound(f"no automation run {workflow_id}")
            rule = await _rule_at(uow.conn, row.rule_id, row.rule_version)
            deal = await load_record(uow.conn, deal_id=row.deal_id, lead_id=row.lead_id)
            calendar, _ = await load_calendar(uow.conn)
            timing = await schedule(
                uow.conn,
                self._deals.org,
                definition=rule.definition,
                deal=deal,
                calendar=calendar,
                now=row.created_at,
            )
            plan = {**dict(row.plan), **timing}
            due = plan["due_at"]
            await uow.conn.execute(
                automation_runs.update()
                .where(automation_runs.c.id == row.id)
                .values(
                    plan=plan,
                    due_at=datetime.fromisoformat(due) if due else None,
                    updated_at=self._now(),
                )
            )
            return plan

    async def record_step(
        self,
        *,
        workflow_id: str,
        index: int,
        status: str,
        detail: str,
        run_status: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Record an action's result (index ≥ 0; a retry of the same step replaces it) and
        the run's new status."""
        async with self._uow() as uow:
            row = await _run_row(uow.conn, workflow_id, for_update=True)
            if row is None:
                raise NotFound(f"no automation run {workflow_id}")
            now = self._now()
            steps = [s for s in row.steps if not (index >= 0 and s.get("index") == index)]
            if index >= 0:
                actions = dict(row.plan).get("actions", [])
                kind = actions[index]["type"] if index < len(actions) else ""
                step = {"index": index, "type": kind, "status": status, "detail": detail}
                steps.append({**step, **data, "at": now.isoformat()})
                steps.sort(key=lambda s: int(s["index"]))
            values: dict[str, Any] = {"steps": steps, "updated_at": now}
            if run_status:
                values["status"] = run_status
                if index < 0 and detail:
                    values["reason"] = detail
            stored = (
                await uow.conn.execute(
                    automation_runs.update()
                    .where(automation_runs.c.id == row.id)
                    .values(**values)
                    .returning(*automation_runs.c)
                )
            ).one()
            return run_view(stored)

    async def list_runs(
        self,
        *,
        actor_id: int | None,
        deal_id: int | None,
        limit: int,
        lead_id: int | None = None,
        waiting_only: bool = False,
    ) -> list[dict[str, Any]]:
        """The deal's (or the lead's) run log, newest first; whoever sees the deal (the
        lead) sees its log. `waiting_only`: the runs a move or a change is told about (a
        deal's every stage change asks, so it does not read the whole log)."""
        async with self._engine.connect() as conn:
            if lead_id is not None:
                await self._leads().visible_lead(conn, actor_id, lead_id)
                mine = automation_runs.c.lead_id == lead_id
            else:
                await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id or 0)
                mine = automation_runs.c.deal_id == deal_id
            if waiting_only:
                mine = sa.and_(mine, automation_runs.c.status.in_(WAITING))
            query = (
                sa.select(automation_runs)
                .where(mine)
                .order_by(automation_runs.c.id.desc())
                .limit(limit)
            )
            return [run_view(r) for r in (await conn.execute(query)).all()]

    async def dry_run(
        self,
        *,
        actor_id: int | None,
        pipeline_id: int,
        deal_id: int | None,
        trigger: Mapping[str, Any],
        lead_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Which active rules of the pipeline (or lead funnel) the trigger fires on the deal
        (the lead), with each condition's result and the resolved actions. Stores nothing.
        The record must be on that pipeline: a rule of another one never fires on it."""
        async with self._engine.connect() as conn:
            record: Deal | Lead
            if lead_id is not None:
                record = await self._leads().visible_lead(conn, actor_id, lead_id)
            else:
                record = await self._deals.get_deal(actor_id=actor_id, deal_id=deal_id or 0)
            if record.pipeline_id != pipeline_id:
                kind = "lead_id" if lead_id is not None else "deal_id"
                raise ValidationFailed(
                    FieldProblem(kind, f"is on pipeline {record.pipeline_id}, not {pipeline_id}")
                )
            rules = await self._deals.rules.list_rules(pipeline_id=pipeline_id, active_only=True)
            calendar, _ = await load_calendar(conn)
            now = self._now()
            answers = []
            for rule in rules:
                if matches(rule.trigger, trigger):
                    plan = await plan_rule(
                        conn, self._deals.org, rule=rule, deal=record, calendar=calendar, now=now
                    )
                    answers.append(plan)
            return answers

    async def get_calendar(self) -> tuple[dict[str, Any], datetime | None]:
        async with self._engine.connect() as conn:
            calendar, updated_at = await load_calendar(conn)
        return calendar.view(), updated_at

    async def put_calendar(
        self, *, raw: Mapping[str, Any], actor_id: int | None
    ) -> tuple[dict[str, Any], datetime]:
        """Replace the company calendar (checked; audited)."""
        view = calendar_of(raw).view()
        now = self._now()
        async with self._uow() as uow:
            before, _ = await load_calendar(uow.conn)
            await uow.conn.execute(
                insert(company_calendar)
                .values(id=1, definition=view, updated_at=now)
                .on_conflict_do_update(
                    index_elements=[company_calendar.c.id],
                    set_={"definition": view, "updated_at": now},
                )
            )
            await record(
                uow.conn,
                at=now,
                actor_id=actor_id,
                action="calendar.update",
                subject=("calendar", 1),
                before=before.view(),
                after=view,
            )
        return view, now

    async def create_linked_deal(
        self,
        *,
        idempotency_key: str,
        source_deal_id: int,
        pipeline_id: int,
        stage_id: int | None,
        title: str,
        mapping: Mapping[str, str],
    ) -> tuple[int, bool]:
        """A deal in `pipeline_id` whose fields are copied from the source by `mapping`
        (target code -> source code), linked both ways; a retry with the key finds it."""
        async with self._uow() as uow:
            return await deal_links.create_linked(
                uow,
                self._deals,
                now=self._now(),
                idempotency_key=idempotency_key,
                source=await _deal(uow.conn, source_deal_id),
                pipeline_id=pipeline_id,
                stage_id=stage_id,
                title=title,
                mapping=mapping,
            )

    async def links_of(self, deal_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
        """Each deal's links (linked deal id, relation), oldest first."""
        async with self._engine.connect() as conn:
            return await deal_links.links_of(conn, deal_ids)

    async def versions(self, *, pipeline_id: int, rule_id: int) -> list[sa.Row[Any]]:
        return await self._deals.rules.versions(pipeline_id=pipeline_id, rule_id=rule_id)


@dataclass(frozen=True)
class PlanAsk:
    """One rule an event fires: the run's id and why it fires."""

    workflow_id: str
    rule_id: int
    rule_version: int
    event_id: str
    trigger: str


def _recorded(row: sa.Row[Any]) -> dict[str, Any]:
    """How far a run planned before has come: its status and each step's."""
    steps = [{"index": s.get("index"), "status": s.get("status")} for s in row.steps]
    return {"status": row.status, "steps": steps}


_RECORD_RUNS = insert(automation_runs).on_conflict_do_nothing(
    index_elements=[automation_runs.c.workflow_id]
)


async def _record_runs(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """The rows in one statement (executemany: compiled once, not per number of rows)."""
    if rows:
        await conn.execute(_RECORD_RUNS, rows)


async def _rules_at(
    conn: AsyncConnection, asked: list[tuple[int, int]]
) -> dict[tuple[int, int], StageRule]:
    """The rules at the versions asked (version 0: as it is now); those gone are missing."""
    found = await rules_repository.versions_of(conn, [(r, v) for r, v in asked if v])
    for rule_id, _ in [(r, v) for r, v in asked if not v]:
        rule = await rules_repository.rule_by_id(conn, rule_id)
        if rule is not None:
            found[(rule_id, 0)] = rule
    return found


async def _rule_at(conn: AsyncConnection, rule_id: int, version: int) -> StageRule:
    rule = (
        await rules_repository.version_of(conn, rule_id, version)
        if version
        else await rules_repository.rule_by_id(conn, rule_id)
    )
    if rule is None:
        raise NotFound(f"rule {rule_id} (version {version}) not found")
    return rule


async def _deal(conn: AsyncConnection, deal_id: int) -> Deal:
    deal = await repository.get_deal(conn, deal_id)
    if deal is None:
        raise NotFound(f"deal {deal_id} not found")
    return deal

"""Approval requests: written by the chain workflow (calls without an actor), read by the
people who may (the initiator, those asked to decide, and whoever sees the initiator's
records). Templates: templates_service.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.approvals import repository
from services.approvals.domain.requests import (
    ApprovalRequest,
    Assignment,
    Decision,
    RequestStatus,
)
from services.approvals.tables import assignments, decisions, outbox, requests, rounds
from services.approvals.templates_service import TemplatesService
from services.common.access import Access
from services.common.db import PendingEvent, UnitOfWork, utcnow
from services.common.errors import FieldProblem, NotFound, PermissionDenied, ValidationFailed
from services.common.pagination import Page, decode_cursor

Resolve = Callable[[int], Awaitable[Access]]


class ApprovalsService:
    def __init__(self, engine: AsyncEngine, *, access: Resolve | None = None) -> None:
        self._engine = engine
        self._access = access
        self.templates = TemplatesService(engine, access=self.access_of)

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, outbox)

    async def access_of(self, actor_id: int) -> Access:
        if self._access is None:
            raise PermissionDenied("access cannot be checked: no access resolver configured")
        return await self._access(actor_id)

    # ---- requests: the chain workflow's writes ----
    async def open_request(
        self,
        *,
        actor_id: int | None,
        deal_id: int,
        template_code: str,
        workflow_id: str,
        initiator_id: int | None,
        title: str,
        contract_id: int | None,
    ) -> ApprovalRequest:
        """The request of one chain run; a retry with the same workflow id returns it."""
        _internal(actor_id)
        if not workflow_id:
            raise ValidationFailed(FieldProblem("workflow_id", "is required"))
        now = utcnow()
        async with self._uow() as uow:
            stmt = (
                insert(requests)
                .values(
                    deal_id=deal_id,
                    template_code=template_code,
                    workflow_id=workflow_id,
                    initiator_id=initiator_id,
                    title=title,
                    contract_id=contract_id,
                    status=RequestStatus.IN_PROGRESS.value,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=[requests.c.workflow_id])
            )
            await uow.conn.execute(stmt)
            request = await repository.request_by_workflow(uow.conn, workflow_id)
            assert request is not None
            return request

    async def start_round(self, *, actor_id: int | None, request_id: int, number: int) -> None:
        """A new round of the chain; starting it again changes nothing."""
        _internal(actor_id)
        now = utcnow()
        async with self._uow() as uow:
            await _found(uow, request_id)
            await uow.conn.execute(
                insert(rounds)
                .values(request_id=request_id, number=number, status="in_progress", started_at=now)
                .on_conflict_do_nothing()
            )
            await uow.conn.execute(
                requests.update()
                .where(requests.c.id == request_id, requests.c.current_round <= number)
                .values(
                    current_round=number, status=RequestStatus.IN_PROGRESS.value, updated_at=now
                )
            )

    async def assign_step(
        self, *, actor_id: int | None, request_id: int, items: Sequence[Assignment]
    ) -> None:
        """Record who decides a step (and their stand-ins, tasks, deadlines), or update it."""
        _internal(actor_id)
        async with self._uow() as uow:
            await _found(uow, request_id)
            for a in items:
                values = {
                    "step_index": a.step_index,
                    "stand_in_id": a.stand_in_id,
                    "task_id": a.task_id,
                    "status": a.status,
                    "due_at": a.due_at,
                }
                stmt = insert(assignments).values(
                    request_id=request_id,
                    round=a.round,
                    step_code=a.step_code,
                    approver_id=a.approver_id,
                    **values,
                )
                stmt = stmt.on_conflict_do_update(
                    index_elements=[
                        assignments.c.request_id,
                        assignments.c.round,
                        assignments.c.step_code,
                        assignments.c.approver_id,
                    ],
                    set_=values,
                    where=assignments.c.status == "open",  # a decided step stays decided
                )
                await uow.conn.execute(stmt)
            if items:
                await uow.conn.execute(
                    requests.update()
                    .where(requests.c.id == request_id)
                    .values(current_step=items[-1].step_code, updated_at=utcnow())
                )

    async def record_decision(
        self, *, actor_id: int | None, decision: Decision, task_id: str, idempotency_key: str
    ) -> Decision:
        """Keep one decision (a retry with the same key returns the first) and tell others."""
        _internal(actor_id)
        if not idempotency_key:
            raise ValidationFailed(FieldProblem("idempotency_key", "is required"))
        async with self._uow() as uow:
            request = await _found(uow, decision.request_id)
            existing = (
                await uow.conn.execute(
                    sa.select(decisions.c.id).where(decisions.c.idempotency_key == idempotency_key)
                )
            ).first()
            if existing is not None:
                decision.id = existing.id
                return decision
            decision.deal_id = request.deal_id
            decision.id = (
                await uow.conn.execute(
                    decisions.insert()
                    .values(
                        request_id=decision.request_id,
                        deal_id=request.deal_id,
                        round=decision.round,
                        step_code=decision.step_code,
                        approver_id=decision.approver_id,
                        actor_id=decision.actor_id,
                        outcome=decision.outcome,
                        comment=decision.comment,
                        fields_before=decision.fields_before,
                        fields_after=decision.fields_after,
                        file_ids=decision.file_ids,
                        task_id=task_id,
                        decided_at=decision.decided_at,
                        idempotency_key=idempotency_key,
                    )
                    .returning(decisions.c.id)
                )
            ).scalar_one()
            if decision.approver_id is not None:
                await uow.conn.execute(
                    assignments.update()
                    .where(
                        assignments.c.request_id == decision.request_id,
                        assignments.c.round == decision.round,
                        assignments.c.step_code == decision.step_code,
                        assignments.c.approver_id == decision.approver_id,
                    )
                    .values(status="decided")
                )
            uow.emit(
                PendingEvent(
                    type="approvals.decision.recorded",
                    subject=f"deal/{request.deal_id}",
                    actor=str(decision.actor_id or ""),
                    data={
                        "request_id": str(request.id),
                        "deal_id": str(request.deal_id),
                        "template_code": request.template_code,
                        "decision_id": str(decision.id),
                        "round": decision.round,
                        "step": decision.step_code,
                        "approver_id": str(decision.approver_id or ""),
                        "outcome": decision.outcome,
                        "comment": decision.comment,
                        "before": decision.fields_before,
                        "after": decision.fields_after,
                        "file_ids": decision.file_ids,
                    },
                )
            )
            return decision

    async def close_round(
        self,
        *,
        actor_id: int | None,
        request_id: int,
        number: int,
        round_status: str,
        request_status: str,
    ) -> None:
        """End a round (approved or rejected) and set the request's status."""
        _internal(actor_id)
        if round_status not in ("approved", "rejected"):
            raise ValidationFailed(FieldProblem("round_status", "must be approved or rejected"))
        if request_status not in {s.value for s in RequestStatus}:
            raise ValidationFailed(FieldProblem("request_status", "is not a request status"))
        now = utcnow()
        async with self._uow() as uow:
            request = await _found(uow, request_id)
            if request.status == request_status and request.current_round == number:
                return
            await uow.conn.execute(
                rounds.update()
                .where(rounds.c.request_id == request_id, rounds.c.number == number)
                .values(status=round_status, closed_at=now)
            )
            await uow.conn.execute(
                assignments.update()
                .where(assignments.c.request_id == request_id, assignments.c.status == "open")
                .values(status="cancelled")
            )
            await uow.conn.execute(
                requests.update()
                .where(requests.c.id == request_id)
                .values(status=request_status, current_step="", updated_at=now)
            )
            kind = "approved" if round_status == "approved" else "rejected"
            uow.emit(
                PendingEvent(
                    type=f"approvals.request.{kind}",
                    subject=f"deal/{request.deal_id}",
                    data={
                        "request_id": str(request_id),
                        "deal_id": str(request.deal_id),
                        "template_code": request.template_code,
                        "round": number,
                        "status": request_status,
                    },
                )
            )

    # ---- requests: reads ----
    async def get_request(self, *, actor_id: int | None, request_id: int) -> ApprovalRequest:
        """A request with every round and decision; NotFound for those who may not see it."""
        async with self._engine.connect() as conn:
            request = await repository.get_request(conn, request_id)
        if request is None:
            raise NotFound(f"approval request {request_id} not found")
        if actor_id is not None and not request.involves(actor_id):
            (await self.access_of(actor_id)).require_visible(
                request.initiator_id, "approval request"
            )
        return request

    async def list_requests(
        self,
        *,
        actor_id: int | None,
        deal_id: int | None,
        assignee_id: int | None = None,
        status: str = "",
        cursor: str = "",
        limit: int = 50,
    ) -> Page[ApprovalRequest]:
        """Requests newest first, of a deal or waiting for someone, that the actor may see."""
        visible = None
        if actor_id is not None:
            scope = (await self.access_of(actor_id)).scope
            if not scope.everyone:
                visible = sa.or_(
                    requests.c.initiator_id.in_(sorted(scope.user_ids)),
                    repository.involving(actor_id),
                )
        async with self._engine.connect() as conn:
            rows = await repository.list_requests(
                conn,
                deal_id=deal_id,
                status=status,
                assignee_id=assignee_id,
                visible=visible,
                before_id=decode_cursor(cursor) if cursor else None,
                limit=limit + 1,
            )
        return Page.of(rows, limit, key=lambda r: r.id)


def _internal(actor_id: int | None) -> None:
    if actor_id is not None:
        raise PermissionDenied("only the approval chain records this")


async def _found(uow: UnitOfWork, request_id: int) -> ApprovalRequest:
    request = await repository.get_request(uow.conn, request_id, for_update=True, full=False)
    if request is None:
        raise NotFound(f"approval request {request_id} not found")
    return request

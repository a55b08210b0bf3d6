"""Queries of the approvals schema: templates and requests (contracts: contracts_repository)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.approvals.domain.requests import (
    ApprovalRequest,
    Assignment,
    Decision,
    Round,
)
from services.approvals.tables import assignments, decisions, requests, rounds, templates


async def get_template_row(conn: AsyncConnection, code: str) -> Any:
    return (await conn.execute(sa.select(templates).where(templates.c.code == code))).first()


async def list_template_rows(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(sa.select(templates).order_by(templates.c.code))).all())


def _request(row: Any) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        deal_id=row.deal_id,
        template_code=row.template_code,
        status=row.status,
        workflow_id=row.workflow_id or "",
        initiator_id=row.initiator_id,
        title=row.title,
        current_round=row.current_round,
        current_step=row.current_step,
        created_at=row.created_at,
        updated_at=row.updated_at,
        contract_id=row.contract_id,
    )


def _assignment(row: Any) -> Assignment:
    return Assignment(
        round=row.round,
        step_code=row.step_code,
        step_index=row.step_index,
        approver_id=row.approver_id,
        stand_in_id=row.stand_in_id,
        task_id=row.task_id,
        status=row.status,
        due_at=row.due_at,
    )


def _decision(row: Any) -> Decision:
    return Decision(
        id=row.id,
        request_id=row.request_id,
        deal_id=row.deal_id,
        round=row.round,
        step_code=row.step_code,
        approver_id=row.approver_id,
        actor_id=row.actor_id,
        outcome=row.outcome,
        comment=row.comment,
        fields_before=dict(row.fields_before),
        fields_after=dict(row.fields_after),
        file_ids=[str(f) for f in row.file_ids],
        decided_at=row.decided_at,
    )


async def get_request(
    conn: AsyncConnection, request_id: int, *, for_update: bool = False, full: bool = True
) -> ApprovalRequest | None:
    query = sa.select(requests).where(requests.c.id == request_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    request = _request(row)
    await _with_assignments(conn, [request])
    if full:
        await _with_rounds(conn, request)
    return request


async def request_by_workflow(conn: AsyncConnection, workflow_id: str) -> ApprovalRequest | None:
    row = (
        await conn.execute(sa.select(requests.c.id).where(requests.c.workflow_id == workflow_id))
    ).first()
    return None if row is None else await get_request(conn, row.id, full=False)


async def _with_assignments(conn: AsyncConnection, items: list[ApprovalRequest]) -> None:
    if not items:
        return
    by_id = {r.id: r for r in items}
    query = (
        sa.select(assignments)
        .where(assignments.c.request_id.in_(by_id), assignments.c.status == "open")
        .order_by(assignments.c.step_index, assignments.c.approver_id)
    )
    for row in (await conn.execute(query)).all():
        by_id[row.request_id].open_assignments.append(_assignment(row))


async def _with_rounds(conn: AsyncConnection, request: ApprovalRequest) -> None:
    query = sa.select(rounds).where(rounds.c.request_id == request.id).order_by(rounds.c.number)
    by_number = {
        row.number: Round(row.number, row.status, row.started_at, row.closed_at)
        for row in (await conn.execute(query)).all()
    }
    query = (
        sa.select(decisions).where(decisions.c.request_id == request.id).order_by(decisions.c.id)
    )
    for row in (await conn.execute(query)).all():
        number = by_number.get(row.round)
        if number is not None:
            number.decisions.append(_decision(row))
    request.rounds = list(by_number.values())


async def list_requests(
    conn: AsyncConnection,
    *,
    deal_id: int | None,
    status: str,
    assignee_id: int | None,
    visible: sa.ColumnElement[bool] | None,
    before_id: int | None,
    limit: int,
) -> list[ApprovalRequest]:
    query = sa.select(requests).order_by(requests.c.id.desc()).limit(limit)
    if deal_id is not None:
        query = query.where(requests.c.deal_id == deal_id)
    if status:
        query = query.where(requests.c.status == status)
    if assignee_id is not None:
        mine = sa.select(assignments.c.request_id).where(
            assignments.c.status == "open",
            sa.or_(
                assignments.c.approver_id == assignee_id,
                assignments.c.stand_in_id == assignee_id,
            ),
        )
        query = query.where(requests.c.id.in_(mine))
    if visible is not None:
        query = query.where(visible)
    if before_id is not None:
        query = query.where(requests.c.id < before_id)
    items = [_request(row) for row in (await conn.execute(query)).all()]
    await _with_assignments(conn, items)
    return items


def involving(user_id: int) -> sa.ColumnElement[bool]:
    """Requests the user started or was asked to decide."""
    asked = sa.select(assignments.c.request_id).where(
        sa.or_(assignments.c.approver_id == user_id, assignments.c.stand_in_id == user_id)
    )
    return sa.or_(requests.c.initiator_id == user_id, requests.c.id.in_(asked))

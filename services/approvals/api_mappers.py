"""Domain <-> proto of the approvals service."""

from __future__ import annotations

from dealflow.approvals.v1 import approvals_pb2 as pb

from process_rules.approval_templates import ChainTemplate, template_definition
from services.approvals.domain.contracts import Contract
from services.approvals.domain.requests import ApprovalRequest, Assignment, Decision
from services.common.protoconv import to_struct, to_timestamp


def _s(value: object | None) -> str:
    return "" if value is None else str(value)


def template_pb(template: ChainTemplate) -> pb.Template:
    return pb.Template(
        code=template.code,
        name=template.name,
        definition=to_struct(template_definition(template)),
        version=template.version,
    )


def assignment_pb(a: Assignment) -> pb.Assignment:
    return pb.Assignment(
        round=a.round,
        step_code=a.step_code,
        step_index=a.step_index,
        approver_id=_s(a.approver_id),
        stand_in_id=_s(a.stand_in_id),
        task_id=a.task_id,
        status=a.status,
        due_at=to_timestamp(a.due_at),
    )


def decision_pb(d: Decision) -> pb.Decision:
    return pb.Decision(
        id=_s(d.id),
        request_id=_s(d.request_id),
        deal_id=_s(d.deal_id),
        round=d.round,
        step_code=d.step_code,
        approver_id=_s(d.approver_id),
        actor_id=_s(d.actor_id),
        outcome=d.outcome,
        comment=d.comment,
        fields_before=to_struct(d.fields_before),
        fields_after=to_struct(d.fields_after),
        file_ids=d.file_ids,
        decided_at=to_timestamp(d.decided_at),
    )


def request_pb(r: ApprovalRequest) -> pb.ApprovalRequest:
    return pb.ApprovalRequest(
        id=_s(r.id),
        deal_id=_s(r.deal_id),
        template_code=r.template_code,
        status=r.status,
        workflow_id=r.workflow_id,
        initiator_id=_s(r.initiator_id),
        title=r.title,
        current_round=r.current_round,
        current_step=r.current_step,
        created_at=to_timestamp(r.created_at),
        updated_at=to_timestamp(r.updated_at),
        contract_id=_s(r.contract_id),
        open_assignments=[assignment_pb(a) for a in r.open_assignments],
        rounds=[
            pb.Round(
                number=rnd.number,
                status=rnd.status,
                started_at=to_timestamp(rnd.started_at),
                closed_at=to_timestamp(rnd.closed_at),
                decisions=[decision_pb(d) for d in rnd.decisions],
            )
            for rnd in r.rounds
        ],
    )


def contract_pb(c: Contract) -> pb.Contract:
    return pb.Contract(
        id=_s(c.id),
        deal_id=_s(c.deal_id),
        type_code=c.type_code,
        counterparty_kind=c.counterparty_kind,
        counterparty_name=c.counterparty_name,
        title=c.title,
        number=c.number,
        amount="" if c.amount is None else format(c.amount, "f"),
        currency=c.currency,
        starts_on=c.starts_on.isoformat() if c.starts_on else "",
        ends_on=c.ends_on.isoformat() if c.ends_on else "",
        status=c.status,
        manager_id=_s(c.manager_id),
        request_id=_s(c.request_id),
        created_at=to_timestamp(c.created_at),
        updated_at=to_timestamp(c.updated_at),
        documents=[
            pb.ContractDocument(
                id=_s(d.id),
                version=d.version,
                file_id=_s(d.file_id),
                kind=d.kind,
                uploaded_by=_s(d.uploaded_by),
                created_at=to_timestamp(d.created_at),
            )
            for d in c.documents
        ],
    )

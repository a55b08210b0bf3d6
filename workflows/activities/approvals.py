"""Activities of the approval chain: templates, requests and decisions in the approvals
service; approvers, stages and files in the deals service; contracts in the registry.
Domain errors become non-retryable ApplicationErrors (see services.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dealflow.approvals.v1 import approvals_pb2 as apb
from dealflow.approvals.v1 import approvals_pb2_grpc
from dealflow.deals.v1 import deals_pb2, deals_pb2_grpc, files_pb2, files_pb2_grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from process_rules.approval_templates import ApproverKind, ApproverRule, ChainTemplate
from process_rules.approval_templates import parse_template as _parse
from services.common.protoconv import from_struct, to_struct, to_timestamp
from workflows.activities.approval_types import (
    AddContractDocumentInput,
    Approver,
    AssignStepInput,
    AttachFilesInput,
    CheckFilesInput,
    CloseRoundInput,
    ContractInfo,
    DealRefInput,
    DecisionRef,
    FieldSpec,
    GetContractInput,
    GetTemplateInput,
    MoveDealInput,
    OpenRequestInput,
    PipelineLayout,
    RecordDecisionInput,
    RequestRef,
    ResolveApproversInput,
    RoundInput,
    SetContractStatusInput,
    StageSpec,
)
from workflows.activities.services import _call


class ApprovalActivities:
    """Activities over the approvals, deals and files gRPC stubs."""

    def __init__(
        self,
        approvals: approvals_pb2_grpc.ApprovalsServiceStub,
        deals: deals_pb2_grpc.DealsServiceStub,
        files: files_pb2_grpc.FilesServiceStub,
    ) -> None:
        self._approvals = approvals
        self._deals = deals
        self._files = files

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.get_approval_template,
            self.get_pipeline_layout,
            self.resolve_approvers,
            self.previous_stage,
            self.move_deal,
            self.check_files,
            self.attach_files,
            self.open_request,
            self.start_round,
            self.assign_step,
            self.record_decision,
            self.close_round,
            self.get_contract,
            self.set_contract_status,
            self.add_contract_document,
        ]

    # ---- templates and the deal's layout ----
    @activity.defn(name="get_approval_template")
    async def get_approval_template(self, inp: GetTemplateInput) -> ChainTemplate:
        t = await _call(self._approvals.GetTemplate, apb.GetTemplateRequest(code=inp.code))
        template = _parse(t.code, t.name, from_struct(t.definition))
        template.version = t.version
        return template

    @activity.defn(name="get_pipeline_layout")
    async def get_pipeline_layout(self, inp: DealRefInput) -> PipelineLayout:
        deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
        p = await _call(self._deals.GetPipeline, deals_pb2.GetPipelineRequest(id=deal.pipeline_id))
        return PipelineLayout(
            id=p.id,
            fields=[FieldSpec(f.code, f.type, list(f.options)) for f in p.fields],
            stages=[StageSpec(s.id, s.name, s.semantic) for s in p.stages],
        )

    @activity.defn(name="previous_stage")
    async def previous_stage(self, inp: DealRefInput) -> str:
        """The stage the deal was in before its current one ("" if none)."""
        history = await _call(
            self._deals.GetStageHistory, deals_pb2.GetStageHistoryRequest(deal_id=inp.deal_id)
        )
        visits = list(history.visits)
        return visits[-2].stage_id if len(visits) >= 2 else ""

    @activity.defn(name="resolve_approvers")
    async def resolve_approvers(self, inp: ResolveApproversInput) -> list[Approver]:
        """The people a step's rules name, each with their stand-in while absent."""
        ids: list[str] = []
        for rule in inp.rules:
            for user_id in await self._rule_users(rule, inp):
                if user_id not in ids:
                    ids.append(user_id)
        if not ids:
            raise ApplicationError(
                "nobody fits the step's approver rules", type="NoApprover", non_retryable=True
            )
        approvers = []
        for user_id in ids:
            user = await _call(self._deals.GetUser, deals_pb2.GetUserRequest(id=user_id))
            stand_in = await _call(
                self._deals.FindStandIn, deals_pb2.FindStandInRequest(user_id=user_id)
            )
            approvers.append(
                Approver(user.id, user.name, stand_in.id if stand_in.id != user.id else "")
            )
        return approvers

    async def _rule_users(self, rule: ApproverRule, inp: ResolveApproversInput) -> list[str]:
        match rule.kind:
            case ApproverKind.USER:
                return [rule.user_id]
            case ApproverKind.HEAD:
                head = await _call(
                    self._deals.FindHead, deals_pb2.FindHeadRequest(user_id=inp.initiator_id)
                )
                return [head.id]
            case ApproverKind.ROLE:
                users = await _call(
                    self._deals.ListUsers,
                    deals_pb2.ListUsersRequest(
                        role=rule.role,
                        department_id=rule.department_id,
                        include_subdepartments=True,
                        limit=200,
                    ),
                )
                return sorted((u.id for u in users.users), key=int)
            case ApproverKind.LIST:
                return await self._list_users(rule, inp.deal_fields.get(rule.key_field))
        return []

    async def _list_users(self, rule: ApproverRule, key: Any) -> list[str]:
        if key in (None, ""):
            return []
        cursor = ""
        while True:
            page = await _call(
                self._deals.ListListItems,
                deals_pb2.ListListItemsRequest(code=rule.list_code, cursor=cursor, limit=200),
            )
            for item in page.items:
                values = from_struct(item.values)
                found = item.id if not rule.key_column else values.get(rule.key_column)
                if str(found) == str(key) and values.get(rule.user_column) not in (None, ""):
                    return [str(values[rule.user_column])]
            if not page.next_cursor:
                return []
            cursor = page.next_cursor

    # ---- deals ----
    @activity.defn(name="move_deal")
    async def move_deal(self, inp: MoveDealInput) -> None:
        """Move the deal; a retry that finds it there already is done."""
        deal = await _call(self._deals.GetDeal, deals_pb2.GetDealRequest(id=inp.deal_id))
        if deal.stage_id == inp.stage_id:
            return
        await _call(
            self._deals.MoveDeal,
            deals_pb2.MoveDealRequest(id=inp.deal_id, stage_id=inp.stage_id, comment=inp.comment),
        )

    @activity.defn(name="check_files")
    async def check_files(self, inp: CheckFilesInput) -> None:
        """Every file exists and belongs to the deal."""
        for file_id in inp.file_ids:
            f = await _call(self._files.GetFile, files_pb2.GetFileRequest(id=file_id))
            if f.deal_id != inp.deal_id:
                raise ApplicationError(
                    f"file {file_id} is not a file of deal {inp.deal_id}",
                    type="InvalidData",
                    non_retryable=True,
                )

    @activity.defn(name="attach_files")
    async def attach_files(self, inp: AttachFilesInput) -> None:
        """Attach each file to the record (a retry attaches nothing twice)."""
        await self.check_files(CheckFilesInput(inp.deal_id, inp.file_ids))
        for file_id in inp.file_ids:
            await _call(
                self._files.AttachFile,
                files_pb2.AttachFileRequest(
                    id=file_id, attachment=files_pb2.Attachment(kind=inp.kind, id=inp.target_id)
                ),
            )

    # ---- requests ----
    @activity.defn(name="open_request")
    async def open_request(self, inp: OpenRequestInput) -> RequestRef:
        r = await _call(
            self._approvals.OpenRequest,
            apb.OpenRequestRequest(
                deal_id=inp.deal_id,
                template_code=inp.template_code,
                workflow_id=inp.workflow_id,
                initiator_id=inp.initiator_id,
                title=inp.title,
                contract_id=inp.contract_id,
            ),
        )
        return RequestRef(r.id)

    @activity.defn(name="start_round")
    async def start_round(self, inp: RoundInput) -> None:
        await _call(
            self._approvals.StartRound,
            apb.StartRoundRequest(request_id=inp.request_id, round=inp.round),
        )

    @activity.defn(name="assign_step")
    async def assign_step(self, inp: AssignStepInput) -> None:
        items = []
        for a in inp.assignments:
            item = apb.Assignment(
                approver_id=a.approver_id,
                stand_in_id=a.stand_in_id,
                task_id=a.task_id,
                status=a.status,
            )
            due = to_timestamp(a.due_at)
            if due is not None:
                item.due_at.CopyFrom(due)
            items.append(item)
        await _call(
            self._approvals.AssignStep,
            apb.AssignStepRequest(
                request_id=inp.request_id,
                round=inp.round,
                step_code=inp.step_code,
                step_index=inp.step_index,
                assignments=items,
            ),
        )

    @activity.defn(name="record_decision")
    async def record_decision(self, inp: RecordDecisionInput) -> DecisionRef:
        d = await _call(
            self._approvals.RecordDecision,
            apb.RecordDecisionRequest(
                request_id=inp.request_id,
                round=inp.round,
                step_code=inp.step_code,
                approver_id=inp.approver_id,
                actor_id=inp.actor_id,
                outcome=inp.outcome,
                comment=inp.comment,
                fields_before=to_struct(inp.fields_before),
                fields_after=to_struct(inp.fields_after),
                file_ids=inp.file_ids,
                idempotency_key=inp.idempotency_key,
                task_id=inp.task_id,
            ),
        )
        return DecisionRef(d.id)

    @activity.defn(name="close_round")
    async def close_round(self, inp: CloseRoundInput) -> None:
        await _call(
            self._approvals.CloseRound,
            apb.CloseRoundRequest(
                request_id=inp.request_id,
                round=inp.round,
                round_status=inp.round_status,
                request_status=inp.request_status,
            ),
        )

    # ---- contracts ----
    @activity.defn(name="get_contract")
    async def get_contract(self, inp: GetContractInput) -> ContractInfo:
        c = await _call(self._approvals.GetContract, apb.GetContractRequest(id=inp.contract_id))
        types = await _call(self._approvals.ListContractTypes, apb.ListContractTypesRequest())
        template = next((t.template_code for t in types.types if t.code == c.type_code), "")
        return ContractInfo(
            c.id, c.deal_id, c.type_code, template, c.status, c.manager_id, c.title, c.number
        )

    @activity.defn(name="set_contract_status")
    async def set_contract_status(self, inp: SetContractStatusInput) -> None:
        await _call(
            self._approvals.SetContractStatus,
            apb.SetContractStatusRequest(
                id=inp.contract_id, status=inp.status, request_id=inp.request_id
            ),
        )

    @activity.defn(name="add_contract_document")
    async def add_contract_document(self, inp: AddContractDocumentInput) -> None:
        await _call(
            self._approvals.AddContractDocument,
            apb.AddContractDocumentRequest(
                contract_id=inp.contract_id, file_id=inp.file_id, kind=inp.kind
            ),
        )

"""The leads and mail-intake half of the CrmService servicer (see crm_api.py)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import crm_pb2 as pb

from services.common.access import Permission
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct
from services.deals.capture_service import CaptureService
from services.deals.capture_service import Request as CaptureRequest
from services.deals.crm_mappers import intake_pb, lead_entry_pb, lead_pb
from services.deals.domain.imports import Row
from services.deals.imports_service import ImportService
from services.deals.intake_service import IntakeService, Mail, MailFile
from services.deals.leads_repository import LeadFilter
from services.deals.leads_service import LeadsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
_LEAD_SETTABLE = ("title", "source", "contact_id", "company_id", "responsible_id")


class LeadsApi:
    _leads: LeadsService
    _intake: IntakeService
    _capture: CaptureService
    _imports: ImportService

    async def ImportRows(
        self, request: pb.ImportRowsRequest, context: Ctx
    ) -> pb.ImportRowsResponse:
        report = await self._imports.run(
            actor_id=actor_id(context),
            kind=request.kind,
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            mapping=dict(request.mapping),
            rows=[Row(r.number, dict(r.values)) for r in request.rows],
            dry_run=request.dry_run,
        )
        return pb.ImportRowsResponse(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            problems=[pb.ImportProblem(field=p.field, message=p.message) for p in report.problems],
        )

    async def CaptureLead(
        self, request: pb.CaptureLeadRequest, context: Ctx
    ) -> pb.CaptureLeadResponse:
        captured = await self._capture.capture(
            actor_id=actor_id(context),
            request=CaptureRequest(
                pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
                title=request.title,
                name=request.name,
                email=request.email,
                phone=request.phone,
                source=request.source,
                message=request.message,
                fields=from_struct(request.fields),
            ),
        )
        reply = pb.CaptureLeadResponse(
            contact_id=str(captured.contact_id or ""),
            duplicate=captured.duplicate,
            excluded=captured.excluded,
        )
        if captured.lead is not None:
            reply.lead.CopyFrom(lead_pb(captured.lead))
        return reply

    async def CreateLead(self, request: pb.CreateLeadRequest, context: Ctx) -> pb.Lead:
        lead = await self._leads.create_lead(
            actor_id=actor_id(context),
            pipeline_id=parse_id(request.pipeline_id, "pipeline_id"),
            title=request.title,
            source=request.source,
            contact_id=optional_id(request.contact_id, "contact_id"),
            company_id=optional_id(request.company_id, "company_id"),
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
            fields=from_struct(request.fields),
            stage_id=optional_id(request.stage_id, "stage_id"),
        )
        return lead_pb(lead)

    async def GetLead(self, request: pb.GetLeadRequest, context: Ctx) -> pb.Lead:
        return lead_pb(
            await self._leads.get_lead(
                actor_id=actor_id(context), lead_id=parse_id(request.id, "id")
            )
        )

    async def ListLeads(self, request: pb.ListLeadsRequest, context: Ctx) -> pb.ListLeadsResponse:
        where = LeadFilter(
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            stage_id=optional_id(request.stage_id, "stage_id"),
            contact_id=optional_id(request.contact_id, "contact_id"),
            q=request.q,
        )
        page = await self._leads.list_leads(
            actor_id=actor_id(context),
            where=where,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListLeadsResponse(
            leads=[lead_pb(lead) for lead in page.items], next_cursor=page.next_cursor
        )

    async def UpdateLead(self, request: pb.UpdateLeadRequest, context: Ctx) -> pb.Lead:
        changes: dict[str, Any] = {}
        for name in dict.fromkeys(request.set_fields):
            if name not in _LEAD_SETTABLE:
                continue
            value = getattr(request, name)
            if name == "responsible_id":
                changes[name] = parse_id(value, name)
            elif name.endswith("_id"):
                changes[name] = optional_id(value, name)
            else:
                changes[name] = value
        lead = await self._leads.update_lead(
            actor_id=actor_id(context),
            lead_id=parse_id(request.id, "id"),
            expected_version=request.expected_version,
            changes=changes,
            fields=from_struct(request.fields),
        )
        return lead_pb(lead)

    async def MoveLead(self, request: pb.MoveLeadRequest, context: Ctx) -> pb.Lead:
        lead = await self._leads.move_lead(
            actor_id=actor_id(context),
            lead_id=parse_id(request.id, "id"),
            stage_id=parse_id(request.stage_id, "stage_id"),
            expected_version=request.expected_version,
            comment=request.comment,
        )
        return lead_pb(lead)

    async def ConvertLead(
        self, request: pb.ConvertLeadRequest, context: Ctx
    ) -> pb.ConvertLeadResponse:
        lead, deal_id = await self._leads.convert_lead(
            actor_id=actor_id(context),
            lead_id=parse_id(request.id, "id"),
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            stage_id=optional_id(request.stage_id, "stage_id"),
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
        )
        return pb.ConvertLeadResponse(lead=lead_pb(lead), deal_id=str(deal_id))

    async def GetLeadTimeline(
        self, request: pb.GetLeadTimelineRequest, context: Ctx
    ) -> pb.GetLeadTimelineResponse:
        page = await self._leads.timeline(
            actor_id=actor_id(context),
            lead_id=parse_id(request.lead_id, "lead_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.GetLeadTimelineResponse(
            entries=[lead_entry_pb(e) for e in page.items], next_cursor=page.next_cursor
        )

    # ---- mail ----
    async def IngestEmail(self, request: pb.IngestEmailRequest, context: Ctx) -> pb.IntakeMessage:
        actor = actor_id(context)
        if actor is not None:  # the SMTP server calls as the system; a user must be an admin
            await self._leads.contacts.require(actor, Permission.ORG_ADMIN)
        mail = Mail(
            message_id=request.message_id,
            sender=request.sender,
            sender_name=request.sender_name,
            subject=request.subject,
            text=request.text,
            in_reply_to=tuple(request.in_reply_to),
            size=request.size,
            attachments=tuple(
                MailFile(a.name, a.content_type, a.size, a.sha256, a.storage_key)
                for a in request.attachments
            ),
        )
        return intake_pb(await self._intake.ingest(mail))

    async def ListIntake(
        self, request: pb.ListIntakeRequest, context: Ctx
    ) -> pb.ListIntakeResponse:
        page = await self._intake.list_messages(
            actor_id=actor_id(context), cursor=request.cursor, limit=clamp_limit(request.limit)
        )
        return pb.ListIntakeResponse(
            messages=[intake_pb(r) for r in page.items], next_cursor=page.next_cursor
        )

    async def GetIntakeSettings(
        self, request: pb.GetIntakeSettingsRequest, context: Ctx
    ) -> pb.IntakeSettings:
        pipeline_id, responsible_id = await self._intake.settings(actor_id=actor_id(context))
        return pb.IntakeSettings(
            pipeline_id=str(pipeline_id or ""), responsible_id=str(responsible_id or "")
        )

    async def PutIntakeSettings(
        self, request: pb.IntakeSettings, context: Ctx
    ) -> pb.IntakeSettings:
        pipeline_id, responsible_id = await self._intake.put_settings(
            actor_id=actor_id(context),
            pipeline_id=optional_id(request.pipeline_id, "pipeline_id"),
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
        )
        return pb.IntakeSettings(
            pipeline_id=str(pipeline_id or ""), responsible_id=str(responsible_id or "")
        )

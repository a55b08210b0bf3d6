"""gRPC servicer of CrmService (contacts, companies, exclusions, deal links; leads and mail
in leads_api.py), a service of the deals process: proto <-> domain mapping only."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import crm_pb2 as pb
from dealflow.deals.v1 import crm_pb2_grpc as pb_grpc
from dealflow.deals.v1 import deals_pb2 as deals_pb

from services.common.access import Permission
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import from_struct
from services.deals import record_fields
from services.deals.api_mappers import field_pb
from services.deals.capture_service import CaptureService
from services.deals.companies_service import CompaniesService
from services.deals.contacts_service import ContactsService
from services.deals.crm_mappers import company_pb, contact_pb, exclusion_pb, parties_pb
from services.deals.deal_parties_service import DealPartiesService
from services.deals.exclusions_service import ExclusionsService
from services.deals.imports_service import ImportService
from services.deals.intake_service import IntakeService
from services.deals.leads_api import LeadsApi
from services.deals.leads_service import LeadsService
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
_CONTACT_SETTABLE = ("name", "emails", "phones", "company_id", "position", "responsible_id")


class CrmApi(LeadsApi, pb_grpc.CrmServiceServicer):  # type: ignore[misc]
    def __init__(self, deals: DealsService) -> None:
        self._contacts = ContactsService(deals)
        self._companies = CompaniesService(self._contacts)
        self._exclusions = ExclusionsService(self._contacts)
        self._leads = LeadsService(self._contacts)
        self._links = DealPartiesService(self._leads)
        self._intake = IntakeService(self._leads)
        self._capture = CaptureService(self._leads)
        self._imports = ImportService(self._leads)

    # ---- contacts ----
    async def CreateContact(self, request: pb.CreateContactRequest, context: Ctx) -> pb.Contact:
        contact = await self._contacts.create_contact(
            actor_id=actor_id(context),
            name=request.name,
            emails=list(request.emails),
            phones=list(request.phones),
            company_id=optional_id(request.company_id, "company_id"),
            position=request.position,
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
            fields=from_struct(request.fields),
            allow_duplicate=request.allow_duplicate,
        )
        return contact_pb(contact)

    async def GetContact(self, request: pb.GetContactRequest, context: Ctx) -> pb.Contact:
        return contact_pb(
            await self._contacts.get_contact(
                actor_id=actor_id(context), contact_id=parse_id(request.id, "id")
            )
        )

    async def ListContacts(
        self, request: pb.ListContactsRequest, context: Ctx
    ) -> pb.ListContactsResponse:
        page = await self._contacts.list_contacts(
            actor_id=actor_id(context),
            q=request.q,
            company_id=optional_id(request.company_id, "company_id"),
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListContactsResponse(
            contacts=[contact_pb(c) for c in page.items], next_cursor=page.next_cursor
        )

    async def UpdateContact(self, request: pb.UpdateContactRequest, context: Ctx) -> pb.Contact:
        changes: dict[str, Any] = {}
        for name in dict.fromkeys(request.set_fields):
            if name not in _CONTACT_SETTABLE:
                continue
            value = getattr(request, name)
            if name.endswith("_id"):
                changes[name] = optional_id(value, name)
                if name == "responsible_id" and changes[name] is None:
                    changes[name] = parse_id(value, name)
            elif name in ("emails", "phones"):
                changes[name] = list(value)
            else:
                changes[name] = value
        contact = await self._contacts.update_contact(
            actor_id=actor_id(context),
            contact_id=parse_id(request.id, "id"),
            expected_version=request.expected_version,
            changes=changes,
            fields=from_struct(request.fields),
        )
        return contact_pb(contact)

    async def MergeContacts(self, request: pb.MergeContactsRequest, context: Ctx) -> pb.Contact:
        contact = await self._contacts.merge_contacts(
            actor_id=actor_id(context),
            keep_id=parse_id(request.keep_id, "keep_id"),
            merge_id=parse_id(request.merge_id, "merge_id"),
        )
        return contact_pb(contact)

    # ---- custom fields of contacts and companies ----
    async def CreateRecordField(
        self, request: pb.CreateRecordFieldRequest, context: Ctx
    ) -> deals_pb.FieldDefinition:
        await self._contacts.require(actor_id(context), Permission.ORG_ADMIN)
        async with self._contacts._engine.begin() as conn:
            definition = await record_fields.create(
                conn,
                entity=request.entity,
                code=request.code,
                name=request.name,
                type=request.type,
                options=list(request.options),
                list_code=request.list_code,
                now=self._contacts._now(),
            )
        return field_pb(definition)

    async def ListRecordFields(
        self, request: pb.ListRecordFieldsRequest, context: Ctx
    ) -> pb.ListRecordFieldsResponse:
        async with self._contacts._engine.connect() as conn:
            found = await record_fields.definitions(conn, request.entity)
        return pb.ListRecordFieldsResponse(fields=[field_pb(f) for f in found.values()])

    # ---- companies ----
    async def CreateCompany(self, request: pb.CreateCompanyRequest, context: Ctx) -> pb.Company:
        company = await self._companies.create_company(
            actor_id=actor_id(context),
            name=request.name,
            registration_ids=dict(request.registration_ids),
            addresses=list(request.addresses),
            responsible_id=optional_id(request.responsible_id, "responsible_id"),
            fields=from_struct(request.fields),
        )
        return company_pb(company)

    async def GetCompany(self, request: pb.GetCompanyRequest, context: Ctx) -> pb.Company:
        return company_pb(
            await self._companies.get_company(
                actor_id=actor_id(context), company_id=parse_id(request.id, "id")
            )
        )

    async def ListCompanies(
        self, request: pb.ListCompaniesRequest, context: Ctx
    ) -> pb.ListCompaniesResponse:
        page = await self._companies.list_companies(
            actor_id=actor_id(context),
            q=request.q,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListCompaniesResponse(
            companies=[company_pb(c) for c in page.items], next_cursor=page.next_cursor
        )

    async def UpdateCompany(self, request: pb.UpdateCompanyRequest, context: Ctx) -> pb.Company:
        changes: dict[str, Any] = {}
        for name in dict.fromkeys(request.set_fields):
            if name == "name":
                changes[name] = request.name
            elif name == "registration_ids":
                changes[name] = dict(request.registration_ids)
            elif name == "addresses":
                changes[name] = list(request.addresses)
            elif name == "responsible_id":
                changes[name] = parse_id(request.responsible_id, "responsible_id")
        company = await self._companies.update_company(
            actor_id=actor_id(context),
            company_id=parse_id(request.id, "id"),
            expected_version=request.expected_version,
            changes=changes,
            fields=from_struct(request.fields),
        )
        return company_pb(company)

    # ---- a deal's contacts and company ----
    async def GetDealParties(
        self, request: pb.GetDealPartiesRequest, context: Ctx
    ) -> pb.DealParties:
        deal_id = parse_id(request.deal_id, "deal_id")
        links = await self._links.deal_parties(actor_id=actor_id(context), deal_id=deal_id)
        return parties_pb(deal_id, links)

    async def LinkDealParties(
        self, request: pb.LinkDealPartiesRequest, context: Ctx
    ) -> pb.DealParties:
        deal_id = parse_id(request.deal_id, "deal_id")
        links = await self._links.link_deal(
            actor_id=actor_id(context),
            deal_id=deal_id,
            contact_ids=[
                parse_id(c, f"contact_ids[{i}]") for i, c in enumerate(request.contact_ids)
            ],
            company_id=optional_id(request.company_id, "company_id"),
        )
        return parties_pb(deal_id, links)

    # ---- exclusions ----
    async def CreateExclusion(
        self, request: pb.CreateExclusionRequest, context: Ctx
    ) -> pb.Exclusion:
        found = await self._exclusions.create(
            actor_id=actor_id(context),
            kind=request.kind,
            value=request.value,
            reason=request.reason,
        )
        return exclusion_pb(found)

    async def ListExclusions(
        self, request: pb.ListExclusionsRequest, context: Ctx
    ) -> pb.ListExclusionsResponse:
        page = await self._exclusions.list_exclusions(
            actor_id=actor_id(context),
            kind=request.kind,
            q=request.q,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListExclusionsResponse(
            exclusions=[exclusion_pb(e) for e in page.items], next_cursor=page.next_cursor
        )

    async def DeleteExclusion(
        self, request: pb.DeleteExclusionRequest, context: Ctx
    ) -> pb.Exclusion:
        found = await self._exclusions.delete(
            actor_id=actor_id(context), exclusion_id=parse_id(request.id, "id")
        )
        return exclusion_pb(found)

    async def ExcludeContact(
        self, request: pb.ExcludeContactRequest, context: Ctx
    ) -> pb.ListExclusionsResponse:
        found = await self._exclusions.exclude_contact(
            actor_id=actor_id(context),
            contact_id=parse_id(request.contact_id, "contact_id"),
            lead_id=optional_id(request.lead_id, "lead_id"),
            reason=request.reason,
        )
        return pb.ListExclusionsResponse(exclusions=[exclusion_pb(e) for e in found])


def register_crm(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add CrmService next to DealsService; its full name (for health and reflection)."""
    pb_grpc.add_CrmServiceServicer_to_server(CrmApi(deals), server)
    return str(pb.DESCRIPTOR.services_by_name["CrmService"].full_name)

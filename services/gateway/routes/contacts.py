"""Contacts (search by name, e-mail or phone; duplicates answer 409 with the existing id;
merge), companies, and the contacts and company of a deal."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from services.common.errors import AlreadyExists, FieldProblem, ValidationFailed
from services.common.protoconv import to_struct
from services.gateway.deps import AdminUser, Crm, CurrentUser
from services.gateway.problems import COMMON_RESPONSES, PROBLEM_JSON, ProblemError, responses
from services.gateway.routes import API_PREFIX
from services.gateway.routes.deals import expected_version
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.crm import (
    CompanyIn,
    CompanyOut,
    CompanyPatch,
    ContactIn,
    ContactMerge,
    ContactOut,
    ContactPatch,
    DealPartiesIn,
    DuplicateProblem,
)
from services.gateway.schemas.deals import DealPartiesOut
from services.gateway.schemas.pipelines import FieldIn, FieldOut

router = APIRouter(prefix=API_PREFIX, tags=["contacts"], responses=COMMON_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the contact version")]
_DUPLICATE: dict[int | str, dict[str, Any]] = {
    409: {
        "model": DuplicateProblem,
        "description": "an e-mail or phone is on file: `existing_id` names that contact",
        "content": {PROBLEM_JSON: {}},
    }
}


def _duplicate(exc: AlreadyExists) -> JSONResponse:
    existing = next((p.message for p in exc.problems if p.field == "existing_id"), "0")
    body = DuplicateProblem(
        title="Conflict",
        status=409,
        detail=exc.message,
        errors=[
            ProblemError(field=p.field, message=p.message)
            for p in exc.problems
            if p.field != "existing_id"
        ],
        existing_id=int(existing),
    )
    return JSONResponse(body.model_dump(), status_code=409, media_type=PROBLEM_JSON)


Entity = Literal["contact", "company"]


@router.post("/{entity}-fields", status_code=201, responses=responses(403, 409))
async def create_record_field(entity: Entity, body: FieldIn, _: AdminUser, crm: Crm) -> FieldOut:
    """A custom field of contacts (`/contact-fields`) or companies (`/company-fields`): the
    types and checks of a pipeline's fields, without stages."""
    if body.required_on_stages:
        raise ValidationFailed(FieldProblem("required_on_stages", "contacts have no stages"))
    field = await crm.CreateRecordField(
        crm_pb2.CreateRecordFieldRequest(
            entity=entity,
            code=body.code,
            name=body.name,
            type=body.type,
            options=body.options,
            list_code=body.list_code or "",
        )
    )
    return FieldOut.of(field)


@router.get("/{entity}-fields")
async def list_record_fields(entity: Entity, _: CurrentUser, crm: Crm) -> list[FieldOut]:
    reply = await crm.ListRecordFields(crm_pb2.ListRecordFieldsRequest(entity=entity))
    return [FieldOut.of(f) for f in reply.fields]


@router.post("/contacts", status_code=201, responses={**responses(403), **_DUPLICATE})
async def create_contact(body: ContactIn, _: CurrentUser, crm: Crm) -> Any:
    """A contact; a known e-mail or phone answers 409 with `existing_id` unless
    `allow_duplicate`."""
    request = crm_pb2.CreateContactRequest(
        name=body.name,
        emails=body.emails,
        phones=body.phones,
        company_id=str(body.company_id or ""),
        position=body.position or "",
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields),
        allow_duplicate=body.allow_duplicate,
    )
    try:
        return ContactOut.of(await crm.CreateContact(request))
    except AlreadyExists as exc:
        return _duplicate(exc)


@router.get("/contacts")
async def list_contacts(
    _: CurrentUser,
    crm: Crm,
    q: Annotated[str, Query(max_length=200, description="name, e-mail or phone")] = "",
    company_id: RecordId | None = None,
    cursor: str = "",
    limit: Limit = 50,
) -> Page[ContactOut]:
    reply = await crm.ListContacts(
        crm_pb2.ListContactsRequest(
            q=q, company_id=str(company_id or ""), cursor=cursor, limit=limit
        )
    )
    return Page(
        items=[ContactOut.of(c) for c in reply.contacts],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/contacts/{contact_id}", responses=responses(404))
async def get_contact(contact_id: int, _: CurrentUser, crm: Crm) -> ContactOut:
    return ContactOut.of(await crm.GetContact(crm_pb2.GetContactRequest(id=str(contact_id))))


@router.patch("/contacts/{contact_id}", responses=responses(403, 404, 409))
async def update_contact(
    contact_id: int, body: ContactPatch, _: CurrentUser, crm: Crm, if_match: IfMatch = None
) -> ContactOut:
    present = body.model_fields_set - {"fields"}
    request = crm_pb2.UpdateContactRequest(
        id=str(contact_id),
        expected_version=expected_version(if_match),
        set_fields=sorted(present),
        name=body.name or "",
        emails=body.emails or [],
        phones=body.phones or [],
        company_id=str(body.company_id or ""),
        position=body.position or "",
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields or {}),
    )
    return ContactOut.of(await crm.UpdateContact(request))


@router.post("/contacts/{contact_id}/merge", responses=responses(403, 404))
async def merge_contacts(
    contact_id: int, body: ContactMerge, _: CurrentUser, crm: Crm
) -> ContactOut:
    """Merge `contact_id` of the body into this contact: addresses, company, fields, leads
    and deal links move over; the other contact is kept, marked `merged_into_id`."""
    request = crm_pb2.MergeContactsRequest(keep_id=str(contact_id), merge_id=str(body.contact_id))
    return ContactOut.of(await crm.MergeContacts(request))


@router.post("/companies", status_code=201, responses=responses(403))
async def create_company(body: CompanyIn, _: CurrentUser, crm: Crm) -> CompanyOut:
    request = crm_pb2.CreateCompanyRequest(
        name=body.name,
        registration_ids=body.registration_ids,
        addresses=body.addresses,
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields),
    )
    return CompanyOut.of(await crm.CreateCompany(request))


@router.get("/companies")
async def list_companies(
    _: CurrentUser,
    crm: Crm,
    q: Annotated[str, Query(max_length=200, description="name or a registration id")] = "",
    cursor: str = "",
    limit: Limit = 50,
) -> Page[CompanyOut]:
    reply = await crm.ListCompanies(crm_pb2.ListCompaniesRequest(q=q, cursor=cursor, limit=limit))
    return Page(
        items=[CompanyOut.of(c) for c in reply.companies],
        next_cursor=cursor_or_none(reply.next_cursor),
    )


@router.get("/companies/{company_id}", responses=responses(404))
async def get_company(company_id: int, _: CurrentUser, crm: Crm) -> CompanyOut:
    return CompanyOut.of(await crm.GetCompany(crm_pb2.GetCompanyRequest(id=str(company_id))))


@router.patch("/companies/{company_id}", responses=responses(403, 404, 409))
async def update_company(
    company_id: int, body: CompanyPatch, _: CurrentUser, crm: Crm, if_match: IfMatch = None
) -> CompanyOut:
    present = body.model_fields_set - {"fields"}
    request = crm_pb2.UpdateCompanyRequest(
        id=str(company_id),
        expected_version=expected_version(if_match),
        set_fields=sorted(present),
        name=body.name or "",
        registration_ids=body.registration_ids or {},
        addresses=body.addresses or [],
        responsible_id=str(body.responsible_id or ""),
        fields=to_struct(body.fields or {}),
    )
    return CompanyOut.of(await crm.UpdateCompany(request))


@router.get("/deals/{deal_id}/contacts", tags=["deals"], responses=responses(404))
async def deal_parties(deal_id: int, _: CurrentUser, crm: Crm) -> DealPartiesOut:
    """The deal's contacts, its company and the lead it came from."""
    return DealPartiesOut.of(
        await crm.GetDealParties(crm_pb2.GetDealPartiesRequest(deal_id=str(deal_id)))
    )


@router.post("/deals/{deal_id}/contacts", tags=["deals"], responses=responses(403, 404))
async def link_deal(deal_id: int, body: DealPartiesIn, _: CurrentUser, crm: Crm) -> DealPartiesOut:
    """Add contacts to a deal and (optionally) set its company."""
    request = crm_pb2.LinkDealPartiesRequest(
        deal_id=str(deal_id),
        contact_ids=[str(c) for c in body.contact_ids],
        company_id=str(body.company_id or ""),
    )
    return DealPartiesOut.of(await crm.LinkDealParties(request))

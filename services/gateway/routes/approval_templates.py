"""Approval chain templates: data edited through the API by those allowed to (the
approvals service checks approvals.templates.edit)."""

from __future__ import annotations

from dealflow.approvals.v1 import approvals_pb2 as apb
from fastapi import APIRouter, Response

from services.common.protoconv import to_struct
from services.gateway.deps import Approvals, CurrentUser
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.approvals import TemplateBody, TemplateIn, TemplateOut
from services.gateway.schemas.common import Page

router = APIRouter(
    prefix=API_PREFIX + "/approval-templates",
    tags=["approval templates"],
    responses=COMMON_RESPONSES,
)


async def _put(approvals: Approvals, code: str, body: TemplateBody) -> TemplateOut:
    template = apb.Template(code=code, name=body.name, definition=to_struct(body.definition()))
    return TemplateOut.of(await approvals.PutTemplate(apb.PutTemplateRequest(template=template)))


@router.get("")
async def list_templates(_: CurrentUser, approvals: Approvals) -> Page[TemplateOut]:
    reply = await approvals.ListTemplates(apb.ListTemplatesRequest())
    return Page(items=[TemplateOut.of(t) for t in reply.templates])


@router.post("", status_code=201, responses=responses(403))
async def create_template(body: TemplateIn, _: CurrentUser, approvals: Approvals) -> TemplateOut:
    """A new chain template (or a new version of the one with that code)."""
    return await _put(approvals, body.code, body)


@router.get("/{code}", responses=responses(404))
async def get_template(code: str, _: CurrentUser, approvals: Approvals) -> TemplateOut:
    return TemplateOut.of(await approvals.GetTemplate(apb.GetTemplateRequest(code=code)))


@router.put("/{code}", responses=responses(403))
async def put_template(
    code: str, body: TemplateBody, _: CurrentUser, approvals: Approvals
) -> TemplateOut:
    """Replace a template; running chains keep the version they started with."""
    return await _put(approvals, code, body)


@router.delete("/{code}", status_code=204, responses=responses(403, 404))
async def delete_template(code: str, _: CurrentUser, approvals: Approvals) -> Response:
    await approvals.DeleteTemplate(apb.DeleteTemplateRequest(code=code))
    return Response(status_code=204)

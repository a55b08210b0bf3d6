"""Company blueprints (services/blueprints): apply one (or see what it would change), and
export the current configuration in the same format. Admins only."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from services.blueprints.apply import apply_blueprint
from services.blueprints.current import Stubs, read
from services.blueprints.document import parse
from services.blueprints.export import export
from services.common.errors import FieldProblem, ValidationFailed
from services.gateway.deps import AdminUser, Approvals, Automation, Deals
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["blueprints"], responses=COMMON_RESPONSES)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class ChangeOut(BaseModel):
    action: str
    kind: str
    place: str
    name: str
    detail: str = ""


class AppliedOut(BaseModel):
    dry_run: bool
    changes: list[ChangeOut]


# A blueprint is a YAML mapping; its parts are checked by services/blueprints/document.py.
_BLUEPRINT: dict[str, Any] = {
    "type": "object",
    "properties": {"blueprint": {"type": "integer", "enum": [1]}},
    "description": "calendar, departments, users, lists, pipelines, approval_templates, "
    "contract_types",
}
_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": _BLUEPRINT}},
        "description": "the blueprint's text (blueprints/*.yaml show the format)",
    }
}


@router.post("/blueprints", responses=responses(403, 415), openapi_extra=_YAML_BODY)
async def apply(
    request: Request,
    _: AdminUser,
    deals: Deals,
    automation: Automation,
    approvals: Approvals,
    dry_run: bool = Query(False, description="only list the changes it would make"),
) -> AppliedOut:
    """Apply a blueprint: the whole file is checked first (422 lists every problem with its
    place, nothing applied), then it creates and updates what differs; applying it again
    changes nothing. 200 with the changes (a dry run: those it would make)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        raise Problem(415, "send the blueprint as Content-Type: application/yaml")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(FieldProblem("body", "is not UTF-8 text")) from None
    doc = parse(text)
    changes = await apply_blueprint(
        doc, Stubs(deals=deals, automation=automation, approvals=approvals), dry_run=dry_run
    )
    return AppliedOut(dry_run=dry_run, changes=[ChangeOut(**c) for c in changes])


@router.get(
    "/blueprint",
    responses={
        **responses(403),
        200: {"content": {"application/yaml": {"schema": _BLUEPRINT}}},
    },
    response_class=Response,
)
async def export_blueprint(
    _: AdminUser, deals: Deals, automation: Automation, approvals: Approvals
) -> Response:
    """The current configuration as a blueprint (YAML): keep it in git, review changes,
    apply it elsewhere."""
    snap = await read(Stubs(deals=deals, automation=automation, approvals=approvals))
    text = yaml.safe_dump(export(snap), allow_unicode=True, sort_keys=False)
    return Response(text, media_type="application/yaml")

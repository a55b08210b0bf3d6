"""Lead capture for web forms and lead-generation channels: an API token with the `leads`
scope (which may do nothing else), rate limited per token, a honeypot field, and requests
deduplicated against the contact's open lead."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.common.protoconv import to_struct
from services.gateway.deps import AppClients, Authenticated, BoundStub, Settings
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import id_or_none
from services.gateway.schemas.crm import CaptureOut, LeadCaptureIn
from services.gateway.window_limit import WindowLimiter

log = logging.getLogger(__name__)
router = APIRouter(prefix=API_PREFIX, tags=["leads"], responses=COMMON_RESPONSES)
_QUIET = {"lead_id": None, "contact_id": None, "duplicate": False}


def limiter(request: Request, settings: Settings) -> WindowLimiter:
    found = getattr(request.app.state, "lead_capture_limiter", None)
    if found is None:
        found = request.app.state.lead_capture_limiter = WindowLimiter(
            settings.lead_capture_per_minute
        )
    return found


@router.post(
    "/lead-capture",
    status_code=201,
    responses={
        **responses(403, 429),
        200: {"model": CaptureOut, "description": "the contact's open lead took the request"},
        202: {"model": CaptureOut, "description": "taken and dropped (honeypot, exclusion)"},
    },
)
async def capture_lead(
    body: LeadCaptureIn,
    principal: Authenticated,
    request: Request,
    clients: AppClients,
    settings: Settings,
) -> Any:
    """201: a new lead (and contact); 200: the contact's open lead got the request on its
    timeline; 202: dropped without a word to the sender (the honeypot field was filled, or
    the address is excluded). 429 with `Retry-After` past the per-token limit."""
    if not principal.scopes & {"leads", "write"}:
        raise Problem(403, "this API token may not create leads")
    key = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
    wait = limiter(request, settings).take(key)
    if wait is not None:
        retry = str(max(1, int(wait + 0.999)))
        raise Problem(429, "too many leads from this token", headers={"Retry-After": retry})
    if body.website:
        log.info("lead capture: honeypot filled", extra={"user_id": principal.id})
        return JSONResponse(_QUIET, status_code=202)
    crm = BoundStub(clients.crm, actor=principal.id, timeout=settings.request_timeout_seconds)
    reply = await crm.CaptureLead(
        crm_pb2.CaptureLeadRequest(
            pipeline_id=str(body.pipeline_id or ""),
            title=body.title or "",
            name=body.name,
            email=body.email or "",
            phone=body.phone or "",
            source=body.source or "",
            message=body.message or "",
            fields=to_struct(body.fields),
        )
    )
    if reply.excluded:
        return JSONResponse(_QUIET, status_code=202)
    out = CaptureOut(
        lead_id=id_or_none(reply.lead.id),
        contact_id=id_or_none(reply.contact_id),
        duplicate=reply.duplicate,
    )
    return JSONResponse(out.model_dump(), status_code=200 if reply.duplicate else 201)

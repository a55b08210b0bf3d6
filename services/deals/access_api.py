"""gRPC methods of access: roles, a user's access, sessions, API tokens, the audit log.
Mixed into DealsApi (one servicer per service); proto <-> domain mapping only."""

from __future__ import annotations

from datetime import UTC
from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import access_pb2 as apb

from services.common.access import Permission
from services.common.access_client import access_pb
from services.common.errors import FieldProblem, ValidationFailed
from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import to_struct, to_timestamp
from services.deals.access_service import AccessService
from services.deals.audit import AuditEntry, AuditFilter
from services.deals.auth_repository import ApiTokenRow
from services.deals.auth_service import AuthService, NewSession
from services.deals.domain.roles import Role

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def role_pb(role: Role) -> apb.Role:
    return apb.Role(
        code=role.code,
        name=role.name,
        visibility=role.visibility.value,
        permissions=sorted(role.permissions),
        pipelines=[
            apb.PipelineAccess(
                pipeline_id=str(r.pipeline_id),
                visibility=r.visibility.value,
                move_to_stage_ids=[str(s) for s in sorted(r.move_to_stage_ids)],
            )
            for r in role.pipelines.values()
        ],
    )


def token_pb(token: ApiTokenRow, secret: str = "") -> apb.ApiToken:
    return apb.ApiToken(
        id=str(token.id),
        user_id=str(token.user_id),
        name=token.name,
        scopes=list(token.scopes),
        token=secret,
        created_at=to_timestamp(token.created_at),
        expires_at=to_timestamp(token.expires_at),
        revoked_at=to_timestamp(token.revoked_at),
        last_used_at=to_timestamp(token.last_used_at),
    )


def session_pb(session: NewSession) -> apb.Session:
    return apb.Session(
        id=session.id,
        user_id=str(session.user.id),
        refresh_token=session.refresh_token,
        expires_at=to_timestamp(session.expires_at),
        roles=list(session.user.roles),
    )


def entry_pb(e: AuditEntry) -> apb.AuditEntry:
    return apb.AuditEntry(
        id=str(e.id),
        at=to_timestamp(e.at),
        actor_id=str(e.actor_id or ""),
        action=e.action,
        subject_type=e.subject_type,
        subject_id=e.subject_id,
        before=to_struct(e.before) if e.before is not None else None,
        after=to_struct(e.after) if e.after is not None else None,
        source=e.source,
        client_address=e.client_address,
    )


class AccessApi:
    _access: AccessService
    _auth: AuthService

    async def GetAccess(self, request: apb.GetAccessRequest, context: Ctx) -> apb.Access:
        user_id = parse_id(request.user_id, "user_id")
        if request.session_id:
            await self._auth.check_session(session_id=request.session_id, user_id=user_id)
        return access_pb(await self._access.access_of(user_id=user_id))

    async def StartSession(self, request: apb.StartSessionRequest, context: Ctx) -> apb.Session:
        user_id = parse_id(request.user_id, "user_id")
        return session_pb(await self._auth.start_session(user_id=user_id))

    async def RefreshSession(self, request: apb.RefreshSessionRequest, context: Ctx) -> apb.Session:
        return session_pb(await self._auth.refresh(refresh_token=request.refresh_token))

    async def EndSession(
        self, request: apb.EndSessionRequest, context: Ctx
    ) -> apb.EndSessionResponse:
        await self._auth.end_session(session_id=request.session_id, actor_id=actor_id(context))
        return apb.EndSessionResponse()

    async def CreateApiToken(
        self, request: apb.CreateApiTokenRequest, context: Ctx
    ) -> apb.ApiToken:
        actor = actor_id(context)
        user_id = optional_id(request.user_id, "user_id") or actor
        if user_id is None:
            raise ValidationFailed(FieldProblem("user_id", "is required"))
        token, secret = await self._auth.create_api_token(
            actor_id=actor,
            user_id=user_id,
            name=request.name,
            scopes=list(request.scopes),
            days=request.days,
        )
        return token_pb(token, secret)

    async def ListApiTokens(
        self, request: apb.ListApiTokensRequest, context: Ctx
    ) -> apb.ListApiTokensResponse:
        actor = actor_id(context)
        user_id = optional_id(request.user_id, "user_id") or actor
        if user_id is None:
            raise ValidationFailed(FieldProblem("user_id", "is required"))
        tokens = await self._auth.list_api_tokens(actor_id=actor, user_id=user_id)
        return apb.ListApiTokensResponse(tokens=[token_pb(t) for t in tokens])

    async def RevokeApiToken(
        self, request: apb.RevokeApiTokenRequest, context: Ctx
    ) -> apb.ApiToken:
        token = await self._auth.revoke_api_token(
            actor_id=actor_id(context), token_id=parse_id(request.id, "id")
        )
        return token_pb(token)

    async def VerifyApiToken(
        self, request: apb.VerifyApiTokenRequest, context: Ctx
    ) -> apb.ApiToken:
        return token_pb(await self._auth.verify_api_token(secret=request.token))

    async def ListAudit(self, request: apb.ListAuditRequest, context: Ctx) -> apb.ListAuditResponse:
        where = AuditFilter(
            actor_id=optional_id(request.actor_id, "actor_id"),
            action=request.action,
            subject_type=request.subject_type,
            subject_id=request.subject_id,
            since=request.since.ToDatetime(UTC) if request.HasField("since") else None,
            until=request.until.ToDatetime(UTC) if request.HasField("until") else None,
        )
        page = await self._auth.audit_entries(
            actor_id=actor_id(context),
            where=where,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return apb.ListAuditResponse(
            entries=[entry_pb(e) for e in page.items], next_cursor=page.next_cursor
        )

    async def ListRoles(self, request: apb.ListRolesRequest, context: Ctx) -> apb.ListRolesResponse:
        return apb.ListRolesResponse(roles=[role_pb(r) for r in await self._access.list_roles()])

    async def PutRole(self, request: apb.PutRoleRequest, context: Ctx) -> apb.Role:
        await self._access.require(actor_id(context), Permission.ORG_ADMIN)
        role = request.role
        pipelines = [
            (
                parse_id(p.pipeline_id, f"pipelines[{i}].pipeline_id"),
                p.visibility,
                [
                    parse_id(s, f"pipelines[{i}].move_to_stage_ids[{j}]")
                    for j, s in enumerate(p.move_to_stage_ids)
                ],
            )
            for i, p in enumerate(role.pipelines)
        ]
        saved = await self._access.put_role(
            actor_id=actor_id(context),
            code=role.code,
            name=role.name,
            visibility=role.visibility,
            permissions=list(role.permissions),
            pipelines=pipelines,
        )
        return role_pb(saved)

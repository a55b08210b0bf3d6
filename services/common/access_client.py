"""Asking the deals service for a user's Access (see services/common/access.py)."""

from __future__ import annotations

from typing import Any

from dealflow.deals.v1 import access_pb2, deals_pb2_grpc

from services.common.access import Access, AccessResolver, Fetch, Scope
from services.common.grpc_client import call


def access_from_pb(reply: access_pb2.Access) -> Access:
    return Access(
        user_id=int(reply.user_id),
        roles=frozenset(reply.roles),
        department_id=int(reply.department_id) if reply.department_id else None,
        scope=Scope(reply.sees_everyone, frozenset(int(u) for u in reply.visible_user_ids)),
        permissions=frozenset(reply.permissions),
        deal_pipelines={
            int(p.pipeline_id): Scope(
                p.sees_everyone, frozenset(int(u) for u in p.visible_user_ids)
            )
            for p in reply.deal_pipelines
        },
    )


def access_pb(access: Access) -> access_pb2.Access:
    return access_pb2.Access(
        user_id=str(access.user_id),
        roles=sorted(access.roles),
        department_id=str(access.department_id or ""),
        sees_everyone=access.scope.everyone,
        visible_user_ids=[str(u) for u in sorted(access.scope.user_ids)],
        permissions=sorted(access.permissions),
        deal_pipelines=[
            access_pb2.PipelineScope(
                pipeline_id=str(pipeline_id),
                sees_everyone=scope.everyone,
                visible_user_ids=[str(u) for u in sorted(scope.user_ids)],
            )
            for pipeline_id, scope in sorted(access.deal_pipelines.items())
        ],
    )


def fetch_from_deals(stub: deals_pb2_grpc.DealsServiceStub, *, timeout: float = 5.0) -> Fetch:
    """A `Fetch` for AccessResolver that calls DealsService.GetAccess."""

    async def fetch(user_id: int) -> Access:
        request: Any = access_pb2.GetAccessRequest(user_id=str(user_id))
        return access_from_pb(await call(stub.GetAccess, request, timeout=timeout))

    return fetch


def deals_resolver(stub: deals_pb2_grpc.DealsServiceStub, *, ttl: float = 5.0) -> AccessResolver:
    return AccessResolver(fetch_from_deals(stub), ttl=ttl)

"""Signing in and out: the OAuth2 password flow for an access token and a refresh token,
refresh (the refresh token rotates), logout, and API tokens for integrations."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import access_pb2, deals_pb2
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from services.gateway.auth import Principal, issue_token
from services.gateway.deps import CurrentUser, Deals, DealsAnonymous, Settings, principal_cache
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import RecordId
from services.gateway.schemas.users import ApiTokenIn, ApiTokenOut, RefreshIn, Token

router = APIRouter(
    prefix=API_PREFIX + "/auth", tags=["auth"], responses=responses(401, 422, 429, 503)
)
tokens = APIRouter(prefix=API_PREFIX + "/api-tokens", tags=["auth"], responses=COMMON_RESPONSES)


def _token(session: access_pb2.Session, settings: Settings) -> Token:
    principal = Principal(
        id=int(session.user_id), roles=frozenset(session.roles), session_id=session.id
    )
    access = issue_token(
        principal,
        secret=settings.jwt_secret.get_secret_value(),
        minutes=settings.access_token_minutes,
    )
    return Token(
        access_token=access,
        expires_in=settings.access_token_minutes * 60,
        refresh_token=session.refresh_token,
    )


@router.post("/token")
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    deals: DealsAnonymous,
    settings: Settings,
) -> Token:
    """Exchange an e-mail (`username`) and password for an access token and a refresh
    token. Repeated failures are refused for a while (429) per account and per address."""
    user = await deals.Authenticate(
        deals_pb2.AuthenticateRequest(
            email=form.username,
            password=form.password,
            client_address=request.client.host if request.client else "",
        )
    )
    session = await deals.StartSession(access_pb2.StartSessionRequest(user_id=user.id))
    return _token(session, settings)


@router.post("/refresh")
async def refresh(body: RefreshIn, deals: DealsAnonymous, settings: Settings) -> Token:
    """A new access token and refresh token; the refresh token given stops working, and
    using it again ends the session."""
    session = await deals.RefreshSession(
        access_pb2.RefreshSessionRequest(refresh_token=body.refresh_token)
    )
    return _token(session, settings)


@router.post("/logout", status_code=204)
async def logout(request: Request, user: CurrentUser, deals: Deals) -> Response:
    """End the session: its access and refresh tokens stop working."""
    if user.session_id:
        await deals.EndSession(access_pb2.EndSessionRequest(session_id=user.session_id))
    authorization = request.headers.get("Authorization", "")
    principal_cache(request).forget(authorization.removeprefix("Bearer ").strip())
    return Response(status_code=204)


@tokens.post("", status_code=201, responses=responses(403, 404))
async def create_api_token(body: ApiTokenIn, _: CurrentUser, deals: Deals) -> ApiTokenOut:
    """An API token for an integration; its secret is in this answer only."""
    created = await deals.CreateApiToken(
        access_pb2.CreateApiTokenRequest(
            user_id=str(body.user_id or ""), name=body.name, scopes=body.scopes, days=body.days
        )
    )
    return ApiTokenOut.of(created)


@tokens.get("", responses=responses(403))
async def list_api_tokens(
    _: CurrentUser, deals: Deals, user_id: RecordId | None = None
) -> list[ApiTokenOut]:
    """The caller's API tokens (an admin may name another user)."""
    reply = await deals.ListApiTokens(access_pb2.ListApiTokensRequest(user_id=str(user_id or "")))
    return [ApiTokenOut.of(t) for t in reply.tokens]


@tokens.delete("/{token_id}", responses=responses(404))
async def revoke_api_token(token_id: RecordId, _: CurrentUser, deals: Deals) -> ApiTokenOut:
    """Revoke a token; it stops working within seconds."""
    return ApiTokenOut.of(
        await deals.RevokeApiToken(access_pb2.RevokeApiTokenRequest(id=str(token_id)))
    )

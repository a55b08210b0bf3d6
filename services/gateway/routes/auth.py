"""POST /auth/token: an OAuth2 password form in, a bearer token out."""

from __future__ import annotations

from typing import Annotated

from dealflow.deals.v1 import deals_pb2
from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from services.gateway.auth import Principal, issue_token
from services.gateway.deps import DealsAnonymous, Settings
from services.gateway.problems import responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.users import Token

router = APIRouter(prefix=API_PREFIX + "/auth", tags=["auth"], responses=responses(401, 422, 503))


@router.post("/token")
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    deals: DealsAnonymous,
    settings: Settings,
) -> Token:
    """Exchange an e-mail (`username`) and password for a bearer token."""
    user = await deals.Authenticate(
        deals_pb2.AuthenticateRequest(email=form.username, password=form.password)
    )
    principal = Principal(id=int(user.id), roles=frozenset(user.roles))
    access = issue_token(
        principal,
        secret=settings.jwt_secret.get_secret_value(),
        minutes=settings.access_token_minutes,
    )
    return Token(access_token=access, expires_in=settings.access_token_minutes * 60)

"""RFC 9457 problem details: every error the gateway answers is application/problem+json
with the field-level problems in `errors`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from temporalio.service import RPCError, RPCStatusCode

from services.common.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    FieldProblem,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
    ValidationFailed,
)
from services.common.grpc_client import ServiceUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_SOURCES = {"body", "query", "path", "header", "cookie"}
_UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's 400 for a body it can't decode


class ProblemError(BaseModel):
    field: str
    message: str


class ProblemModel(BaseModel):
    """The body of every error answer (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[ProblemError] = []


class Problem(Exception):
    """An error the gateway itself answers (not a service's domain error)."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str = "",
    *,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ProblemModel(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=[ProblemError(field=p.field, message=p.message) for p in errors],
    )
    return JSONResponse(
        body.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def _doc(description: str) -> dict[str, Any]:
    return {"model": ProblemModel, "description": description, "content": {PROBLEM_JSON: {}}}


def document_problems(app: FastAPI) -> None:
    """FastAPI files a response `model` under application/json; move problem schemas to
    application/problem+json, the media type the handlers answer with."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        ref = "#/components/schemas/ProblemModel"
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if (
                        PROBLEM_JSON in content
                        or content.get("application/json", {}).get("schema", {}).get("$ref")
                        == "#/components/schemas/HTTPValidationError"
                    ):
                        content.pop("application/json", None)
                        content[PROBLEM_JSON] = {"schema": {"$ref": ref}}
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problems a route may answer."""
    return {s: _doc(HTTPStatus(s).phrase) for s in statuses}


# Every authenticated route may answer these.
COMMON_RESPONSES = responses(401, 422, 503)

_DOMAIN_STATUS: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (AlreadyExists, 409),
    (Conflict, 409),
    (PermissionDenied, 403),
    (Unauthenticated, 401),
    (TooManyAttempts, 429),
]


def status_for(error: DomainError) -> int:
    for kind, status in _DOMAIN_STATUS:
        if isinstance(error, kind):
            return status
    return 409  # FAILED_PRECONDITION: the record is not in a state that allows it


def unauthenticated(detail: str) -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _field(loc: Sequence[int | str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def _request_problem(error: Mapping[str, Any]) -> FieldProblem:
    if error.get("type") == "json_invalid":  # its loc is a character offset, not a field
        reason = (error.get("ctx") or {}).get("error", "")
        return FieldProblem("body", f"the body is not valid JSON: {reason}".rstrip(": "))
    return FieldProblem(_field(error.get("loc", ())), str(error.get("msg", "is invalid")))


def _allowed_methods(request: Request) -> str:
    """Every method the API documents at this path: Starlette's 405 names only those of
    the first route that matched it (GET and POST of one path are two routes)."""
    matching = {
        template: {method.upper() for method in operations}
        for template, operations in request.app.openapi().get("paths", {}).items()
        if compile_path(template)[0].match(request.url.path)
    }
    # A literal path (`/rules/dry-run`) is not also the `{rule_id}` of its sibling.
    literal = {t: m for t, m in matching.items() if "{" not in t.rsplit("/", 1)[-1]}
    methods: set[str] = set().union(*(literal or matching).values())
    return ", ".join(sorted(methods))


def install(app: FastAPI, *, retry_after_seconds: int) -> None:
    """Register the handlers that turn every error into a problem answer."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        status = status_for(exc)
        problems = exc.problems
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        return problem_response(status, exc.message, errors=problems, headers=headers)

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable: %s", exc)
        return problem_response(
            503,
            f"a service is unavailable, retry later: {exc}",
            headers={"Retry-After": str(retry_after_seconds)},
        )

    async def on_temporal_rpc(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RPCError)
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return await on_unavailable(request, exc)
        return await on_unexpected(request, exc)

    async def on_request_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [_request_problem(e) for e in exc.errors()]
        return problem_response(422, "the request is not valid", errors=problems)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
            # Bytes that are not UTF-8, or a broken form: as malformed as bad JSON, and
            # answered the same way.
            problem = FieldProblem("body", "the body cannot be read: not UTF-8 JSON or a form")
            return problem_response(422, "the request is not valid", errors=[problem])
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem_response(exc.status_code, str(exc.detail), headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error",
            exc_info=exc,
            extra={"method": request.method, "path": request.url.path},
        )
        return problem_response(500, "internal error")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ServiceUnavailable, on_unavailable)
    app.add_exception_handler(RPCError, on_temporal_rpc)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)

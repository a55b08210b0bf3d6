"""Schemathesis hooks for the API sweep (`SCHEMATHESIS_HOOKS=tests.e2e.schemathesis_hooks`,
set by tests/e2e/test_schemathesis.py): a problem+json check for every error, a 503 with
Retry-After accepted as a dependency's answer, and the sweep's own account left alone."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure, ServerError

PROBLEM_JSON = "application/problem+json"
SWEEP_USER_ENV = "DEALFLOW_SWEEP_USER_ID"


@schemathesis.check
def errors_are_problems(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every 4xx and 5xx is RFC 9457 problem+json whose `status` is the answer's."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith(PROBLEM_JSON), (
        f"a {response.status_code} answered as {content_type!r}, not {PROBLEM_JSON}"
    )
    body = response.json()
    assert isinstance(body, dict) and body.get("status") == response.status_code, (
        f"the problem's status is not {response.status_code}: {body!r}"
    )
    return None


@schemathesis.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Failure,
    case: schemathesis.Case,
    response: schemathesis.Response,
) -> bool:
    """A 503 with Retry-After is a dependency that is busy under the sweep's load, not a
    client's mistake; `errors_are_problems` still holds it to problem+json."""
    busy = response.status_code == 503 and "retry-after" in response.headers
    return not (isinstance(failure, ServerError) and busy)


@schemathesis.hook
def filter_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> bool:
    """Never deactivate the sweep's own user or rewrite the admin role: the sweep would
    lose its access and test nothing after that. Other ids and roles are swept."""
    operation = context.operation
    if operation is None or not isinstance(path_parameters, dict):
        return True
    if operation.method.upper() == "PATCH" and operation.path == "/api/v1/users/{user_id}":
        return str(path_parameters.get("user_id")) != os.environ.get(SWEEP_USER_ENV)
    if operation.method.upper() == "PUT" and operation.path == "/api/v1/roles/{code}":
        return path_parameters.get("code") != "admin"
    return True

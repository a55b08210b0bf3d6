"""Domain errors shared by every service; one interceptor maps them to gRPC status codes."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base of the errors a client's request can cause (never a server fault)."""

    code = "domain_error"

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # what is wrong, field by field (a 409 may name the record it clashes with)
        self.problems: list[FieldProblem] = list(problems or [])


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: its name (dotted for nested ones) and what is wrong with it."""

    field: str
    message: str


class ValidationFailed(DomainError):
    code = "validation_failed"

    def __init__(self, problems: list[FieldProblem] | FieldProblem, message: str = "") -> None:
        found = problems if isinstance(problems, list) else [problems]
        super().__init__(message or "; ".join(f"{p.field}: {p.message}" for p in found), found)


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """A stale version or a duplicate: the request was valid but the state moved on."""

    code = "conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class PermissionDenied(DomainError):
    code = "permission_denied"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class TooManyAttempts(DomainError):
    """Refused for now (e.g. failed sign-ins over the limit); retry after a while."""

    code = "too_many_attempts"
    retry_after_seconds = 60


@dataclass
class ProblemDetails:
    """What crosses the wire in gRPC error details: a code and the field problems."""

    code: str
    message: str
    problems: list[FieldProblem] = field(default_factory=list)

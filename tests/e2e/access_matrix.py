"""The broken-access matrix's machinery: the gateway's operations read from its OpenAPI, the
table that says which kind of record each path parameter names, and minimal valid inputs
generated from the schemas, so a route added later is swept without a test of its own.

A path parameter the table does not know fails the matrix ("add it to the table"): the
table is the one place to say what a new route's id is the id of."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# "<collection>/{<parameter>}" -> the kind of record it names. Keyed by the segment before
# the parameter too, because `{code}` or `{spend_id}` name different things under
# different collections.
KINDS: dict[str, str] = {
    "users/{user_id}": "user",
    "departments/{department_id}": "department",
    "roles/{code}": "role",
    "pipelines/{pipeline_id}": "pipeline",
    "rules/{rule_id}": "rule",
    "deals/{deal_id}": "deal",
    "tasks/{task_id}": "task",
    "lists/{code}": "list",
    "items/{item_id}": "list_item",
    "api-tokens/{token_id}": "api_token",
    "approvals/{request_id}": "approval",
    "approval-templates/{code}": "approval_template",
    "contract-types/{code}": "contract_type",
    "contracts/{contract_id}": "contract",
    "files/{file_id}": "file",
    "invoices/{invoice_id}": "invoice",
    "payment-requests/{spend_id}": "payment_request",
    "expenses/{spend_id}": "expense",
    "contacts/{contact_id}": "contact",
    "companies/{company_id}": "company",
    "leads/{lead_id}": "lead",
    "exclusions/{exclusion_id}": "exclusion",
    "products/{product_id}": "product",
    "activities/{activity_id}": "activity",
    "reminder-plans/{plan_id}": "reminder_plan",
    "processes/{workflow_id}": "process_run",  # a `:path` parameter: `deal/12/sample-return/1`
    "processes/{lead_run_id}": "lead_process_run",  # `lead-7/lead-proposal/1`
    # A parameter inside a segment is keyed by the segment: `/contact-fields`, `/company-fields`.
    "{entity}-fields": "record_fields",
}
# Records of someone: one who may not see them gets 404 for anything that names them.
# The others are the configuration everyone works with (visible, changed by admins only).
PRIVATE = {
    "deal",
    "task",
    "approval",
    "contract",
    "invoice",
    "payment_request",
    "expense",
    "file",
    "api_token",
    "contact",
    "company",
    "lead",
    "process_run",  # a run of a deal's process is the deal's
    "lead_process_run",  # and a lead's the lead's
    "activity",  # an activity on a deal is the deal's
    "reminder_plan",  # and so is a plan on it
}
# Shared records without an owner that any role allowed to edit deals may change (a manager
# excludes a spammer's address): the outsider's change is allowed, the viewer's is not.
SHARED = {"exclusion"}
# A body or query field that names a record: filled with the hidden record's id.
FIELD_KINDS = {
    "deal_id": "deal",
    "contract_id": "contract",
    "invoice_id": "invoice",
    "file_id": "file",
    "task_id": "task",
    "request_id": "approval",
    "contact_id": "contact",
    "contact_ids": "contact",
    "company_id": "company",
    "lead_id": "lead",
}
# Query fields that name a person: filled with the hidden records' owner.
PERSON_FIELDS = {"responsible_id", "manager_id", "author_id", "assignee", "owner_id", "user_id"}
# Mutations any signed-in user may make on their own behalf.
OPEN_MUTATIONS = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/api-tokens"),
    ("PUT", "/api/v1/notification-preferences"),  # one's own channels and webhooks
    ("POST", "/api/v1/webhooks"),
    ("POST", "/api/v1/me/calendar-feed"),
    ("DELETE", "/api/v1/me/calendar-feed"),
}
# Records only their owner ever sees, whatever the caller's visibility.
OWNED_ONLY = {"api_token"}
# What the schema cannot say (a field the service requires, a process's params): merged
# into the generated body of the operation. A value "{kind}" is the id of the fixture's
# record of that kind (ids known only when the stack runs).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/contacts/{contact_id}/merge"): {"contact_id": "{other_contact}"},
    ("POST", "/api/v1/leads"): {"pipeline_id": "{lead_funnel}"},
    ("POST", "/api/v1/leads/{lead_id}/move"): {"stage_id": "{lead_stage}"},
    ("POST", "/api/v1/exclusions"): {"kind": "email", "value": "someone@example.com"},
    ("POST", "/api/v1/lead-capture"): {"email": "someone@example.com"},
    ("POST", "/api/v1/imports"): {"kind": "contacts", "mapping": '{"name": "name"}'},
    ("POST", "/api/v1/payment-requests"): {"counterparty": "Supplier"},
    ("POST", "/api/v1/leads/{lead_id}/processes"): {"process": "lead_proposal", "params": {}},
    ("POST", "/api/v1/deals/{deal_id}/processes"): {
        "process": "sample_return",
        "params": {"return_by": "2026-12-31"},
    },
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"\{([^}]+)\}")
_GIVEN = re.compile(r"\{([a-z_]+)\}")


class UnknownParameter(AssertionError):
    pass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template, e.g. /api/v1/deals/{deal_id}/move
    spec: dict[str, Any] = field(hash=False, compare=False)

    @property
    def kinds(self) -> list[tuple[str, str]]:
        """(parameter, kind) of each path parameter, outermost first."""
        out = []
        segments = self.path.strip("/").split("/")
        for i, segment in enumerate(segments):
            match = _PARAM.search(segment)
            if not match:
                continue
            key = f"{segments[i - 1]}/{segment}" if _PARAM.fullmatch(segment) else segment
            if key not in KINDS:
                raise UnknownParameter(
                    f"{self.method} {self.path}: the matrix does not know what {segment} "
                    f"names; add {key!r} to KINDS in tests/e2e/access_matrix.py (and build "
                    "such a record in the fixture)"
                )
            out.append((match.group(1), KINDS[key]))
        return out

    @property
    def kind(self) -> str | None:
        """The kind of the record the operation acts on (its innermost id)."""
        kinds = self.kinds
        return kinds[-1][1] if kinds else None

    @property
    def record_path(self) -> str:
        """The path of the record the operation acts on (up to its innermost parameter)."""
        segments = self.path.split("/")
        last = max(i for i, s in enumerate(segments) if _PARAM.search(s))
        return "/".join(segments[: last + 1])

    @property
    def collection_kind(self) -> str | None:
        """For a list (`GET /deals`), the kind of its items, when the table knows it."""
        last = self.path.rstrip("/").rsplit("/", 1)[-1]
        return next((k for key, k in KINDS.items() if key.split("/")[0] == last), None)

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING

    @property
    def open(self) -> bool:
        return (self.method, self.path) in OPEN_MUTATIONS

    def url(self, ids: dict[str, str]) -> str:
        path = self.path
        for name, kind in self.kinds:
            path = path.replace("{" + name + "}", ids[kind], 1)
        return path.removeprefix("/api/v1")

    @property
    def form(self) -> bool:
        return "multipart/form-data" in self.spec.get("requestBody", {}).get("content", {})


def operations(spec: dict[str, Any]) -> list[Operation]:
    """Every operation under /api/v1 of the gateway's OpenAPI document."""
    out = []
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in item.items():
            if method.upper() in {"GET", *MUTATING}:
                out.append(Operation(method.upper(), path, op))
    return sorted(out, key=lambda o: (o.path, o.method))


class Inputs:
    """Minimal valid inputs from the schemas; fields that name records get the ids given."""

    def __init__(self, spec: dict[str, Any], ids: dict[str, str], owner_id: str) -> None:
        self.spec = spec
        self.ids = ids
        self.owner_id = owner_id

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec["components"]["schemas"][name]
        return schema

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self.resolve(schema)
        if name in FIELD_KINDS and FIELD_KINDS[name] in self.ids:
            return self.named(schema, name)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if self.resolve(s).get("type") != "null"]
                return self.value(options[0], name) if options else None
        if "allOf" in schema:
            return self.value(schema["allOf"][0], name)
        if "examples" in schema:
            return schema["examples"][0]
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        return self._typed(schema, name)

    def named(self, schema: dict[str, Any], name: str) -> Any:
        """The fixture's record for a field that names one (in a list for a list field)."""
        found = int(self.ids[FIELD_KINDS[name]])
        return [found] if self.resolve(schema).get("type") == "array" else found

    def _typed(self, schema: dict[str, Any], name: str) -> Any:
        match schema.get("type"):
            case "object":
                props = schema.get("properties", {})
                return {k: self.value(props[k], k) for k in schema.get("required", [])}
            case "array":
                count = schema.get("minItems", 0)
                return [self.value(schema.get("items", {}), name) for _ in range(count)]
            case "integer" | "number":
                return max(1, int(schema.get("minimum", 1)))
            case "boolean":
                return False
            case _:
                return _string(schema)

    def body(self, op: Operation) -> Any:
        content = op.spec.get("requestBody", {}).get("content", {})
        for media in ("application/json", "multipart/form-data"):
            if media in content:
                body = self.value(content[media].get("schema", {}))
                if isinstance(body, dict):
                    props = self.resolve(content[media]["schema"]).get("properties", {})
                    for key in props:  # optional fields that name records are filled too
                        if key in FIELD_KINDS and FIELD_KINDS[key] in self.ids:
                            body[key] = self.named(props[key], key)
                    for key, given in BODIES.get((op.method, op.path), {}).items():
                        body[key] = self._given(given)
                return body
        return None

    def _given(self, value: Any) -> Any:
        if isinstance(value, str) and _GIVEN.fullmatch(value):
            return int(self.ids[value[1:-1]])
        return value

    def query(self, op: Operation, *, everything: bool) -> dict[str, str]:
        """Required query parameters, and (`everything`) the ones naming records or people."""
        out = {}
        for param in op.spec.get("parameters", []):
            if param["in"] != "query":
                continue
            name = param["name"]
            if name in FIELD_KINDS and FIELD_KINDS[name] in self.ids:
                out[name] = self.ids[FIELD_KINDS[name]]
            elif name in PERSON_FIELDS and everything:
                out[name] = self.owner_id
            elif param.get("required"):
                out[name] = str(self.value(param.get("schema", {}), name))
        return out


def _string(schema: dict[str, Any]) -> str:
    match schema.get("format"):
        case "date":
            return "2026-12-01"
        case "date-time":
            return "2026-12-01T10:00:00Z"
        case "email":
            return "someone@example.com"
    pattern = schema.get("pattern", "")
    if "\\d" in pattern:
        return "1"
    if "A-Z" in pattern:
        return "RUB"
    return "x" * max(1, schema.get("minLength", 1))


def ids_in(body: Any) -> set[str]:
    """The ids of the items of a list answer (a page or a bare list)."""
    items = body.get("items", []) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return set()
    return {str(i.get("id")) for i in items if isinstance(i, dict) and "id" in i}

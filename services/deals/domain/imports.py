"""CSV imports of contacts, companies, leads and deals: which columns go where, and one
row's values checked and shaped for its record. Plain rules; the service stores them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.contacts import (
    company_values,
    contact_draft,
    normalize_email,
    normalize_phone,
)
from services.deals.domain.pipelines import FIELD_CODE, MAX_NAME

KINDS = ("contacts", "companies", "leads", "deals")
MAX_ROWS = 100_000
_SPLIT = re.compile(r"[,;\n]")
_COMMON = {"external_id", "responsible"}  # responsible: a user's e-mail
TARGETS: dict[str, frozenset[str]] = {
    "contacts": frozenset({"name", "emails", "phones", "position", "company", *_COMMON}),
    "companies": frozenset({"name", "inn", "ogrn", "kpp", "address", *_COMMON}),
    "leads": frozenset(
        {"title", "source", "stage", "contact_name", "email", "phone", "company", *_COMMON}
    ),
    "deals": frozenset(
        {"title", "stage", "amount", "currency", "company_name", "contact_name", *_COMMON}
    ),
}
REQUIRED = {"contacts": "name", "companies": "name", "leads": "title", "deals": "title"}


@dataclass(frozen=True)
class Row:
    """One line of the file (its number counts the header as line 1) and its cells."""

    number: int
    values: dict[str, str]


@dataclass
class Shaped:
    """What a row holds, by target: attributes, custom field values, the external id, and
    what is wrong with it."""

    number: int
    external_id: str
    attrs: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldProblem] = field(default_factory=list)


def check_mapping(kind: str, mapping: dict[str, str]) -> None:
    """`mapping` is column → target (an attribute of the kind, or `fields.<code>`)."""
    problems: list[FieldProblem] = []
    if kind not in KINDS:
        raise ValidationFailed(FieldProblem("kind", "must be one of " + ", ".join(KINDS)))
    targets = list(mapping.values())
    for column, target in mapping.items():
        code = target.removeprefix("fields.")
        if target.startswith("fields."):
            if not FIELD_CODE.match(code):
                problems.append(FieldProblem(f"mapping.{column}", "is not a field code"))
        elif target not in TARGETS[kind]:
            allowed = ", ".join(sorted(TARGETS[kind]))
            problems.append(
                FieldProblem(f"mapping.{column}", f"must be fields.<code> or one of {allowed}")
            )
    for target in {t for t in targets if targets.count(t) > 1}:
        problems.append(FieldProblem("mapping", f"two columns go to {target}"))
    if REQUIRED[kind] not in targets:
        problems.append(FieldProblem("mapping", f"no column goes to {REQUIRED[kind]}"))
    if problems:
        raise ValidationFailed(problems)


def shape(kind: str, mapping: dict[str, str], row: Row) -> Shaped:
    """The row's values by target; its problems named `rows[<line>].<column>`."""
    cells = {
        target: row.values.get(column, "").strip()
        for column, target in mapping.items()
        if row.values.get(column, "").strip()
    }
    out = Shaped(row.number, cells.pop("external_id", "")[:200])
    out.fields = {t.removeprefix("fields."): v for t, v in cells.items() if t.startswith("fields.")}
    attrs = {t: v for t, v in cells.items() if not t.startswith("fields.")}
    column_of = {t: c for c, t in mapping.items()}

    def problem(target: str, message: str) -> None:
        out.problems.append(
            FieldProblem(f"rows[{row.number}].{column_of.get(target, target)}", message)
        )

    try:
        match kind:
            case "contacts":
                draft = contact_draft(
                    name=attrs.get("name", ""),
                    emails=_split(attrs.get("emails", "")),
                    phones=_split(attrs.get("phones", "")),
                    company_id=None,
                    position=attrs.get("position", ""),
                    fields={},
                )
                out.attrs = {**draft.__dict__, "company": attrs.get("company", "")}
                out.attrs.pop("fields")
            case "companies":
                ids: dict[str, str] = {k: attrs[k] for k in ("inn", "ogrn", "kpp") if k in attrs}
                address = [attrs["address"]] if "address" in attrs else []
                values = company_values(
                    name=attrs.get("name", ""), registration_ids=ids, addresses=address, fields={}
                )
                values.pop("fields")
                out.attrs = values
            case "leads" | "deals":
                out.attrs = dict(attrs)
                for name in ("title", "source", "contact_name", "company_name", "company"):
                    if len(attrs.get(name, "")) > MAX_NAME:
                        problem(name, f"must be at most {MAX_NAME} characters")
                if not attrs.get("title"):
                    problem("title", "is required")
                if "email" in attrs:
                    out.attrs["email"] = normalize_email(attrs["email"])
                    if not out.attrs["email"]:
                        problem("email", "is not a valid e-mail")
                if "phone" in attrs:
                    out.attrs["phone"] = normalize_phone(attrs["phone"])
                    if not out.attrs["phone"]:
                        problem("phone", "is not a valid phone")
    except ValidationFailed as exc:
        for p in exc.problems:
            target = p.field.split("[", 1)[0]
            problem(target, p.message)
    return out


def _split(value: str) -> list[str]:
    return [v.strip() for v in _SPLIT.split(value) if v.strip()]

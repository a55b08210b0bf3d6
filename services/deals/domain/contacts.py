"""Contacts and companies: normalised e-mails and phones (so that search, duplicate detection
and the exclusion list compare like with like), validation, and the merge of two contacts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.pipelines import FIELD_CODE, MAX_NAME

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ADDRESSES = 20


def normalize_email(value: str) -> str:
    """`  Anna@Example.COM ` → `anna@example.com`; '' when it is not an address."""
    email = value.strip().lower()
    return email if _EMAIL.match(email) else ""


def normalize_phone(value: str) -> str:
    """Digits with a leading `+`: a Russian number in any of its spellings (`8 (912)
    345-67-89`, `+7 912 345 67 89`, `9123456789`) becomes `+79123456789`; '' when it has
    too few digits to be a number."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] == "8" and not value.strip().startswith("+"):
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    return "+" + digits if 7 <= len(digits) <= 15 else ""


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1] if "@" in email else ""


def _addresses(
    values: list[str], name: str, normalize: Any, problems: list[FieldProblem]
) -> tuple[str, ...]:
    if len(values) > MAX_ADDRESSES:
        problems.append(FieldProblem(name, f"at most {MAX_ADDRESSES}"))
        return ()
    clean: list[str] = []
    for i, raw in enumerate(values):
        value = normalize(raw)
        if not value:
            problems.append(FieldProblem(f"{name}[{i}]", f"is not a valid {name[:-1]}"))
        elif value not in clean:
            clean.append(value)
    return tuple(clean)


def clean_name(name: str, problems: list[FieldProblem]) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        problems.append(FieldProblem("name", f"must be 1 to {MAX_NAME} characters"))
    return name


def clean_fields(fields: dict[str, Any], problems: list[FieldProblem]) -> dict[str, Any]:
    """Custom values by field code (contacts and companies have no field definitions yet:
    any JSON value under a valid code; null clears one)."""
    for code in fields:
        if not FIELD_CODE.match(code):
            problems.append(FieldProblem(f"fields.{code}", "must match ^[a-z][a-z0-9_]{0,62}$"))
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class Contact:
    id: int
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    company_id: int | None
    position: str
    responsible_id: int
    fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None = None

    def attributes(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "emails": list(self.emails),
            "phones": list(self.phones),
            "company_id": None if self.company_id is None else str(self.company_id),
            "position": self.position,
            "responsible_id": str(self.responsible_id),
            "fields": dict(self.fields),
        }


@dataclass(frozen=True)
class ContactDraft:
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    company_id: int | None
    position: str
    fields: dict[str, Any] = field(default_factory=dict)


def contact_draft(
    *,
    name: str,
    emails: list[str],
    phones: list[str],
    company_id: int | None,
    position: str,
    fields: dict[str, Any],
) -> ContactDraft:
    """A valid contact to store, or every problem with it."""
    problems: list[FieldProblem] = []
    clean = clean_name(name, problems)
    draft = ContactDraft(
        name=clean,
        emails=_addresses(emails, "emails", normalize_email, problems),
        phones=_addresses(phones, "phones", normalize_phone, problems),
        company_id=company_id,
        position=position.strip(),
        fields=clean_fields(fields, problems),
    )
    if len(draft.position) > MAX_NAME:
        problems.append(FieldProblem("position", f"must be at most {MAX_NAME} characters"))
    if problems:
        raise ValidationFailed(problems)
    return draft


def merged(keep: Contact, gone: Contact) -> dict[str, Any]:
    """What `keep` holds after absorbing `gone`: every address of both (keep's first), the
    company and position where keep has none, custom fields where keep has no value."""
    return {
        "emails": tuple(dict.fromkeys(keep.emails + gone.emails)),
        "phones": tuple(dict.fromkeys(keep.phones + gone.phones)),
        "company_id": keep.company_id if keep.company_id is not None else gone.company_id,
        "position": keep.position or gone.position,
        "fields": {**gone.fields, **keep.fields},
    }


@dataclass
class Company:
    id: int
    name: str
    registration_ids: dict[str, str]
    addresses: tuple[str, ...]
    responsible_id: int
    fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


_REG_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def company_values(
    *, name: str, registration_ids: dict[str, str], addresses: list[str], fields: dict[str, Any]
) -> dict[str, Any]:
    problems: list[FieldProblem] = []
    clean = clean_name(name, problems)
    ids: dict[str, str] = {}
    for key, value in registration_ids.items():
        if not _REG_KEY.match(key):
            problems.append(FieldProblem(f"registration_ids.{key}", "must be a short lower code"))
        elif not str(value).strip() or len(str(value)) > 50:
            problems.append(FieldProblem(f"registration_ids.{key}", "must be 1 to 50 characters"))
        else:
            ids[key] = str(value).strip()
    kept = tuple(a.strip() for a in addresses if a.strip())
    if len(kept) > MAX_ADDRESSES:
        problems.append(FieldProblem("addresses", f"at most {MAX_ADDRESSES}"))
    values = clean_fields(fields, problems)
    if problems:
        raise ValidationFailed(problems)
    return {"name": clean, "registration_ids": ids, "addresses": kept, "fields": values}

"""The exclusion list: e-mails, phones and mail domains nothing may come in from (spam)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.common.errors import FieldProblem, ValidationFailed
from services.deals.domain.contacts import email_domain, normalize_email, normalize_phone

KINDS = ("email", "phone", "domain")
_DOMAIN = re.compile(r"^(?=.{3,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class Exclusion:
    id: int
    kind: str
    value: str
    reason: str
    lead_id: int | None
    actor_id: int | None
    created_at: datetime


def exclusion_value(kind: str, value: str) -> str:
    """The normalised value to keep, or a problem naming `kind` or `value`."""
    if kind not in KINDS:
        raise ValidationFailed(FieldProblem("kind", "must be one of " + ", ".join(KINDS)))
    match kind:
        case "email":
            clean = normalize_email(value)
        case "phone":
            clean = normalize_phone(value)
        case _:
            clean = value.strip().lower().lstrip("@")
            clean = clean if _DOMAIN.match(clean) else ""
    if not clean:
        raise ValidationFailed(FieldProblem("value", f"is not a valid {kind}"))
    return clean


def keys_of(*, emails: tuple[str, ...] = (), phones: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The (kind, value) pairs an exclusion could match for these addresses (normalised)."""
    keys = [("email", e) for e in emails] + [("phone", p) for p in phones]
    keys += [("domain", d) for d in dict.fromkeys(email_domain(e) for e in emails) if d]
    return keys

"""The plain attributes of a deal: title, responsible, amount and currency, names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from process_rules.field_values import BadValue, decimal_of
from services.common.errors import FieldProblem, ValidationFailed

DEFAULT_CURRENCY = "RUB"
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_TITLE = 500
MAX_NAME = 300
# Attributes UpdateDeal may set (custom fields travel separately, in `fields`).
SETTABLE = ("title", "responsible_id", "amount", "currency", "company_name", "contact_name")


def clean_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalize deal attributes (title, responsible_id, amount, ...)."""
    return clean_each(values, _attribute)


def clean_each(
    values: Mapping[str, Any],
    check: Callable[[str, Any], Any],
    problems: Sequence[FieldProblem] = (),
) -> dict[str, Any]:
    """Each value as `check(name, raw)` makes it; ValidationFailed naming every BadValue
    (with `problems` found before)."""
    found = list(problems)
    clean: dict[str, Any] = {}
    for name, raw in values.items():
        try:
            clean[name] = check(name, raw)
        except BadValue as exc:
            found.append(FieldProblem(name, str(exc)))
    if found:
        raise ValidationFailed(found)
    return clean


def _attribute(name: str, raw: Any) -> Any:
    match name:
        case "title":
            title = str(raw).strip()
            if not title or len(title) > MAX_TITLE:
                raise BadValue(f"must be 1 to {MAX_TITLE} characters")
            return title
        case "amount":
            if raw in (None, ""):
                return None
            amount = decimal_of(raw)
            if amount < 0:
                raise BadValue("must not be negative")
            return amount
        case "currency":
            currency = str(raw or DEFAULT_CURRENCY).strip().upper()
            if not _CURRENCY.match(currency):
                raise BadValue("must be an ISO 4217 code of three letters")
            return currency
        case "company_name" | "contact_name":
            text = str(raw).strip()
            if len(text) > MAX_NAME:
                raise BadValue(f"must be at most {MAX_NAME} characters")
            return text
        case "responsible_id":
            if not isinstance(raw, int) or raw <= 0:
                raise BadValue("must be a user id")
            return raw
    raise BadValue("cannot be set")

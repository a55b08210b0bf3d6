"""Amounts and currencies as they enter the system: exact decimal strings, never floats."""

from __future__ import annotations

import re
from decimal import Decimal

from services.common.errors import FieldProblem, ValidationFailed

_AMOUNT = re.compile(r"^-?(0|[1-9]\d{0,14})(\.\d{1,3})?$")
_QUANTITY = re.compile(r"^(0|[1-9]\d{0,11})(\.\d{1,3})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# ISO 4217 minor units where they differ from 2. Currencies with 3 decimals (KWD, BHD...)
# do not fit the numeric(18, 2) columns and are refused rather than rounded.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
MAX_ABS = Decimal("9999999999999999.99")  # numeric(18, 2)


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def check_currency(value: str, field: str = "currency") -> str:
    """An ISO 4217 code in capitals whose minor units the registries can hold."""
    if not _CURRENCY.match(value):
        raise ValidationFailed(FieldProblem(field, "must be an ISO 4217 code such as RUB"))
    if minor_units(value) > 2:
        raise ValidationFailed(FieldProblem(field, f"{value} (3 decimal places) is not supported"))
    return value


def parse_amount(
    value: str, currency: str, field: str = "amount", *, negative: bool = False
) -> Decimal:
    """A positive amount (or, with `negative`, a non-zero one) with at most the currency's
    decimal places; floats, exponents, signs other than a leading minus are refused."""
    if not isinstance(value, str) or not _AMOUNT.match(value):
        raise ValidationFailed(
            FieldProblem(field, "must be a decimal string such as 1500.00 (no exponent)")
        )
    amount = Decimal(value)
    places = minor_units(currency)
    if -amount.as_tuple().exponent > places:  # type: ignore[operator]
        raise ValidationFailed(
            FieldProblem(field, f"has more than {places} decimal places for {currency}")
        )
    if amount == 0 or (amount < 0 and not negative):
        raise ValidationFailed(FieldProblem(field, "must be greater than zero"))
    if abs(amount) > MAX_ABS:
        raise ValidationFailed(FieldProblem(field, "is too large"))
    return amount.quantize(Decimal(1).scaleb(-places))


def parse_quantity(value: str, field: str = "quantity") -> Decimal:
    """A positive quantity with at most 3 decimal places (kilograms, metres, pieces)."""
    if not isinstance(value, str) or not _QUANTITY.match(value) or Decimal(value) == 0:
        raise ValidationFailed(FieldProblem(field, "must be a positive decimal string such as 2"))
    return Decimal(value)


def money_str(value: Decimal, currency: str) -> str:
    """The canonical string of an amount: the currency's decimal places, no exponent."""
    return f"{value.quantize(Decimal(1).scaleb(-minor_units(currency))):f}"

"""Computed fields: a formula over the number and money fields of a deal, parsed (never
`eval`ed) and computed exactly in Decimal.

    income_estimate - cost_estimate
    round(profit / income_estimate * 100, 2)
    max(0, amount - cost_estimate)

Operators `+ - * /`, unary minus, parentheses, `round(x)` / `round(x, digits)`,
`min(...)`, `max(...)`; names are field codes of the pipeline (or `amount`). An empty
operand, or a division by zero, makes the result empty. Checked when the field is saved:
an unknown or non-numeric field, a cycle between computed fields, or money of two
currencies is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from services.common.errors import FieldProblem

MAX_FORMULA = 500
_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([a-z][a-z0-9_]*)|(.))")
NUMERIC = frozenset({"number", "money"})
FUNCTIONS = frozenset({"round", "min", "max"})


class FormulaError(ValueError):
    pass


@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Name:
    code: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Num | Name | Neg | BinOp | Call


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - the last group takes any character
            raise FormulaError("cannot be read")
        token = match.group(1) or match.group(2) or match.group(3)
        if match.group(3) and token not in "+-*/(),":
            raise FormulaError(f"has an unknown character {token!r}")
        found.append(token)
        position = match.end()
    return found


class _Parser:
    """expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
    unary := '-' unary | atom ; atom := number | name | name '(' args ')' | '(' expr ')'"""

    def __init__(self, tokens: list[str]) -> None:
        self._tokens, self._at = tokens, 0

    def _peek(self) -> str:
        return self._tokens[self._at] if self._at < len(self._tokens) else ""

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if not token or (expected is not None and token != expected):
            raise FormulaError(f"expected {expected or 'more'} at token {self._at + 1}")
        self._at += 1
        return token

    def parse(self) -> Node:
        node = self._expr()
        if self._peek():
            raise FormulaError(f"has {self._peek()!r} where the formula should end")
        return node

    def _expr(self) -> Node:
        node = self._term()
        while self._peek() in ("+", "-"):
            op = self._take()
            node = BinOp(op, node, self._term())
        return node

    def _term(self) -> Node:
        node = self._unary()
        while self._peek() in ("*", "/"):
            op = self._take()
            node = BinOp(op, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._peek() == "-":
            self._take()
            return Neg(self._unary())
        return self._atom()

    def _atom(self) -> Node:
        token = self._take()
        if token == "(":
            node = self._expr()
            self._take(")")
            return node
        if token[0].isdigit():
            return Num(Decimal(token))
        if not token[0].isalpha():
            raise FormulaError(f"has {token!r} where a value should be")
        if self._peek() != "(":
            return Name(token)
        if token not in FUNCTIONS:
            raise FormulaError(f"has an unknown function {token}")
        self._take("(")
        args = [self._expr()]
        while self._peek() == ",":
            self._take()
            args.append(self._expr())
        self._take(")")
        if token == "round" and len(args) > 2:
            raise FormulaError("round takes a value and the number of digits")
        return Call(token, tuple(args))


def parse(text: str) -> Node:
    """The formula's tree, or FormulaError saying what is wrong."""
    if not text.strip() or len(text) > MAX_FORMULA:
        raise FormulaError(f"must be 1 to {MAX_FORMULA} characters")
    return _Parser(_tokens(text)).parse()


def names(node: Node) -> set[str]:
    match node:
        case Name(code):
            return {code}
        case Neg(operand):
            return names(operand)
        case BinOp(_, left, right):
            return names(left) | names(right)
        case Call(_, args):
            return set().union(*(names(a) for a in args))
    return set()


def evaluate(node: Node, values: Mapping[str, Any]) -> Decimal | None:
    """The exact value; None when an operand is empty or a divisor is zero."""
    match node:
        case Num(value):
            return value
        case Name(code):
            return _decimal(values.get(code))
        case Neg(operand):
            inner = evaluate(operand, values)
            return None if inner is None else -inner
        case BinOp(op, left, right):
            a, b = evaluate(left, values), evaluate(right, values)
            if a is None or b is None:
                return None
            if op == "/":
                return None if b == 0 else a / b
            return a + b if op == "+" else a - b if op == "-" else a * b
        case Call(function, args):
            found = [evaluate(a, values) for a in args]
            if any(v is None for v in found):
                return None
            present = [v for v in found if v is not None]
            if function == "min":
                return min(present)
            if function == "max":
                return max(present)
            digits = int(present[1]) if len(present) > 1 else 0
            return present[0].quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class Operand:
    """What a formula may name: a field's type, its formula ('' when entered) and, for
    money, its currency ('' = the deal's)."""

    type: str
    formula: str = ""
    currency: str = ""


def check_formula(code: str, formula: str, fields: Mapping[str, Operand]) -> list[FieldProblem]:
    """Problems of `code`'s formula among the pipeline's `fields` (with `code` itself)."""
    try:
        tree = parse(formula)
    except FormulaError as exc:
        return [FieldProblem("formula", str(exc))]
    problems = []
    for name in sorted(names(tree)):
        operand = fields.get(name)
        if operand is None:
            problems.append(FieldProblem("formula", f"{name} is not a field of the pipeline"))
        elif operand.type not in NUMERIC:
            problems.append(FieldProblem("formula", f"{name} is not a number or money field"))
    if problems:
        return problems
    if _cycle(code, fields):
        return [FieldProblem("formula", f"{code} would depend on itself")]
    currencies = {
        fields[n].currency or "the deal's currency"
        for n in names(tree)
        if fields[n].type == "money"
    }
    if len(currencies) > 1:
        mixed = " and ".join(sorted(currencies))
        return [FieldProblem("formula", f"mixes money of two currencies: {mixed}")]
    return []


def _cycle(start: str, fields: Mapping[str, Operand]) -> bool:
    """Whether following the formulas from `start` comes back to it."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        code = stack.pop()
        operand = fields.get(code)
        if operand is None or not operand.formula:
            continue
        for name in names(parse(operand.formula)):
            if name == start:
                return True
            if name not in seen:
                seen.add(name)
                stack.append(name)
    return False


def computed_order(formulas: Mapping[str, str]) -> list[str]:
    """The computed fields in an order where each comes after those it reads."""
    ordered: list[str] = []
    done: set[str] = set()

    def visit(code: str, path: frozenset[str]) -> None:
        if code in done or code in path:
            return
        for name in names(parse(formulas[code])):
            if name in formulas:
                visit(name, path | {code})
        done.add(code)
        ordered.append(code)

    for code in sorted(formulas):
        visit(code, frozenset())
    return ordered


def recompute(formulas: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """Every computed field's value from `values` (computed ones feed those after them)."""
    known = dict(values)
    results: dict[str, Decimal | None] = {}
    for code in computed_order(formulas):
        results[code] = known[code] = evaluate(parse(formulas[code]), known)
    return results

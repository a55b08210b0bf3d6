"""What a task's answer needs: its fields and the outcomes that need a comment.

Plain data and rules, no I/O. The spec is announced with the task so a front end can build
the answer form without knowing the process; the process's own validator checks the
answer against the same spec (workflows/activities/types.py `AnswerField`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldProblem

FIELD_TYPES = ("string", "text", "date", "number", "boolean", "list", "file", "files")
MAX_NAME = 100
MAX_LABEL = 500


@dataclass(frozen=True)
class AnswerField:
    """A field of an answer's data: `data[name]`."""

    name: str
    type: str = "string"
    required: bool = True
    options: tuple[str, ...] = ()
    required_for: tuple[str, ...] = ()
    label: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "options": list(self.options),
            "required_for": list(self.required_for),
            "label": self.label,
        }

    @classmethod
    def of(cls, value: dict[str, Any]) -> AnswerField:
        return cls(
            name=value["name"],
            type=value.get("type", "string"),
            required=bool(value.get("required", True)),
            options=tuple(value.get("options", ())),
            required_for=tuple(value.get("required_for", ())),
            label=value.get("label", ""),
        )


def answer_problems(
    fields: Sequence[AnswerField], comment_outcomes: Sequence[str], outcomes: Sequence[str]
) -> list[FieldProblem]:
    """Every problem of an answer spec, each naming its field (`answer_fields[1].type`)."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        at = f"answer_fields[{i}]"
        name = f.name.strip()
        if not name:
            problems.append(FieldProblem(f"{at}.name", "must not be empty"))
        elif len(name) > MAX_NAME:
            problems.append(FieldProblem(f"{at}.name", f"must be at most {MAX_NAME} characters"))
        elif name in seen:
            problems.append(FieldProblem(f"{at}.name", f"repeats the field {name!r}"))
        seen.add(name)
        if f.type not in FIELD_TYPES:
            allowed = ", ".join(FIELD_TYPES)
            problems.append(FieldProblem(f"{at}.type", f"must be one of: {allowed}"))
        if len(f.label) > MAX_LABEL:
            problems.append(FieldProblem(f"{at}.label", f"must be at most {MAX_LABEL} characters"))
        for j, option in enumerate(f.options):
            if not option.strip():
                problems.append(FieldProblem(f"{at}.options[{j}]", "must not be empty"))
        problems += _among_outcomes(f.required_for, outcomes, f"{at}.required_for")
    problems += _among_outcomes(comment_outcomes, outcomes, "comment_outcomes")
    return problems


def _among_outcomes(names: Sequence[str], outcomes: Sequence[str], at: str) -> list[FieldProblem]:
    allowed = ", ".join(outcomes) or "(the task has none)"
    return [
        FieldProblem(f"{at}[{i}]", f"must be one of the task's outcomes: {allowed}")
        for i, name in enumerate(names)
        if name not in outcomes
    ]

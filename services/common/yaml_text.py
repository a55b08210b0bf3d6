"""YAML files people write (an org structure, a blueprint): parsed safely, a syntax error
reported with its line."""

from __future__ import annotations

from typing import Any

import yaml

from services.common.errors import FieldProblem, ValidationFailed


def load_yaml(text: str) -> Any:
    """The data in `text`; ValidationFailed at `line N` when it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        reason = getattr(exc, "problem", None) or str(exc)
        raise ValidationFailed(FieldProblem(where, f"not valid YAML: {reason}")) from exc
    except RecursionError:
        raise ValidationFailed(FieldProblem("file", "nested too deeply")) from None

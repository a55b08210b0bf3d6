"""The pieces of a plan: a change, the order changes apply in, and whether what is there
already is what a blueprint asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.blueprints.document import Doc

# The order changes are applied in: what a later part refers to exists by then.
CALENDAR, ROLES, DEPARTMENTS, USERS, ORG_LINKS, LISTS, LIST_ITEMS = 1, 2, 3, 4, 5, 6, 7
PIPELINES, STAGES, FIELDS, RULES, TEMPLATES, CONTRACT_TYPES = 8, 9, 10, 11, 12, 13


@dataclass
class Change:
    phase: int
    action: str  # create | update
    kind: str
    place: str
    name: str
    item: Doc = field(default_factory=dict)  # the blueprint's part, in names
    target: str = ""  # the existing record's id (an update), or the pipeline's name
    detail: str = ""

    def public(self) -> dict[str, str]:
        out = {"action": self.action, "kind": self.kind, "place": self.place, "name": self.name}
        if self.detail:
            out["detail"] = self.detail
        return out


def covers(current: Any, wanted: Any) -> bool:
    """Whether `current` already is what `wanted` asks (keys `wanted` leaves out are the
    service's defaults and do not count)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            covers(current.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(covers(c, w) for c, w in zip(current, wanted, strict=True))
        )
    if isinstance(wanted, bool) or isinstance(current, bool):
        return current is wanted or (current is None and wanted is False)
    if isinstance(wanted, int | float) and isinstance(current, int | float):
        return float(wanted) == float(current)
    return bool(current == wanted) or (current is None and wanted in ("", []))

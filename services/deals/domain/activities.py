"""Activities: a call, an e-mail or a meeting on a deal, a lead or a contact, planned (a
due time, an assignee) or done (when, the outcome and notes). A done one is a touch of the
client: on a deal it fires the automation rules' `activity_logged` trigger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.errors import FieldProblem, ValidationFailed

KINDS = ("call", "email", "meeting")
PLANNED, DONE = "planned", "done"
STATUSES = (PLANNED, DONE)
TEXT_LIMIT = 10_000


@dataclass(frozen=True)
class Activity:
    id: int
    kind: str
    status: str
    deal_id: int | None
    lead_id: int | None
    contact_id: int | None
    assignee_id: int
    due_at: datetime | None
    done_at: datetime | None
    subject: str
    outcome: str
    notes: str
    plan_id: int | None
    created_by: int | None
    created_at: datetime

    @property
    def record(self) -> tuple[str, int]:
        """("deal" | "lead" | "contact", its id)."""
        for name, value in (("deal", self.deal_id), ("lead", self.lead_id)):
            if value is not None:
                return name, value
        assert self.contact_id is not None
        return "contact", self.contact_id


def check_new(
    *, kind: str, status: str, due_at: datetime | None, subject: str, outcome: str, notes: str
) -> None:
    """Every problem of a new activity at once, named by field."""
    problems: list[FieldProblem] = []
    if kind not in KINDS:
        problems.append(FieldProblem("kind", f"must be one of {', '.join(KINDS)}"))
    if status not in STATUSES:
        problems.append(FieldProblem("status", "must be planned or done"))
    if status == PLANNED and due_at is None:
        problems.append(FieldProblem("due_at", "a planned activity needs a due time"))
    for name, text in (("subject", subject), ("outcome", outcome), ("notes", notes)):
        if len(text) > TEXT_LIMIT:
            problems.append(FieldProblem(name, f"at most {TEXT_LIMIT} characters"))
    if problems:
        raise ValidationFailed(problems)


def timeline_text(activity: Activity) -> str:
    """What the record's timeline says of the activity."""
    parts = [activity.subject, activity.outcome, activity.notes]
    said = " — ".join(p for p in parts if p)
    return said or activity.kind


def timeline_kind(activity: Activity) -> str:
    """A done activity is the timeline entry of its kind (`call`, what the `activity_logged`
    rules fire on); a planned one is `activity_planned`."""
    return activity.kind if activity.status == DONE else "activity_planned"

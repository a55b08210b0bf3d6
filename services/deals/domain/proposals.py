"""SM-1's proposals report: what the proposal follow-up's timeline entries add up to, per
manager and period. A proposal is one run of the process (its workflow id); the entries
carry the manager the proposal was the responsibility of when it happened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from services.common.errors import FieldProblem, ValidationFailed

SENT, AGREED, REFUSED = "proposal.sent", "proposal.agreed", "proposal.refused"
KINDS = (SENT, AGREED, REFUSED)
MAX_DAYS = 366 * 5


@dataclass(frozen=True)
class ProposalEntry:
    proposal: str  # the run's workflow id
    deal_id: int
    kind: str  # one of KINDS
    manager_id: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class Refusal:
    deal_id: int
    reason: str
    at: datetime


@dataclass
class ProposalRow:
    manager_id: str
    sent: int = 0
    agreed: int = 0
    refused: int = 0
    pending: int = 0
    refusals: list[Refusal] = field(default_factory=list)


def period(date_from: str, date_to: str) -> tuple[datetime, datetime]:
    """The period's bounds as UTC times [start, end); ValidationFailed naming the field."""
    problems: list[FieldProblem] = []
    days: dict[str, date] = {}
    for name, value in (("from", date_from), ("to", date_to)):
        try:
            days[name] = date.fromisoformat(value)
        except ValueError:
            problems.append(FieldProblem(name, f"must be a date (YYYY-MM-DD), got {value!r}"))
    if not problems and days["to"] < days["from"]:
        problems.append(FieldProblem("to", "must not be before from"))
    elif not problems and (days["to"] - days["from"]).days > MAX_DAYS:
        problems.append(FieldProblem("to", f"the period may span at most {MAX_DAYS} days"))
    if problems:
        raise ValidationFailed(problems)
    start = datetime.combine(days["from"], time(), UTC)
    if days["to"] == date.max:
        return start, datetime.max.replace(tzinfo=UTC)
    return start, datetime.combine(days["to"] + timedelta(days=1), time(), UTC)


def proposal_report(entries: Iterable[ProposalEntry]) -> list[ProposalRow]:
    """One row per manager (by id) from the period's entries: each counted by its own time;
    a proposal sent in the period without an outcome in it is pending."""
    rows: dict[str, ProposalRow] = {}
    sent: dict[str, str] = {}  # proposal -> its manager
    decided: set[str] = set()
    for entry in sorted(entries, key=lambda e: e.at):
        row = rows.setdefault(entry.manager_id, ProposalRow(entry.manager_id))
        if entry.kind == SENT:
            row.sent += 1
            sent[entry.proposal] = entry.manager_id
        elif entry.kind == AGREED:
            row.agreed += 1
            decided.add(entry.proposal)
        elif entry.kind == REFUSED:
            row.refused += 1
            row.refusals.append(Refusal(entry.deal_id, entry.reason, entry.at))
            decided.add(entry.proposal)
    for proposal, manager in sent.items():
        if proposal not in decided:
            rows[manager].pending += 1
    return sorted(rows.values(), key=lambda r: (len(r.manager_id), r.manager_id))

"""Deal chats: what the opening message of a new deal's chat says, what a message may hold,
and who a message notifies. Plain data and rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.errors import FieldProblem, ValidationFailed
from services.notifications.domain.feed import NewNotification
from services.notifications.domain.tasks import MAX_KEY, MAX_TEXT, MAX_TITLE

MAX_FILES = 20
MAX_MENTIONS = 50
MENTION = "chat.mention"


@dataclass(frozen=True)
class DealFacts:
    """What the opening message tells of a deal, and who is in its chat from the start."""

    deal_id: int
    title: str
    pipeline_id: int
    stage_id: int
    responsible_id: int
    amount: str | None = None
    currency: str | None = None
    company_name: str | None = None
    contact_name: str | None = None
    created_by: int | None = None

    @classmethod
    def of_event(cls, data: Mapping[str, Any], actor: str) -> DealFacts:
        """From a `deals.deal.created` event's data (its `deal` summary and `after`)."""
        deal, after = data["deal"], data.get("after") or {}
        return cls(
            deal_id=int(deal["id"]),
            title=str(deal["title"]),
            pipeline_id=int(deal["pipeline_id"]),
            stage_id=int(deal["stage_id"]),
            responsible_id=int(deal["responsible_id"]),
            amount=after.get("amount"),
            currency=after.get("currency"),
            company_name=after.get("company_name"),
            contact_name=after.get("contact_name"),
            created_by=int(actor) if actor.isdigit() else None,
        )

    @property
    def link(self) -> str:
        return f"/api/v1/deals/{self.deal_id}"

    def members(self) -> tuple[int, ...]:
        """The responsible, and whoever made the deal for them."""
        made_by = () if self.created_by in (None, self.responsible_id) else (self.created_by,)
        return (self.responsible_id, *[m for m in made_by if m is not None])

    def opening(self) -> str:
        """The chat's first message: the deal's key facts and a link to it."""
        lines = [f"Deal {self.deal_id}: {self.title}"]
        if self.amount:
            lines.append(f"Amount: {self.amount} {self.currency or ''}".rstrip())
        if self.company_name:
            lines.append(f"Company: {self.company_name}")
        if self.contact_name:
            lines.append(f"Contact: {self.contact_name}")
        lines.append(f"Responsible: user {self.responsible_id}")
        lines.append(f"Pipeline {self.pipeline_id}, stage {self.stage_id}")
        lines.append(f"Link: {self.link}")
        return "\n".join(lines)[:MAX_TEXT]


@dataclass(frozen=True)
class NewMessage:
    deal_id: int
    author_id: int | None
    body: str
    file_ids: tuple[int, ...] = ()
    mention_ids: tuple[int, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    deal_id: int
    author_id: int | None
    kind: str  # opening | message
    body: str
    file_ids: tuple[int, ...]
    mention_ids: tuple[int, ...]
    created_at: datetime

    def summary(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "deal_id": str(self.deal_id),
            "author_id": str(self.author_id or ""),
            "kind": self.kind,
            "body": self.body,
            "file_ids": [str(f) for f in self.file_ids],
            "mention_ids": [str(m) for m in self.mention_ids],
            "created_at": self.created_at.isoformat(),
        }


def new_message(
    *,
    deal_id: int,
    author_id: int | None,
    body: str,
    file_ids: Sequence[int] = (),
    mention_ids: Sequence[int] = (),
    idempotency_key: str = "",
) -> NewMessage:
    """Check a message to post; every problem is reported at once. A message holds text,
    files, or both; each file and each mention once."""
    problems: list[FieldProblem] = []
    body = body.strip()
    if not body and not file_ids:
        problems.append(FieldProblem("body", "must not be empty unless files are attached"))
    if len(body) > MAX_TEXT:
        problems.append(FieldProblem("body", f"must be at most {MAX_TEXT} characters"))
    if len(file_ids) > MAX_FILES:
        problems.append(FieldProblem("file_ids", f"at most {MAX_FILES} files"))
    if len(mention_ids) > MAX_MENTIONS:
        problems.append(FieldProblem("mention_ids", f"at most {MAX_MENTIONS} mentions"))
    problems += _repeats("file_ids", file_ids) + _repeats("mention_ids", mention_ids)
    if len(idempotency_key) > MAX_KEY:
        problems.append(FieldProblem("idempotency_key", f"must be at most {MAX_KEY} characters"))
    if problems:
        raise ValidationFailed(problems)
    return NewMessage(
        deal_id, author_id, body, tuple(file_ids), tuple(mention_ids), idempotency_key or None
    )


def _repeats(name: str, ids: Sequence[int]) -> list[FieldProblem]:
    seen: set[int] = set()
    problems = []
    for i, value in enumerate(ids):
        if value in seen:
            problems.append(FieldProblem(f"{name}[{i}]", "is given twice"))
        seen.add(value)
    return problems


def mention_notices(message: Message, deal_title: str) -> list[NewNotification]:
    """One notification per mentioned user (not the author), once per message."""
    who = f"user {message.author_id}" if message.author_id else "Dealflow"
    title = f"{who} mentioned you in the chat of {deal_title}"[:MAX_TITLE]
    return [
        NewNotification(
            user_id=user,
            kind=MENTION,
            title=title,
            body=message.body[:MAX_TEXT],
            deal_id=message.deal_id,
            idempotency_key=f"chat-message/{message.id}/mention/{user}",
        )
        for user in message.mention_ids
        if user != message.author_id
    ]

"""A review loop: submit (text, files) → review → approved | changes requested (a comment
is required) → submit again ..., every round kept (who, when, files, comment), with an
optional bound on rounds.

The process says what its two tasks look like for a round (`Review.submission` and
`Review.review` build the TaskSpec text: title, description, assignee, watchers); the loop
owns the rest: the outcomes, the fields, the comment rule, the step keys of each round,
the rounds' record and their timeline entries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from workflows.activities.types import AnswerField
from workflows.kit.tasks import TaskSpec

if TYPE_CHECKING:
    from workflows.kit.process import Process

APPROVED, CHANGES_REQUESTED = "approved", "changes_requested"
ROUNDS_EXHAUSTED = "rounds_exhausted"


@dataclass
class ReviewRound:
    round: int
    submitted_by: str = ""
    submitted_at: datetime | None = None
    text: str = ""
    file_ids: list[str] = field(default_factory=list)
    reviewed_by: str = ""
    reviewed_at: datetime | None = None
    outcome: str = ""  # approved | changes_requested ("" while in review)
    comment: str = ""


@dataclass
class TaskText:
    """What a person sees of one side's task in a round."""

    assignee_id: str
    title: str
    description: str = ""
    watcher_ids: list[str] = field(default_factory=list)


@dataclass
class Review:
    """One review loop of a process: its name (the prefix of its task kinds and steps) and
    what its tasks say. `submission(round, previous)` gets the round being opened and the
    round before it (None in the first), `review(round)` the round just submitted."""

    name: str
    submission: Callable[[int, ReviewRound | None], TaskText]
    review: Callable[[ReviewRound], TaskText]
    max_rounds: int | None = None
    file_required: bool = True
    submission_stage: str = "submitted"  # the process stage while the author works
    review_stage: str = "in_review"
    rounds: list[ReviewRound] = field(default_factory=list)
    # The process's own effects around a round's submission: before the submitter's task
    # opens (it gets the round's number; e.g. refresh what the task shows) and once it is
    # answered (e.g. move the deal on the first).
    before_submit: Callable[[int], Awaitable[None]] | None = None
    after_submit: Callable[[ReviewRound], Awaitable[None]] | None = None

    @property
    def outcome(self) -> str:
        return self.rounds[-1].outcome if self.rounds else ""

    async def run(self, process: Process) -> str:
        """Run rounds until approved (APPROVED) or the bound is reached (ROUNDS_EXHAUSTED)."""
        previous: ReviewRound | None = None
        while True:
            current = ReviewRound(round=len(self.rounds) + 1)
            self.rounds.append(current)
            await self._submit(process, current, previous)
            await self._review(process, current)
            if current.outcome == APPROVED:
                return APPROVED
            if self.max_rounds is not None and current.round >= self.max_rounds:
                await process.timeline(
                    f"{self.name}/exhausted",
                    f"{self.name}: {current.round} rounds without approval, stopped",
                )
                return ROUNDS_EXHAUSTED
            previous = current

    async def _submit(
        self, process: Process, current: ReviewRound, previous: ReviewRound | None
    ) -> None:
        if self.before_submit is not None:
            await self.before_submit(current.round)
        text = self.submission(current.round, previous)
        process.set_stage(self.submission_stage)
        task = await process.tasks.start(
            TaskSpec(
                step=f"{self.name}/submit",
                kind=f"{process.name}.{self.name}.submit",
                assignee_id=text.assignee_id,
                title=text.title,
                description=text.description,
                outcomes=["submitted"],
                fields=[
                    AnswerField("file_ids", "files", required=self.file_required),
                    AnswerField("text", "text", required=False),
                ],
                watcher_ids=text.watcher_ids,
            )
        )
        answer = await process.answer(task)
        current.submitted_by = answer.actor_id
        current.submitted_at = answer.answered_at
        current.text = str(answer.data.get("text") or "")
        current.file_ids = [str(f) for f in answer.data.get("file_ids") or []]
        files = ", ".join(current.file_ids) or "none"
        await process.timeline(
            f"{self.name}/r{current.round}/submitted",
            f"{self.name} round {current.round}: submitted (files {files})"
            + (f" — {current.text}" if current.text else ""),
            round=current.round,
            file_ids=current.file_ids,
        )
        if self.after_submit is not None:
            await self.after_submit(current)

    async def _review(self, process: Process, current: ReviewRound) -> None:
        text = self.review(current)
        process.set_stage(self.review_stage)
        task = await process.tasks.start(
            TaskSpec(
                step=f"{self.name}/review",
                kind=f"{process.name}.{self.name}.review",
                assignee_id=text.assignee_id,
                title=text.title,
                description=text.description,
                outcomes=[APPROVED, CHANGES_REQUESTED],
                fields=[AnswerField("comment", "text", required=False)],
                comment_outcomes=[CHANGES_REQUESTED],
                watcher_ids=text.watcher_ids,
            )
        )
        answer = await process.answer(task)
        current.reviewed_by = answer.actor_id
        current.reviewed_at = answer.answered_at
        current.outcome = answer.outcome
        current.comment = str(answer.data.get("comment") or "").strip()
        verdict = "approved" if answer.outcome == APPROVED else "changes requested"
        await process.timeline(
            f"{self.name}/r{current.round}/{answer.outcome}",
            f"{self.name} round {current.round}: {verdict}"
            + (f" — {current.comment}" if current.comment else ""),
            round=current.round,
            outcome=answer.outcome,
            comment=current.comment,
        )

"""SM-3 Layout revision loop: the manager files a brief (text and files); the designer
makes a layout (the head of the manager's department and the CEO watch); the manager
agrees it with the client: approved → the designer uploads the final file, which lands on
the deal; changes requested → the designer gets the client's comment and the loop goes on.
Every round (file, comment, who, when) stays readable in the run's state and timeline.

brief → design ⇄ client_review → final → done
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.activities import calls
from workflows.kit import AnswerField, Process, Review, ReviewRound, TaskSpec, TaskText
from workflows.kit import process as declare
from workflows.kit.params import RecordId, param
from workflows.kit.people import one_with_role, with_role

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import AttachFilesInput
    from workflows.activities.types import (
        DealInfo,
        FindHeadInput,
        GetDealInput,
        GetPipelineInput,
        UpdateDealFieldsInput,
    )
    from workflows.kit.contracts import ProcessInput

PROCESS = "layout_revision"
LAYOUT_FIELD = "layout_file"  # the deal's file field for the final layout, if its pipeline has it


@dataclass
class LayoutRevisionParams:
    designer_id: RecordId = param(
        help="the designer's user id (default: the first user with the role designer)",
        default=RecordId(""),
    )
    max_rounds: int = param(help="stop after this many rounds without approval", default=0)


@dataclass
class LayoutRevisionResult:
    deal_id: str
    outcome: str  # approved | rounds_exhausted
    brief: str
    final_file_id: str
    rounds: list[ReviewRound] = field(default_factory=list)


@declare(PROCESS, params=LayoutRevisionParams)
class LayoutRevision(Process):
    """SM-3: a layout revised with the client, round by round, until it is agreed."""

    initial_stage = "brief"

    def setup(self) -> None:
        self.review: Review | None = None
        self.brief = ""
        self.brief_files: list[str] = []

    @workflow.run
    async def run(self, inp: ProcessInput) -> LayoutRevisionResult:
        params: LayoutRevisionParams = self.params
        self.set_stage("brief")
        deal = await calls.get_deal(GetDealInput(inp.deal_id))
        manager = deal.responsible_id
        designer = params.designer_id or await one_with_role(inp.deal_id, manager, "designer")
        watchers = await self._watchers(manager)
        await self.timeline("started", f"Layout revision started; designer: user {designer}")

        brief = await self.answer(
            await self.tasks.start(
                TaskSpec(
                    step="brief",
                    kind=f"{PROCESS}.brief",
                    assignee_id=manager,
                    title=f"File the design brief: {deal.title}",
                    description="What the client wants, with reference files of the deal.",
                    outcomes=["filed"],
                    fields=[
                        AnswerField("text", "text", label="the brief"),
                        AnswerField("file_ids", "files", required=False, label="references"),
                    ],
                )
            )
        )
        self.brief = str(brief.data["text"])
        self.brief_files = [str(f) for f in brief.data.get("file_ids") or []]
        await self.timeline("brief", f"Brief filed: {self.brief}", file_ids=self.brief_files)

        review = self.review = Review(
            name="layout",
            submission=lambda n, previous: self._design_task(deal, designer, watchers, n, previous),
            review=lambda r: TaskText(
                assignee_id=manager,
                title=f"Agree the design with the client: {deal.title} (round {r.round})",
                description=f"Layout: files {', '.join(r.file_ids)}. Approved, or the client's "
                "changes in the comment.",
            ),
            max_rounds=params.max_rounds or None,
            submission_stage="design",
            review_stage="client_review",
        )
        outcome = await review.run(self)
        final_id = ""
        if outcome == "approved":
            final_id = await self._final_file(deal, designer, watchers)
        self.set_stage("done" if final_id else outcome)
        await self.finish(outcome)
        return LayoutRevisionResult(deal.id, outcome, self.brief, final_id, list(review.rounds))

    def details(self) -> dict[str, Any]:
        rounds = self.review.rounds if self.review else []
        return {
            "brief": self.brief,
            "brief_file_ids": self.brief_files,
            "rounds": list(rounds),
        }

    # ---- steps ----
    def _design_task(
        self,
        deal: DealInfo,
        designer: str,
        watchers: list[str],
        round_no: int,
        previous: ReviewRound | None,
    ) -> TaskText:
        if previous is None:
            files = ", ".join(self.brief_files) or "none"
            description = f"Brief: {self.brief} (files: {files}). Attach the layout."
        else:
            description = (
                f"The client asks for changes: {previous.comment}. "
                f"Round {previous.round} layout: files {', '.join(previous.file_ids)}. "
                "Attach the revised layout."
            )
        return TaskText(
            assignee_id=designer,
            title=f"Design the layout: {deal.title} (round {round_no})",
            description=description,
            watcher_ids=watchers,
        )

    async def _final_file(self, deal: DealInfo, designer: str, watchers: list[str]) -> str:
        """The designer uploads the final file; it is set on the deal (when its pipeline has
        a layout file field) and noted on the timeline."""
        self.set_stage("final")
        task = await self.tasks.start(
            TaskSpec(
                step="final",
                kind=f"{PROCESS}.final",
                assignee_id=designer,
                title=f"Upload the final layout: {deal.title}",
                description="The client approved the design: upload the print-ready file.",
                outcomes=["uploaded"],
                fields=[AnswerField("file_id", "file", label="the final file")],
                watcher_ids=watchers,
            )
        )
        answer = await self.answer(task)
        file_id = str(answer.data["file_id"])
        await ac.attach_files(AttachFilesInput(deal.id, [file_id], "task", task.task_id))
        pipeline = await calls.get_pipeline(GetPipelineInput(pipeline_id=deal.pipeline_id))
        if LAYOUT_FIELD in pipeline.field_codes:
            await calls.update_deal_fields(UpdateDealFieldsInput(deal.id, {LAYOUT_FIELD: file_id}))
        await self.timeline("final", f"Final layout uploaded: file {file_id}", file_id=file_id)
        return file_id

    async def _watchers(self, manager: str) -> list[str]:
        """The head of the manager's department and the CEO(s)."""
        try:
            people = [(await calls.find_head(FindHeadInput(manager))).id]
        except ActivityError:  # a manager without a head: the CEO watches alone
            people = []
        people += await with_role(self.input.deal_id, manager, "ceo")
        return [p for p in dict.fromkeys(people) if p and p != manager]

"""JUG-2 Contract with a computed table: the clerk prepares the contract and attaches it,
seeing the table of the deal's products and terms computed from its line items (quantity ×
price − discount, VAT, totals; each row links to its product); once it is attached the deal
moves to the approval stage by itself. The manager sends it and agrees it with the client:
the client does not accept (the comment says what they want) → the clerk prepares a
non-standard contract (the table recomputed) → the manager sends it again; until the client
agrees, and then the deal moves on by itself.

prepare → approval ⇄ prepare (non-standard) → agreed
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.activities import calls
from workflows.kit import Process, Review, ReviewRound, TaskText
from workflows.kit import process as declare
from workflows.kit.params import RecordId, param
from workflows.kit.people import one_with_role

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities import products_calls as pc
    from workflows.activities.approval_types import DealRefInput, MoveDealInput, PipelineLayout
    from workflows.activities.products_types import DealItemsInfo, GetDealItemsInput
    from workflows.activities.types import DealInfo, GetDealInput
    from workflows.kit.contracts import ProcessInput

PROCESS = "contract_with_table"


@dataclass
class ContractWithTableParams:
    clerk_id: RecordId = param(
        help="the clerk's user id (default: the first user with the role clerk)",
        default=RecordId(""),
    )
    approval_stage: str = param(
        help="the name of the stage the deal moves to once the contract is attached",
        default="Approval",
    )
    agreed_stage: str = param(
        help="the name of the stage the deal moves to once the client agrees "
        "(default: the stage after the approval stage)",
        default="",
    )


@dataclass
class ContractWithTableResult:
    deal_id: str
    outcome: str  # agreed
    contract_file_ids: list[str]
    table: DealItemsInfo
    rounds: list[ReviewRound] = field(default_factory=list)


def render_table(table: DealItemsInfo) -> str:
    """The table as the clerk's task shows it: one row per line, each with its product's
    link, then the totals."""
    if not table.items:
        return "The deal has no line items."
    rows = [
        f"{x.position}. {x.product_code} {x.product_name} ({x.product_path}): "
        f"{x.quantity} {x.unit} × {x.price} − {x.discount_amount} = {x.net}; "
        f"VAT {x.vat_rate}% {x.vat}; total {x.total}"
        for x in table.items
    ]
    rows.append(f"Totals ({table.currency}): net {table.net}, VAT {table.vat}, total {table.total}")
    return "\n".join(rows)


@declare(PROCESS, params=ContractWithTableParams)
class ContractWithTable(Process):
    """JUG-2: the contract prepared with the deal's computed table, agreed with the client
    round by round; the deal moves to approval and on by itself."""

    initial_stage = "prepare"

    def setup(self) -> None:
        self.review: Review | None = None
        self.table = DealItemsInfo(deal_id=self.input.deal_id, currency="")

    @workflow.run
    async def run(self, inp: ProcessInput) -> ContractWithTableResult:
        params: ContractWithTableParams = self.params
        self.set_stage("prepare")
        deal = await calls.get_deal(GetDealInput(inp.deal_id))
        layout = await ac.get_pipeline_layout(DealRefInput(inp.deal_id))
        approval_id, agreed_id = _stages(layout, params.approval_stage, params.agreed_stage)
        manager = deal.responsible_id
        clerk = params.clerk_id or await one_with_role(inp.deal_id, "clerk", manager)
        await self.timeline("started", f"Contract preparation started; clerk: user {clerk}")

        async def refresh_table(_round: int) -> None:
            self.table = await pc.get_deal_items(GetDealItemsInput(inp.deal_id))

        async def to_approval(submitted: ReviewRound) -> None:
            if submitted.round == 1 and deal.stage_id != approval_id:
                await ac.move_deal(
                    MoveDealInput(deal.id, approval_id, "the contract is prepared and attached")
                )

        review = self.review = Review(
            name="contract",
            submission=lambda n, previous: self._clerk_task(deal, clerk, n, previous),
            review=lambda r: TaskText(
                assignee_id=manager,
                title=f"Send the contract and agree it with the client: {deal.title} "
                f"(round {r.round})",
                description=f"Contract: files {', '.join(r.file_ids)}. Approved when the client "
                "agrees; changes requested (say what the client wants) for a non-standard "
                "contract.\n" + render_table(self.table),
            ),
            submission_stage="prepare",
            review_stage="approval",
            before_submit=refresh_table,
            after_submit=to_approval,
        )
        outcome = await review.run(self)
        await ac.move_deal(MoveDealInput(deal.id, agreed_id, "the client agreed the contract"))
        self.set_stage("agreed")
        await self.timeline(
            "agreed", f"The client agreed the contract (round {len(review.rounds)})"
        )
        await self.finish("agreed")
        files = review.rounds[-1].file_ids
        return ContractWithTableResult(deal.id, outcome, files, self.table, list(review.rounds))

    def details(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rounds": list(self.review.rounds) if self.review else [],
        }

    def _clerk_task(
        self, deal: DealInfo, clerk: str, round_no: int, previous: ReviewRound | None
    ) -> TaskText:
        table = render_table(self.table)
        if previous is None:
            title = f"Prepare the contract: {deal.title}"
            ask = "Prepare the contract on these terms and attach it."
        else:
            title = f"Prepare a non-standard contract: {deal.title} (round {round_no})"
            ask = (
                f"The client did not accept the contract: {previous.comment}. Prepare a "
                "non-standard contract and attach it."
            )
        return TaskText(assignee_id=clerk, title=title, description=f"{ask}\n{table}")


def _stages(layout: PipelineLayout, approval: str, agreed: str) -> tuple[str, str]:
    """The ids of the approval stage and of the one the deal moves on to (by name)."""
    names = [s.name.strip().casefold() for s in layout.stages]
    if approval.strip().casefold() not in names:
        raise _bad_param(f"approval_stage: the pipeline has no stage {approval!r}")
    at = names.index(approval.strip().casefold())
    if agreed:
        if agreed.strip().casefold() not in names:
            raise _bad_param(f"agreed_stage: the pipeline has no stage {agreed!r}")
        return layout.stages[at].id, layout.stages[names.index(agreed.strip().casefold())].id
    if at + 1 >= len(layout.stages):
        raise _bad_param(f"agreed_stage: no stage follows {approval!r}; name one")
    return layout.stages[at].id, layout.stages[at + 1].id


def _bad_param(message: str) -> ApplicationError:
    return ApplicationError(message, type="InvalidParams", non_retryable=True)

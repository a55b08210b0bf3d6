"""Fakes and a driver of BT promo project runs, shared by its tests and the recorder."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError

from tests.unit.approvals.chain_fakes import ACCOUNTANT, ChainFakes, decide
from tests.unit.workflows.fakes import (
    DEAL_TITLE,
    MANAGER,
    PIPELINE_ID,
    FakeServices,
    start_deal_process,
)
from tests.unit.workflows.layout_fakes import CEO, DESIGNER, next_task, run_rounds
from workflows.activities.approval_types import DealRefInput, PipelineLayout, StageSpec
from workflows.activities.finance_types import (
    InvoiceInfo,
    InvoiceRefInput,
    IssueInvoiceInput,
    RequestInvoiceInput,
)
from workflows.activities.types import DealInfo, GetDealInput, UserInfo
from workflows.kit.invoices import INVOICE_CHANGED_SIGNAL, InvoiceChange
from workflows.processes.promo_project import PromoProject

K = "promo_project"
MAKER = UserInfo(id="u-maker", name="Mila Maker")
MAKER_2 = UserInfo(id="u-maker2", name="Max Maker")
CONTRACTOR = UserInfo(id="u-contractor", name="Kira Contractors")
STAGES = {"proposal": "s-p", "contract": "s-c", "invoice": "s-i", "production": "s-m"}
TYPES = [{"code": "tshirt", "name": "T-shirt"}, {"code": "banner", "name": "Banner"}]
TRAITS = [
    {"type": "tshirt", "characteristic": "material", "value": "cotton"},
    {"type": "tshirt", "characteristic": "size", "value": "XL"},
    {"type": "banner", "characteristic": "material", "value": "vinyl"},
]


@dataclass
class PromoFakes(ChainFakes):
    deadline: str = ""
    invoices: dict[str, InvoiceInfo] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)

    def activities(self) -> list[Any]:
        return [*super().activities(), *self.finance()]

    def finance(self) -> list[Any]:
        return [self.request_invoice, self.issue_invoice, self.get_invoice]

    @activity.defn(name="get_deal")
    async def get_deal(self, inp: GetDealInput) -> DealInfo:
        self._log("get_deal", inp)
        fields = {"project_deadline": self.deadline} if self.deadline else {}
        return DealInfo(inp.deal_id, PIPELINE_ID, "s-0", DEAL_TITLE, MANAGER.id, fields)

    @activity.defn(name="get_pipeline_layout")
    async def get_pipeline_layout(self, inp: DealRefInput) -> PipelineLayout:
        self._log("get_pipeline_layout", inp)
        names = {"s-p": "Proposal", "s-c": "contract", "s-i": "Invoice", "s-m": "Production"}
        return PipelineLayout(
            PIPELINE_ID, [], [StageSpec(i, n, "in_progress") for i, n in names.items()]
        )

    @activity.defn(name="request_invoice")
    async def request_invoice(self, inp: RequestInvoiceInput) -> InvoiceInfo:
        self._log("request_invoice", inp)
        if inp.currency != "RUB":
            raise ApplicationError("currency: unknown", type="ValidationFailed", non_retryable=True)
        invoice_id = self._keys.setdefault(inp.idempotency_key, f"{len(self._keys) + 1}")
        total = str(sum(Decimal(line.unit_price) for line in inp.lines))
        self.invoices[invoice_id] = InvoiceInfo(
            invoice_id, inp.deal_id, "draft", "RUB", total, "0", total
        )
        return self.invoices[invoice_id]

    @activity.defn(name="issue_invoice")
    async def issue_invoice(self, inp: IssueInvoiceInput) -> InvoiceInfo:
        self._log("issue_invoice", inp)
        if inp.actor_id != ACCOUNTANT.id:
            raise ApplicationError("not yours", type="PermissionDenied", non_retryable=True)
        invoice = self.invoices[inp.invoice_id]
        invoice.status, invoice.number = "issued", inp.number
        return invoice

    @activity.defn(name="get_invoice")
    async def get_invoice(self, inp: InvoiceRefInput) -> InvoiceInfo:
        self._log("get_invoice", inp)
        return self.invoices[inp.invoice_id]


def promo_fakes(deadline: str = "") -> PromoFakes:
    return PromoFakes(
        base=FakeServices(lists={"product_types": TYPES, "product_characteristics": TRAITS}),
        roles={
            "accountant": [ACCOUNTANT.id],
            "production": [MAKER.id, MAKER_2.id],
            "contractor_manager": [CONTRACTOR.id],
            "designer": [DESIGNER.id],
            "ceo": [CEO.id],
        },
        deadline=deadline,
    )


async def start_project(
    client: Client, task_queue: str, *, workflow_id: str = "", **params: Any
) -> WorkflowHandle[Any, Any]:
    return await start_deal_process(
        client, task_queue, PromoProject.run, "promo_project", params, workflow_id=workflow_id
    )


async def paid(
    handle: WorkflowHandle[Any, Any], fakes: PromoFakes, invoice_id: str, amount: str
) -> None:
    """Finance registers a payment and its event reaches the process."""
    invoice = fakes.invoices[invoice_id]
    invoice.paid = str(Decimal(invoice.paid) + Decimal(amount))
    invoice.balance = str(Decimal(invoice.total) - Decimal(invoice.paid))
    invoice.status = "fully_paid" if Decimal(invoice.balance) <= 0 else "partially_paid"
    change = InvoiceChange(invoice_id, invoice.status, invoice.paid, invoice.balance)
    await handle.signal(INVOICE_CHANGED_SIGNAL, change)


async def cycles(handle: WorkflowHandle[Any, Any], fakes: PromoFakes) -> None:
    """BT-2: the proposal after one round of changes, the contract, the invoice issued."""
    for n, outcome in enumerate(["changes_requested", "approved"], start=1):
        submit = await next_task(handle, fakes, f"{K}.proposal.submit", n)
        await decide(handle, submit, MANAGER, "submitted", file_ids=[f"proposal-{n}"])
        review = await next_task(handle, fakes, f"{K}.proposal.review", n)
        await decide(handle, review, MANAGER, outcome, comment="Cheaper, please")
    submit = await next_task(handle, fakes, f"{K}.contract.submit", 1)
    await decide(handle, submit, MANAGER, "submitted", file_ids=["contract-1"])
    await decide(
        handle, await next_task(handle, fakes, f"{K}.contract.review", 1), MANAGER, "approved"
    )
    request = await next_task(handle, fakes, f"{K}.invoice.request", 1)
    await decide(
        handle, request, MANAGER, "requested", counterparty="Acme", amount="1000.00", currency="RUB"
    )
    submit = await next_task(handle, fakes, f"{K}.invoice.submit", 1)
    await decide(handle, submit, ACCOUNTANT, "submitted", file_ids=["invoice-file"])
    await decide(
        handle, await next_task(handle, fakes, f"{K}.invoice.review", 1), MANAGER, "approved"
    )
    issue = await next_task(handle, fakes, f"{K}.invoice.issue", 1)
    await decide(handle, issue, ACCOUNTANT, "issued", number="BT-1", due_date="2026-12-20")


async def run_project(client: Client, handle: WorkflowHandle[Any, Any], fakes: PromoFakes) -> None:
    """The whole project: cycles; prepayment, our layouts (the SM-3 child), both sites; two
    cards (the second while the handover is open); not accepted once; an extra payment."""
    await cycles(handle, fakes)
    plan = await next_task(handle, fakes, f"{K}.plan", 1)
    await decide(
        handle, plan, MANAGER, "planned", prepayment=True, layouts="ours", production="both"
    )
    child = client.get_workflow_handle(f"{handle.id}/layout-revision")
    await run_rounds(child, fakes, [])  # type: ignore[arg-type]
    await next_task(handle, fakes, f"{K}.prepayment", 1)
    await paid(handle, fakes, "1", "300.00")
    await sites_ready(handle, fakes)
    await add_card(handle, fakes, 1, "tshirt", ["material=cotton"], "100", "own")
    made = await next_task(handle, fakes, f"{K}.production", 1)
    await decide(handle, made, MAKER, "produced")
    handover = await next_task(handle, fakes, f"{K}.handover", 1)
    await decide(handle, handover, MANAGER, "not_accepted", comment="The print is pale")
    rework = await next_task(handle, fakes, f"{K}.rework", 1)
    await decide(handle, rework, MAKER, "done")
    handover = await next_task(handle, fakes, f"{K}.handover", 2)
    # The client orders more while the handover is open.
    await add_card(handle, fakes, 2, "banner", ["material=vinyl"], "2", "third_party")
    await decide(handle, handover, MANAGER, "accepted", extra_payment=True, extra_amount="250.00")
    issue = await next_task(handle, fakes, f"{K}.extra_payment.issue", 1)
    await decide(
        handle,
        issue,
        ACCOUNTANT,
        "issued",
        number="BT-2",
        due_date="2026-12-25",
        file_id="extra-file",
    )
    await paid(handle, fakes, "2", "250.00")
    made = await next_task(handle, fakes, f"{K}.production", 2)
    await decide(handle, made, CONTRACTOR, "produced")


async def sites_ready(handle: WorkflowHandle[Any, Any], fakes: PromoFakes) -> None:
    """Both production sites' set-up tasks done (own: the project group, then the printer)."""
    for n, (who, outcome) in enumerate([(MAKER, "ready"), (CONTRACTOR, "ordered")], start=1):
        setup = await next_task(handle, fakes, f"{K}.production.setup", n)
        await decide(handle, setup, who, outcome)


async def add_card(
    handle: WorkflowHandle[Any, Any],
    fakes: PromoFakes,
    n: int,
    product_type: str,
    characteristics: list[str],
    quantity: str,
    site: str,
) -> None:
    """The manager fills in the n-th product card."""
    card = await next_task(handle, fakes, f"{K}.card", n)
    data = {"type": product_type, "characteristics": characteristics, "quantity": quantity}
    await decide(handle, card, MANAGER, "added", **data, site=site)


async def awaiting_prepayment(handle: WorkflowHandle[Any, Any], fakes: PromoFakes) -> None:
    """Through the cycles to a plan with a prepayment, the client's layouts and own
    production: the process waits for the money."""
    await cycles(handle, fakes)
    plan = await next_task(handle, fakes, f"{K}.plan", 1)
    choice = {"prepayment": True, "layouts": "client", "production": "own"}
    await decide(handle, plan, MANAGER, "planned", **choice)
    layouts = await next_task(handle, fakes, f"{K}.client_layouts", 1)
    await decide(handle, layouts, MANAGER, "attached", file_ids=["client-layout"])
    await next_task(handle, fakes, f"{K}.prepayment", 1)

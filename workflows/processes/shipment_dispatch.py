"""PIT-3 Shipment dispatch: entering "Realization" starts it (a stage rule).

The operator of the deal's shipping direction (admin list `shipping_directions`: direction →
operator, storekeeper) creates the realization in the accounting system (its number is
required) → the deal moves to "Assembly/documents" → the operator prepares the UPD and
answers "UPD ready" → "Delivery" → by the deal's delivery method: transport company, the
deal's driver attaches the waybill (TTN) and confirms the shipment; pickup, the storekeeper
confirms the hand-over; own delivery, the driver confirms the delivery → the deal is won.

Who does a step is looked up when the step starts (`resolve_or_ask`): a list changed while
the process runs gives the next task to the new person; a direction without an operator, a
deal without a driver or a delivery method makes the admins a task naming what is missing,
and the step starts once it is fixed. The process writes `realization_number`,
`upd_ready_on`, `ttn_file` and `shipped_on` on the deal (those its pipeline has), so a
pipeline that requires them on the later stages refuses a manager's drag past
"Assembly/documents" (README: "Shipment dispatch").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

from workflows.activities import calls
from workflows.kit import AnswerField, AnswerRecord, Process, TaskSpec
from workflows.kit import process as declare
from workflows.kit.resolve import Resolved, resolve_or_ask
from workflows.kit.stages import DealStages

with workflow.unsafe.imports_passed_through():
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import AttachFilesInput
    from workflows.activities.types import (
        DealInfo,
        GetDealInput,
        LookUpListInput,
        UpdateDealFieldsInput,
    )
    from workflows.kit.contracts import ProcessInput

PROCESS = "shipment_dispatch"
DIRECTIONS_LIST = "shipping_directions"  # columns: direction, operator, storekeeper
DIRECTION_FIELD, METHOD_FIELD, DRIVER_FIELD = "shipping_direction", "delivery_method", "driver"
ASSEMBLY, DELIVERY = "Assembly/documents", "Delivery"


class Method:
    TRANSPORT_COMPANY = "transport_company"
    PICKUP = "pickup"
    OWN_DELIVERY = "own_delivery"
    ALL = (TRANSPORT_COMPANY, PICKUP, OWN_DELIVERY)


@dataclass
class ShipmentDispatchResult:
    deal_id: str
    realization_number: str
    delivery_method: str
    ttn_file_id: str = ""
    answers: list[AnswerRecord] = field(default_factory=list)


@declare(PROCESS)
class ShipmentDispatch(Process):
    """PIT-3: a realization dispatched by the operator of its direction, then delivered."""

    initial_stage = "realization"

    def setup(self) -> None:
        self.realization_number = ""
        self.delivery_method = ""
        self.ttn_file_id = ""
        self.people: dict[str, str] = {}  # step -> who got its task
        self._layout_fields: set[str] = set()

    @workflow.run
    async def run(self, inp: ProcessInput) -> ShipmentDispatchResult:
        self.set_stage("realization")
        stages = DealStages(self)
        self._layout_fields = {f.code for f in (await stages.layout()).fields}
        deal = await calls.get_deal(GetDealInput(inp.deal_id))
        await self.timeline("started", "Shipment dispatch started")

        realization = await self._step(
            "realization",
            await self._list_person("operator"),
            f"Create the realization in the accounting system: {deal.title}",
            ["created"],
            [AnswerField("realization_number", label="the realization number")],
        )
        self.realization_number = str(realization.data["realization_number"]).strip()
        await self._record({"realization_number": self.realization_number})
        await self.timeline("realization", f"Realization {self.realization_number} created")
        await stages.move_to(await stages.named(ASSEMBLY), "the realization is created")

        self.set_stage("assembly")
        await self._step(
            "upd",
            await self._list_person("operator"),
            f"Prepare the UPD: {deal.title} (realization {self.realization_number})",
            ["upd_ready"],
        )
        await self._record({"upd_ready_on": workflow.now().date().isoformat()})
        await self.timeline("upd", "UPD ready")
        await stages.move_to(await stages.named(DELIVERY), "the UPD is ready")

        self.set_stage("delivery")
        self.delivery_method = await resolve_or_ask(self, "delivery_method", self._method)
        await self._deliver(deal)
        await self._record({"shipped_on": workflow.now().date().isoformat()})
        await stages.move_to(await stages.won(), f"shipped ({self.delivery_method})")
        self.set_stage("shipped")
        await self.finish("shipped")
        return ShipmentDispatchResult(
            deal.id,
            self.realization_number,
            self.delivery_method,
            self.ttn_file_id,
            list(self.tasks.answers),
        )

    def details(self) -> dict[str, Any]:
        return {
            "realization_number": self.realization_number,
            "delivery_method": self.delivery_method,
            "ttn_file_id": self.ttn_file_id,
            "people": dict(self.people),
        }

    # ---- steps ----
    async def _deliver(self, deal: DealInfo) -> None:
        match self.delivery_method:
            case Method.TRANSPORT_COMPANY:
                shipped = await self._step(
                    "shipment",
                    await self._driver(),
                    f"Attach the waybill (TTN) and confirm the shipment: {deal.title}",
                    ["shipped"],
                    [AnswerField("ttn_file", "file", label="the waybill (TTN)")],
                )
                self.ttn_file_id = str(shipped.data["ttn_file"])
                await ac.attach_files(
                    AttachFilesInput(deal.id, [self.ttn_file_id], "task", shipped.task_id)
                )
                await self._record({"ttn_file": self.ttn_file_id})
                await self.timeline(
                    "shipment", "Shipped by transport company; TTN attached",
                    file_id=self.ttn_file_id,
                )  # fmt: skip
            case Method.PICKUP:
                await self._step(
                    "hand_over",
                    await self._list_person("storekeeper"),
                    f"Confirm the hand-over to the client's pickup: {deal.title}",
                    ["handed_over"],
                )
                await self.timeline("hand_over", "Handed over to the client (pickup)")
            case _:
                await self._step(
                    "delivery",
                    await self._driver(),
                    f"Deliver and confirm the delivery: {deal.title}",
                    ["delivered"],
                )
                await self.timeline("delivery", "Delivered by our own transport")

    async def _step(
        self,
        step: str,
        assignee: str,
        title: str,
        outcomes: list[str],
        fields: list[AnswerField] | None = None,
    ) -> AnswerRecord:
        self.people[step] = assignee
        task = await self.tasks.start(
            TaskSpec(
                step=step,
                kind=f"{PROCESS}.{step}",
                assignee_id=assignee,
                title=title,
                outcomes=outcomes,
                fields=fields or [],
            )
        )
        return await self.answer(task)

    async def _record(self, values: dict[str, Any]) -> None:
        """Write the process's facts on the deal, those fields its pipeline has."""
        present = {k: v for k, v in values.items() if k in self._layout_fields}
        if present:
            await calls.update_deal_fields(UpdateDealFieldsInput(self.input.deal_id, present))

    # ---- who does a step: looked up when it starts ----
    async def _list_person(self, column: str) -> str:
        async def look_up() -> Resolved:
            deal = await calls.get_deal(GetDealInput(self.input.deal_id))
            direction = str(deal.fields.get(DIRECTION_FIELD) or "").strip()
            if not direction:
                return Resolved(missing="the deal has no shipping direction")
            found = await calls.look_up_list(
                LookUpListInput(DIRECTIONS_LIST, "direction", direction, column)
            )
            if found.list_missing:
                return Resolved(missing=f"there is no admin list {DIRECTIONS_LIST}")
            return Resolved(found.value, f"no {column} for direction {direction}")

        return await resolve_or_ask(self, column, look_up)

    async def _driver(self) -> str:
        async def look_up() -> Resolved:
            deal = await calls.get_deal(GetDealInput(self.input.deal_id))
            driver = str(deal.fields.get(DRIVER_FIELD) or "").strip()
            return Resolved(driver, "the deal has no driver")

        return await resolve_or_ask(self, "driver", look_up)

    async def _method(self) -> Resolved:
        deal = await calls.get_deal(GetDealInput(self.input.deal_id))
        method = str(deal.fields.get(METHOD_FIELD) or "").strip()
        if method in Method.ALL:
            return Resolved(method)
        shown = f"an unknown delivery method {method!r}" if method else "no delivery method"
        return Resolved(missing=f"the deal has {shown} (one of: {', '.join(Method.ALL)})")

"""The promo project's making (BT-3's layouts and production site, BT-4's product cards,
BT-5's rework), on the process that owns it.

Layouts are the client's (the manager attaches them) or ours (SM-3's layout loop runs as a
child process). Production is own (the project group: the users with the production role),
a third-party printer (tracked as tasks of the contractors' manager) or both. Once both are
set, the manager's standing "add a product card" task takes any number of cards (type and
characteristics checked against the admin lists); each card is a production task that joins
the running process, which does not end before every one of them is done.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from workflows.kit import AnswerField, AnswerRecord, OpenTask, TaskSpec, refuse
from workflows.kit.children import run_child
from workflows.kit.joined import JoinedTasks, RepeatingTask
from workflows.kit.people import one_with_role, with_role

if TYPE_CHECKING:
    from workflows.processes.promo_project import PromoProject

with workflow.unsafe.imports_passed_through():
    from process_rules.product_cards import card_problems
    from workflows.activities import calls
    from workflows.activities.types import ListItemsInput
    from workflows.kit.contracts import AnswerRefused, ProcessInput, TaskAnswer

K = "promo_project"
PLAN, CLIENT_LAYOUTS, CARD = f"{K}.plan", f"{K}.client_layouts", f"{K}.card"
SETUP, PRODUCTION, REWORK = f"{K}.production.setup", f"{K}.production", f"{K}.rework"
OWN, THIRD_PARTY, BOTH = "own", "third_party", "both"


@dataclass
class ProductCard:
    n: int
    type: str
    characteristics: list[str]
    quantity: str
    site: str  # own | third_party
    added_by: str
    added_at: datetime
    task_id: str = ""  # its production task


@dataclass
class Team:
    group: list[str] = field(default_factory=list)  # the project group (own production)
    contractor: str = ""  # the manager of third-party printers


class ProjectProduction:
    def __init__(self, process: PromoProject, production: JoinedTasks) -> None:
        self.process = process
        self.production = production
        self.plan: dict[str, Any] = {}
        self.layout_file_ids: list[str] = []
        self.cards: list[ProductCard] = []
        self.team = Team()
        self._cards_task: RepeatingTask | None = None

    def details(self) -> dict[str, Any]:
        open_ids = [t.task_id for t in self.production.pending()]
        return {
            "plan": dict(self.plan),
            "layout_file_ids": list(self.layout_file_ids),
            "cards": [{**asdict(c), "made": c.task_id not in open_ids} for c in self.cards],
            "production_open": open_ids,
        }

    # ---- BT-3 ----
    async def plan_step(self, manager: str) -> dict[str, Any]:
        p = self.process
        p.set_stage("plan")
        answer = await p.answer(
            await p.tasks.start(
                TaskSpec(
                    step="plan",
                    kind=PLAN,
                    assignee_id=manager,
                    title=f"Plan the project: {p.deal.title}",
                    description="Prepayment or not, whose layouts, where it is produced.",
                    outcomes=["planned"],
                    fields=[
                        AnswerField("prepayment", "boolean"),
                        AnswerField("layouts", options=["client", "ours"]),
                        AnswerField("production", options=[OWN, THIRD_PARTY, BOTH]),
                    ],
                )
            )
        )
        self.plan = {k: answer.data[k] for k in ("prepayment", "layouts", "production")}
        prepay = "prepayment" if self.plan["prepayment"] else "postpayment"
        await p.timeline(
            "plan",
            f"Plan: {prepay}, layouts by {self.plan['layouts']}, "
            f"production {self.plan['production']}",
            **self.plan,
        )
        return self.plan

    async def layouts(self, plan: dict[str, Any]) -> None:
        p, manager = self.process, self.process.deal.responsible_id
        if plan["layouts"] == "ours":
            params = {"designer_id": p.params.designer_id} if p.params.designer_id else {}
            result = await run_child(
                "layout_revision",  # by name: its result is read as a dict here
                ProcessInput(p.deal.id, p.deal.pipeline_id, manager, params),
                name="layout-revision",
                process="layout_revision",
                deal_id=p.deal.id,
                pipeline_id=p.deal.pipeline_id,
                result_type=dict,
            )
            final = str(result.get("final_file_id") or "")
            self.layout_file_ids = [final] if final else []
            text = f"Our designers' layouts {result.get('outcome')}"
        else:
            answer = await p.answer(
                await p.tasks.start(
                    TaskSpec(
                        step="client_layouts",
                        kind=CLIENT_LAYOUTS,
                        assignee_id=manager,
                        title=f"Attach the client's layouts: {p.deal.title}",
                        outcomes=["attached"],
                        fields=[AnswerField("file_ids", "files", label="the layouts")],
                    )
                )
            )
            self.layout_file_ids = [str(f) for f in answer.data["file_ids"]]
            text = "The client's layouts attached"
        files = ", ".join(self.layout_file_ids) or "none"
        await p.timeline("layouts", f"{text} (files {files})", file_ids=self.layout_file_ids)

    async def site_tasks(self, plan: dict[str, Any]) -> None:
        """The production site's people get their tasks (joined: the project ends after)."""
        p, site, manager = self.process, plan["production"], self.process.deal.responsible_id
        params = p.params
        if site in (OWN, BOTH):
            self.team.group = await with_role(p.deal.id, params.production_role, manager)
            await self._produce("own", OWN, SETUP, "Set up own production", ["ready"])
        if site in (THIRD_PARTY, BOTH):
            self.team.contractor = await one_with_role(
                p.deal.id, params.contractor_role, manager, otherwise=manager
            )
            await self._produce(
                "third_party", THIRD_PARTY, SETUP, "Order at the printer", ["ordered"]
            )
        links = [f"Task: /api/v1/tasks/{t.task_id}" for t in self.production.tasks]
        await p.notify("site", manager, "production_site", f"Production: {site}", *links)

    # ---- BT-4 ----
    def open_cards(self) -> None:
        p = self.process
        self._cards_task = RepeatingTask(
            p,
            spec_of=lambda n: TaskSpec(
                step="card",
                kind=CARD,
                assignee_id=p.deal.responsible_id,
                title=f"Add a product card: {p.deal.title} (card {n})",
                description="The product's type and characteristics (characteristic=value) "
                "from the lists, and the quantity; each card goes to production.",
                outcomes=["added"],
                fields=[
                    AnswerField("type"),
                    AnswerField("characteristics", "list", required=False),
                    AnswerField("quantity", "number"),
                    AnswerField("site", options=[OWN, THIRD_PARTY], required=False),
                ],
                awaited=False,
            ),
            on_answer=self._card_added,
        )
        self._cards_task.start()

    async def _card_added(self, answer: AnswerRecord) -> None:
        data = answer.data
        card = ProductCard(
            n=len(self.cards) + 1,
            type=str(data["type"]),
            characteristics=[str(c) for c in data.get("characteristics") or []],
            quantity=str(data["quantity"]),
            site=str(data.get("site") or self.plan["production"]),
            added_by=answer.actor_id,
            added_at=answer.answered_at,
        )
        self.cards.append(card)
        what = f"card {card.n}: {card.type} × {card.quantity}"
        traits = ", ".join(card.characteristics) or "no characteristics"
        task = await self._produce(
            "production", card.site, PRODUCTION, f"Produce {what}", ["produced"], traits
        )
        card.task_id = task.task_id
        await self.process.timeline("card", f"Product {what} ({traits}) sent to production")

    async def ready_for_handover(self) -> None:
        """At least one card, and everything ordered so far made."""
        await workflow.wait_condition(lambda: bool(self.cards) and self.production.all_done())

    async def all_made(self) -> None:
        """Every card's production done (cards may still come until then); then no more."""
        await self.production.wait_all()
        if self._cards_task is not None:
            await self._cards_task.close("the project is handed over and made")
        await self.production.wait_all()  # a card taken while closing

    # ---- BT-5 ----
    async def rework(self, comment: str) -> None:
        site = OWN if self.team.group else THIRD_PARTY
        task = await self._produce(
            "rework", site, REWORK, "Rework after the handover", ["done"], comment
        )
        await self.process.answer(task)

    # ---- answers ----
    def check_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind != CARD:
            return
        site, planned = answer.data.get("site") or "", self.plan.get("production")
        if planned == BOTH and not site:
            raise refuse("'site' is required: production is both own and third-party", _BAD)
        if planned != BOTH and site and site != planned:
            raise refuse(f"'site' must be {planned}: the project's production", _BAD)

    async def before_answer(self, task: OpenTask, answer: TaskAnswer) -> None:
        if task.spec.kind != CARD:
            return
        params = self.process.params
        problems = card_problems(
            product_type=str(answer.data.get("type") or ""),
            characteristics=[str(c) for c in answer.data.get("characteristics") or []],
            quantity=answer.data.get("quantity"),
            types=await calls.list_items_in_answer(ListItemsInput(params.types_list)),
            allowed=await calls.list_items_in_answer(ListItemsInput(params.characteristics_list)),
        )
        if problems:
            raise refuse("; ".join(problems), _BAD)

    async def _produce(
        self, step: str, site: str, kind: str, title: str, outcomes: list[str], details: str = ""
    ) -> OpenTask:
        p, manager = self.process, self.process.deal.responsible_id
        group = self.team.group or [manager]
        assignee = group[0] if site == OWN else (self.team.contractor or manager)
        watchers = [u for u in dict.fromkeys([manager, *group[1:]]) if u != assignee]
        where = "own production" if site == OWN else "the third-party printer"
        return await self.production.add(
            TaskSpec(
                step=step,
                kind=kind,
                assignee_id=assignee,
                title=f"{title}: {p.deal.title}",
                description=f"At {where}. {details}".strip(),
                outcomes=outcomes,
                watcher_ids=watchers,
                awaited=False,
            )
        )


_BAD = AnswerRefused.INVALID_DATA

"""The process kit on the time-skipping server: a deadline watch's reminders, due and
overdue actions fire at their times and once, move with the `deadline_moved` Signal and a
deal field change; step keys carry a loop's round; typed params give the clients' messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workflows.kit import DeadlineWatch, Process, process
from workflows.kit import params as kit_params
from workflows.kit.contracts import DeadlineMove, ProcessInput
from workflows.kit.params import Code, RecordId, param


@process("kit_deadline_probe", starts="child")
class DeadlineProbe(Process):
    """Records when each event of its watch fired (workflow time)."""

    def setup(self) -> None:
        self.fired: list[tuple[str, datetime]] = []
        self.done = False
        self.keys: list[str] = []

    @workflow.run
    async def run(self, inp: ProcessInput) -> list[tuple[str, datetime]]:
        due = datetime.fromisoformat(inp.params["due"])

        async def remind(before: timedelta) -> None:
            self.fired.append((f"remind {before.days}d", workflow.now()))

        async def on_due() -> None:
            self.fired.append(("due", workflow.now()))

        async def overdue() -> None:
            self.fired.append(("overdue", workflow.now()))
            self.done = True

        watch = DeadlineWatch(
            "due",
            due,
            remind_before=[timedelta(days=1), timedelta(days=3)],
            on_reminder=remind,
            on_due=on_due,
            overdue_after=timedelta(days=2),
            on_overdue=overdue,
            field="deadline",
        )
        await self.watch(watch).wait(lambda: self.done)
        self.keys = [self.key("round"), self.key("round"), self.key("other")]
        return self.fired

    @workflow.query(name="keys")
    def key_list(self) -> list[str]:
        return self.keys


START = datetime(2027, 3, 1, tzinfo=UTC)


async def run_probe(env: WorkflowEnvironment, task_queue: str, move: object = None) -> list:
    async with Worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        now = await env.get_current_time()
        due = now + timedelta(days=10)
        handle = await env.client.start_workflow(
            DeadlineProbe.run,
            ProcessInput("1", "1", "u", {"due": due.isoformat()}),
            id=f"probe-{task_queue}",
            task_queue=task_queue,
        )
        if move is not None:
            await env.sleep(timedelta(days=8))  # past the 3-day reminder, before the 1-day one
            await handle.signal(*move(due))  # type: ignore[operator]
        fired = await handle.result()
        keys = await handle.query("keys")
        return [(name, datetime.fromisoformat(str(at)) - now) for name, at in fired], keys


async def test_reminders_due_and_overdue_fire_once_in_order(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    fired, keys = await run_probe(env, task_queue)
    assert [(name, round(at / timedelta(days=1))) for name, at in fired] == [
        ("remind 3d", 7),
        ("remind 1d", 9),
        ("due", 10),
        ("overdue", 12),
    ]
    run = f"probe-{task_queue}"
    assert keys == [f"{run}/round", f"{run}/round/2", f"{run}/other"]


async def test_a_moved_deadline_rearms_what_is_ahead(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    later = lambda due: ("deadline_moved", DeadlineMove("due", due + timedelta(days=5)))  # noqa: E731
    fired, _ = await run_probe(env, task_queue, later)
    days = [(name, round(at / timedelta(days=1))) for name, at in fired]
    # The 3-day reminder fired at day 7; moved at day 8 to day 15, it is ahead again.
    assert days == [
        ("remind 3d", 7),
        ("remind 3d", 12),
        ("remind 1d", 14),
        ("due", 15),
        ("overdue", 17),
    ]


async def test_a_deal_field_change_moves_a_watch_bound_to_it(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    def field_changed(due: datetime) -> tuple[str, dict[str, str]]:
        return ("deal_fields_changed", {"deadline": (due + timedelta(days=1)).date().isoformat()})

    fired, _ = await run_probe(env, task_queue, field_changed)
    names = [name for name, _ in fired]
    assert names[-2:] == ["due", "overdue"] and names.count("remind 1d") == 1


@dataclass
class Params:
    contract_id: RecordId = param(help="the contract's id")
    on: date = param(help="when", default=date(2027, 1, 1))
    template: Code = param(help="an approval template code", default=Code("basic"))
    rounds: int = param(help="how many", default=0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "contract_id is required: the contract's id"),
        ({"contract_id": True}, "contract_id is required"),
        ({"contract_id": "5", "on": 5}, "on must be an ISO date string"),
        ({"contract_id": "5", "on": "soon"}, "on must be an ISO date (YYYY-MM-DD)"),
        ({"contract_id": "5", "template": "Bad"}, "template must be an approval template code"),
        ({"contract_id": "5", "rounds": "3"}, "rounds must be a whole number"),
        ({"contract_id": "5", "x": 1}, "unknown parameter(s): x; expected: contract_id, on"),
    ],
)
def test_params_are_checked_with_clear_messages(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        kit_params.parse(Params, raw)
    assert message in str(refused.value)


def test_params_defaults_and_description() -> None:
    parsed = kit_params.parse(Params, {"contract_id": 7, "on": "2027-02-03"})
    assert parsed == Params("7", date(2027, 2, 3), "basic", 0)
    described = kit_params.describe(Params)
    assert described[0] == {
        "name": "contract_id",
        "type": "RecordId",
        "required": True,
        "help": "the contract's id",
    }

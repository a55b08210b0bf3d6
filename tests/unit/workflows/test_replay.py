"""Every recorded history replays against the current workflow code: a change that would
break a running process fails here (record new ones with `python -m tests.histories.record`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.api import LEAD_PROCESSES, PROCESSES, SPEND_PROCESSES, WORKFLOWS
from workflows.automation import AutomationRun
from workflows.leadership_alerts import LeadershipAlerts
from workflows.reminder_plan import ReminderPlanWorkflow

HISTORIES = Path(__file__).parents[2] / "histories"
FILES = sorted(HISTORIES.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(
        workflows=[*WORKFLOWS, AutomationRun, ReminderPlanWorkflow, LeadershipAlerts]
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


def test_every_process_has_a_recorded_history() -> None:
    recorded = {path.stem for path in FILES}
    spends = (p.name for p in SPEND_PROCESSES.values())
    others = ["automation_run", "reminder_plan", "leadership_alerts"]
    for name in [*PROCESSES, *LEAD_PROCESSES, *spends, *others]:
        assert any(stem.startswith(f"{name}_") for stem in recorded), name

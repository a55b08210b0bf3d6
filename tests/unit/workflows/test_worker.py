"""The worker's composition: the sandbox accepts every workflow module, every activity the
workflows call by name is registered, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.unit.workflows.fakes import FakeServices
from workflows.activities.services import ServiceActivities
from workflows.api import WORKFLOWS
from workflows.worker import WorkerSettings, workflow_runner

ROOT = Path(__file__).parents[3]


def activity_names(fns: list[object]) -> set[str]:
    return {fn.__temporal_activity_definition.name for fn in fns}  # type: ignore[attr-defined]


def test_fakes_mirror_the_real_activities() -> None:
    real = ServiceActivities(object(), object())  # type: ignore[arg-type]
    assert activity_names(real.all()) == activity_names(FakeServices().activities())


async def test_sandbox_accepts_the_workflows(env: WorkflowEnvironment, task_queue: str) -> None:
    real = ServiceActivities(object(), object())  # type: ignore[arg-type]
    async with Worker(
        env.client, task_queue=task_queue, workflows=list(WORKFLOWS), activities=real.all()
    ):
        pass  # constructing the worker validates every workflow in the sandbox


def test_settings_read_the_environment(monkeypatch: object) -> None:
    env = {
        "TEMPORAL_ADDRESS": "temporal:7233",
        "DEALFLOW_TASK_QUEUE": "q1",
        "WORKER_CONNECT_TIMEOUT_SECONDS": "5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # type: ignore[attr-defined]
    settings = WorkerSettings()
    assert (settings.temporal_address, settings.task_queue) == ("temporal:7233", "q1")
    assert settings.connect_timeout_seconds == 5
    assert settings.workflow_sandbox is False  # the tests' own workers run in it


def test_the_worker_runs_workflows_in_the_sandbox_only_when_asked(monkeypatch: object) -> None:
    assert isinstance(workflow_runner(WorkerSettings()), UnsandboxedWorkflowRunner)
    monkeypatch.setenv("WORKER_WORKFLOW_SANDBOX", "true")  # type: ignore[attr-defined]
    assert isinstance(workflow_runner(WorkerSettings()), SandboxedWorkflowRunner)


async def test_sigterm_stops_the_worker(env: WorkflowEnvironment) -> None:
    address = env.client.service_client.config.target_host
    proc = subprocess.Popen(
        [sys.executable, "-m", "workflows.worker"],
        cwd=ROOT,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "DEALFLOW_TASK_QUEUE": "sigterm-test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
        while "worker started" not in line:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(proc.wait), 20)
        rest = proc.stdout.read()
        assert code == 0, rest[-3000:]  # the end says why it did not stop cleanly
        assert "worker stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()

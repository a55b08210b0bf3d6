from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.unit.workflows.fakes import FakeServices, start_env
from workflows.processes.sample_return import SampleReturn


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per module (it starts in about a second)."""
    environment = await start_env()
    yield environment
    await environment.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex}"


@pytest.fixture
async def sample_return_worker(
    env: WorkflowEnvironment, task_queue: str, fakes: FakeServices
) -> AsyncIterator[Worker]:
    """A worker of the sample return on the module's `fakes` (the SDK's default runner:
    the sandbox)."""
    async with Worker(
        env.client, task_queue=task_queue, workflows=[SampleReturn], activities=fakes.activities()
    ) as running:
        yield running

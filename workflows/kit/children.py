"""A process run as a child of another: `<parent id>/<name>`, with the deal's search
attributes (DealId, PipelineId, ProcessName), so an operator finds it from the deal's id
and the deal's events (field changes, payments) reach it as they reach its parent.

    result = await run_child(ApprovalChain.run, ChainInput(...), name="approval-chain",
                             process="approval_chain", deal_id=..., pipeline_id=...)
    result = await run_child("layout_revision", ProcessInput(...), result_type=dict, ...)

The child's tasks name the child's workflow, so a person's answer goes to it directly; the
parent waits for its result (and is told of its failure as a ChildWorkflowError).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from workflows.kit.contracts import DEAL_ID, PIPELINE_ID, PROCESS_NAME


def child_id(name: str) -> str:
    return f"{workflow.info().workflow_id}/{name}"


async def run_child(
    run: Callable[..., Any] | str,
    inp: Any,
    *,
    name: str,
    process: str,
    deal_id: str,
    pipeline_id: str,
    result_type: type | None = None,
) -> Any:
    """Run `run` (a process's `@workflow.run` method, or its workflow type's name with the
    `result_type` to read its result as) as a child and return its result."""
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(DEAL_ID, deal_id),
            SearchAttributePair(PIPELINE_ID, pipeline_id),
            SearchAttributePair(PROCESS_NAME, process),
        ]
    )
    if isinstance(run, str):
        return await workflow.execute_child_workflow(
            run, inp, id=child_id(name), result_type=result_type, search_attributes=attributes
        )
    return await workflow.execute_child_workflow(
        run, inp, id=child_id(name), search_attributes=attributes
    )

"""Who does a step: the users with a role (the org structure's look-up, through the
approvals activity that resolves approvers), for a process that names no one itself."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import ResolveApproversInput


async def with_role(deal_id: str, initiator: str, role: str) -> list[str]:
    """The ids of the users with `role` (as seen from the deal and its initiator)."""
    found = await ac.resolve_approvers(
        ResolveApproversInput(deal_id, initiator, [ApproverRule("role", role=role)])
    )
    return [a.user_id for a in found]


async def one_with_role(deal_id: str, initiator: str, role: str) -> str:
    """The first user with `role`; the run fails (not retried) when there is none."""
    people = await with_role(deal_id, initiator, role)
    if not people:
        raise ApplicationError(
            f"nobody has the role {role!r}", type="InvalidParams", non_retryable=True
        )
    return people[0]

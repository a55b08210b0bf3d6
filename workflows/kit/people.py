"""Who does a step, found by role: the users with a role (the deals service's org
structure), the first of them, or someone else when nobody has it."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from process_rules.approval_templates import ApproverRule
    from workflows.activities import approval_calls as ac
    from workflows.activities.approval_types import ResolveApproversInput

NOBODY = "NoApprover"  # what resolve_approvers answers when nobody has the role


async def with_role(deal_id: str, role: str, initiator: str) -> list[str]:
    """The ids of the users with `role` (in id order); none: an empty list."""
    try:
        found = await ac.resolve_approvers(
            ResolveApproversInput(deal_id, initiator, [ApproverRule("role", role=role)])
        )
    except ActivityError as exc:
        if isinstance(exc.cause, ApplicationError) and exc.cause.type == NOBODY:
            return []
        raise
    return [a.user_id for a in found]


async def one_with_role(deal_id: str, role: str, initiator: str, *, otherwise: str = "") -> str:
    """The first user with `role`; `otherwise` when nobody has it (no `otherwise`: the run
    fails, not retried, saying so)."""
    people = await with_role(deal_id, role, initiator)
    if people:
        return people[0]
    if otherwise:
        return otherwise
    raise ApplicationError(
        f"nobody has the role {role!r}", type="InvalidParams", non_retryable=True
    )

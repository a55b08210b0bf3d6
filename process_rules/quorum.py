"""When a step's decisions settle it. `any`: the first decision of the group settles the step
either way (one person acts for the group); `all` and `majority`: approvals reach the quorum,
or rejections make it unreachable."""

from __future__ import annotations

from process_rules.approval_templates import Quorum


def needed(quorum: str, approvers: int) -> int:
    """How many approvals a step of `approvers` people needs."""
    match quorum:
        case Quorum.ANY:
            return 1 if approvers else 0
        case Quorum.MAJORITY:
            return approvers // 2 + 1
        case _:
            return approvers


def step_outcome(quorum: str, approvers: int, approvals: int, rejections: int) -> str | None:
    """'approved', 'rejected', or None while the step is still open."""
    if quorum == Quorum.ANY and rejections and not approvals:
        return "rejected"
    need = needed(quorum, approvers)
    if approvals >= need:
        return "approved"
    if approvers - rejections < need:
        return "rejected"
    return None

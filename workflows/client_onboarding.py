"""PIT-2 New client onboarding: the deal enters "Terms approval" and its terms go through
the approval chain (head of sales → deputy chief accountant → lawyer → 1C operator →
lawyer); the chain's template (data) says who decides, what each may change and what
happens on rejection and approval."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.approval_chain import run_chain

    # From their own module: the sandbox resolves a payload type's hints through it.
    from workflows.approval_chain_types import ChainInput, ChainResult
    from workflows.contracts import STAGE, ProcessInput

PROCESS = "client_onboarding"
DEFAULT_TEMPLATE = "client_onboarding"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass
class OnboardingParams:
    template: str = DEFAULT_TEMPLATE


def parse_params(params: Mapping[str, Any]) -> OnboardingParams:
    """Check the start parameters; ValueError says what is wrong."""
    unknown = sorted(set(params) - {"template"})
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(unknown)}; expected: template")
    template = params.get("template") or DEFAULT_TEMPLATE
    if not isinstance(template, str) or not _CODE.match(template):
        raise ValueError(f"template must be an approval template code, got {template!r}")
    return OnboardingParams(template)


@workflow.defn(name=PROCESS)
class ClientOnboarding:
    @workflow.run
    async def run(self, inp: ProcessInput) -> ChainResult:
        try:
            params = parse_params(inp.params)
        except ValueError as exc:
            raise ApplicationError(str(exc), type="InvalidParams", non_retryable=True) from exc
        workflow.upsert_search_attributes([STAGE.value_set("terms_approval")])
        result = await run_chain(
            ChainInput(
                deal_id=inp.deal_id,
                pipeline_id=inp.pipeline_id,
                initiator_id=inp.initiator_id,
                template_code=params.template,
                title="New client terms",
            )
        )
        workflow.upsert_search_attributes([STAGE.value_set(f"terms_{result.outcome}")])
        return result

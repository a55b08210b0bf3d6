"""PIT-2 New client onboarding: the deal enters "Terms approval" and its terms go through
the approval chain (head of sales → deputy chief accountant → lawyer → 1C operator →
lawyer); the chain's template (data) says who decides, what each may change and what
happens on rejection and approval."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

from workflows.kit import Process
from workflows.kit import process as declare
from workflows.kit.params import Code, param
from workflows.kit.process import FINISH_CLEARS_ASSIGNEE

with workflow.unsafe.imports_passed_through():
    # From their own module: the sandbox resolves a payload type's hints through it.
    from workflows.approval_chain_types import ChainInput, ChainResult
    from workflows.kit.contracts import ProcessInput
    from workflows.processes.approval_chain import run_chain

PROCESS = "client_onboarding"
DEFAULT_TEMPLATE = "client_onboarding"


@dataclass
class OnboardingParams:
    template: Code = param(help="an approval template code", default=Code(DEFAULT_TEMPLATE))


@declare(PROCESS, params=OnboardingParams)
class ClientOnboarding(Process):
    """PIT-2: a new client's terms through the approval chain of a template."""

    kit_patches = frozenset({FINISH_CLEARS_ASSIGNEE})

    @workflow.run
    async def run(self, inp: ProcessInput) -> ChainResult:
        template = self.params.template
        self.set_stage("terms_approval")
        result = await run_chain(
            ChainInput(
                deal_id=inp.deal_id,
                pipeline_id=inp.pipeline_id,
                initiator_id=inp.initiator_id,
                template_code=template,
                title="New client terms",
            )
        )
        self.set_stage(f"terms_{result.outcome}")
        await self.finish(result.outcome)
        return result

"""Processes by declaration: `@process("sample_return", params=SampleReturnParams)` on the
workflow class registers it (as `@workflow.defn` with that name) with its typed params.

`starts` says how a run begins: `deal` (`POST /deals/{id}/processes` and automation rules),
`lead` (`POST /leads/{id}/processes`: the run's input names the lead, `lead_id`, and no
deal), `spend` (a spend's submission, by the worker's finance consumer) or `child`
(started by another process, e.g. the approval chain). The worker registers every declared workflow;
the gateway validates params through the declaration. Process modules live in
workflows/processes/ and are found there (workflows.processes.declared()).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from temporalio import workflow

from workflows.kit import params as params_

C = TypeVar("C", bound=type)
Starts = Literal["deal", "lead", "spend", "child"]

_DECLARED: dict[str, ProcessDefinition] = {}


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    workflow: type  # the @workflow.defn class
    params: type  # a dataclass checked by workflows.kit.params
    starts: Starts
    spend_kind: str = ""  # for `spend`: the kind of spend whose submission starts it
    summary: str = ""

    def parse_params(self, raw: Mapping[str, Any]) -> Any:
        """The typed params; ValueError with the message for the client."""
        return params_.parse(self.params, raw)


def process(
    name: str,
    *,
    params: type = params_.NoParams,
    starts: Starts = "deal",
    spend_kind: str = "",
) -> Callable[[C], C]:
    """Declare a process: its Temporal workflow type name, typed params and how it starts."""

    def declare(cls: C) -> C:
        defined = workflow.defn(name=name)(cls)
        doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        definition = ProcessDefinition(name, defined, params, starts, spend_kind, doc)
        defined.__process__ = definition  # type: ignore[attr-defined]
        _DECLARED[name] = definition
        return defined

    return declare


def declared() -> dict[str, ProcessDefinition]:
    """Every process declared in the modules imported so far."""
    return dict(_DECLARED)


def definition_of(cls: type) -> ProcessDefinition:
    found: ProcessDefinition | None = getattr(cls, "__process__", None)
    if found is None:
        raise TypeError(f"{cls.__qualname__} is not declared with @process")
    return found

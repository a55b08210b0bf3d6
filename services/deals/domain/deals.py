"""Deals and their rules: creation, updates with optimistic concurrency, stage moves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from process_rules.field_values import BadValue, is_empty, merge_values, normalize
from services.common.errors import Conflict, FieldProblem, ValidationFailed
from services.deals.domain.attributes import SETTABLE, clean_attributes
from services.deals.domain.events import DealCreated, DealEvent, DealStageChanged, DealUpdated
from services.deals.domain.formulas import recompute
from services.deals.domain.pipelines import Kind, Pipeline, Semantic, Stage


class Transition(StrEnum):
    ADVANCED = "advanced"
    WON = "won"
    LOST = "lost"
    REOPENED = "reopened"
    RECLOSED = "reclosed"


@dataclass
class Deal:
    id: int
    pipeline_id: int
    stage_id: int
    title: str
    responsible_id: int
    amount: Decimal | None
    currency: str
    company_name: str
    contact_name: str
    fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    stage_entered_at: datetime
    stage_semantic: Semantic = Semantic.IN_PROGRESS
    waiting_runs: int = 0  # its automation runs waiting, as read (kept by the run log)
    events: list[DealEvent] = field(default_factory=list, compare=False, repr=False)

    def check_version(self, expected_version: int) -> None:
        """0 skips the check; any other value must be the version the caller last saw."""
        if expected_version and expected_version != self.version:
            raise Conflict(f"deal {self.id} is at version {self.version}, not {expected_version}")

    def attributes(self) -> dict[str, Any]:
        """The comparable attributes, JSON-ready, for before/after in events."""
        return {
            "title": self.title,
            "responsible_id": str(self.responsible_id),
            "amount": None if self.amount is None else format(self.amount, "f"),
            "currency": self.currency,
            "company_name": self.company_name,
            "contact_name": self.contact_name,
            "fields": dict(self.fields),
        }

    def update(
        self,
        pipeline: Pipeline,
        *,
        changes: dict[str, Any],
        field_changes: dict[str, Any],
        expected_version: int,
        actor_id: int | None,
        now: datetime,
    ) -> bool:
        """Apply the named attribute changes and merge custom fields; False if nothing changed.

        A field required on the current stage cannot be cleared.
        """
        self.check_version(expected_version)
        unknown = [FieldProblem(k, "cannot be set") for k in changes if k not in SETTABLE]
        if unknown:
            raise ValidationFailed(unknown)
        clean = clean_attributes(changes)
        merged = merge_values({f.code: f for f in pipeline.fields}, self.fields, field_changes)
        merged = with_computed(pipeline, merged, clean.get("amount", self.amount))
        stage = pipeline.stage(self.stage_id)
        require_fields(pipeline, stage, merged)
        before = self.attributes()
        for name, value in clean.items():
            setattr(self, name, value)
        self.fields = merged
        after = self.attributes()
        changed = {k for k in after if after[k] != before[k]}
        if not changed:
            return False
        if "fields" in changed:
            both = before["fields"].keys() | after["fields"].keys()
            codes = {c for c in both if before["fields"].get(c) != after["fields"].get(c)}
            before["fields"] = {c: before["fields"].get(c) for c in sorted(codes)}
            after["fields"] = {c: after["fields"].get(c) for c in sorted(codes)}
        self._bump(now)
        self.events.append(
            DealUpdated(
                actor_id,
                {k: before[k] for k in sorted(changed)},
                {k: after[k] for k in sorted(changed)},
            )
        )
        return True

    def move(
        self,
        current: Pipeline,
        target: Pipeline,
        *,
        stage_id: int,
        expected_version: int,
        actor_id: int | None,
        comment: str,
        now: datetime,
    ) -> None:
        """Move to `stage_id` of `target` (the deal's own pipeline unless moving between
        pipelines); every field required on the target stage must be filled."""
        self.check_version(expected_version)
        if target.kind is not Kind.DEAL:
            raise ValidationFailed(FieldProblem("pipeline_id", "is a lead funnel, not a pipeline"))
        from_stage = current.stage(self.stage_id)
        to_stage = target.stage(stage_id)
        kind = transition(from_stage, to_stage)
        fields = self.fields
        dropped: dict[str, Any] = {}
        require_leave(current, from_stage, fields)
        if target.id != current.id:
            # Values move along where the new pipeline has a field of that code and type.
            fields, dropped = carry_fields(current, target, self.fields)
            fields = with_computed(target, fields, self.amount)
        require_fields(target, to_stage, fields)
        seconds = max(0.0, (now - self.stage_entered_at).total_seconds())
        self.events.append(
            DealStageChanged(
                actor_id=actor_id,
                from_stage_id=from_stage.id,
                to_stage_id=to_stage.id,
                from_stage=from_stage.name,
                to_stage=to_stage.name,
                transition=kind.value,
                seconds_in_previous_stage=seconds,
                comment=comment,
                from_pipeline_id=current.id,
                to_pipeline_id=target.id,
                dropped_fields=dropped,
            )
        )
        self.pipeline_id, self.stage_id, self.fields = target.id, to_stage.id, fields
        self.stage_entered_at, self.stage_semantic = now, to_stage.semantic
        self._bump(now)

    def _bump(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now


def transition(from_stage: Stage, to_stage: Stage) -> Transition:
    """What a move from one stage to another means; the same stage is refused."""
    match (from_stage.semantic, to_stage.semantic):
        case _ if from_stage.id == to_stage.id:
            raise ValidationFailed(FieldProblem("stage_id", "the deal is already in this stage"))
        case (Semantic.IN_PROGRESS, Semantic.IN_PROGRESS):
            return Transition.ADVANCED
        case (Semantic.IN_PROGRESS, Semantic.WON):
            return Transition.WON
        case (Semantic.IN_PROGRESS, Semantic.LOST):
            return Transition.LOST
        case (Semantic.WON | Semantic.LOST, Semantic.IN_PROGRESS):
            return Transition.REOPENED
        case (Semantic.WON | Semantic.LOST, Semantic.WON | Semantic.LOST):
            return Transition.RECLOSED
    raise AssertionError(f"unknown semantics {from_stage.semantic} -> {to_stage.semantic}")


def require_fields(pipeline: Pipeline, stage: Stage, values: dict[str, Any]) -> None:
    """Every field required on `stage` must have a value: one problem per missing field."""
    missing = [
        FieldProblem(f"fields.{f.code}", f"required on stage {stage.name}")
        for f in pipeline.required_on(stage.id)
        if is_empty(values.get(f.code))
    ]
    if missing:
        raise ValidationFailed(missing)


def require_leave(pipeline: Pipeline, stage: Stage, values: dict[str, Any]) -> None:
    """Every field required to leave `stage` must have a value: one problem per missing."""
    missing = [
        FieldProblem(f"fields.{f.code}", f"required to leave stage {stage.name}")
        for f in pipeline.required_to_leave_stage(stage.id)
        if is_empty(values.get(f.code))
    ]
    if missing:
        raise ValidationFailed(missing)


def with_computed(pipeline: Pipeline, values: dict[str, Any], amount: Any) -> dict[str, Any]:
    """`values` with the pipeline's computed fields computed again (empty ones dropped)."""
    formulas = pipeline.formulas()
    if not formulas:
        return values
    computed = dict(values)
    for code, value in recompute(formulas, {**values, "amount": amount}).items():
        definition = pipeline.field_by_code(code)
        if value is None or definition is None:
            computed.pop(code, None)
        else:
            computed[code] = normalize(definition, format(value, "f"))
    return computed


def carry_fields(
    source: Pipeline, target: Pipeline, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split values into those the target pipeline can hold and those it cannot. Computed
    figures other services keep on the deal (dotted codes, e.g. `finance.profit`, which no
    pipeline field can have) go along whatever the pipeline."""
    kept: dict[str, Any] = {}
    dropped: dict[str, Any] = {}
    for code, value in values.items():
        if "." in code:
            kept[code] = value
            continue
        definition = target.field_by_code(code)
        try:
            if definition is None:
                raise BadValue(code)
            kept[code] = normalize(definition, value)
        except BadValue:
            dropped[code] = value
    return kept, dropped


def new_deal(
    pipeline: Pipeline,
    *,
    title: str,
    responsible_id: int,
    amount: str,
    currency: str,
    company_name: str,
    contact_name: str,
    fields: dict[str, Any],
    stage_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> Deal:
    """A new deal (id 0 until stored) in `stage_id` or the pipeline's first stage."""
    problems: list[FieldProblem] = []
    if pipeline.kind is not Kind.DEAL:
        raise ValidationFailed(FieldProblem("pipeline_id", "is a lead funnel, not a pipeline"))
    attrs: dict[str, Any] = {}
    try:
        attrs = clean_attributes(
            {
                "title": title,
                "responsible_id": responsible_id,
                "amount": amount,
                "currency": currency,
                "company_name": company_name,
                "contact_name": contact_name,
            }
        )
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    values: dict[str, Any] = {}
    try:
        values = merge_values({f.code: f for f in pipeline.fields}, {}, fields)
        values = with_computed(pipeline, values, attrs.get("amount"))
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    stage = pipeline.first_stage
    try:
        stage = pipeline.stage(stage_id) if stage_id is not None else stage
        require_fields(pipeline, stage, values)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    deal = Deal(
        id=0,
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        fields=values,
        version=1,
        created_at=now,
        updated_at=now,
        stage_entered_at=now,
        stage_semantic=stage.semantic,
        **attrs,
    )
    deal.events.append(DealCreated(actor_id))
    return deal


def with_id(deal: Deal, deal_id: int) -> Deal:
    """The same deal once stored, keeping the events it recorded."""
    stored = replace(deal, id=deal_id)
    stored.events = deal.events
    return stored

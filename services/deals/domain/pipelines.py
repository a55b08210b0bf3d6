"""Pipelines: ordered stages with a semantic, and the custom field definitions of a pipeline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from process_rules.field_values import FieldType
from services.common.errors import FieldProblem, NotFound, ValidationFailed
from services.deals.domain.formulas import Operand, check_formula

__all__ = ["FieldType"]  # re-exported: the deals domain names it with its definitions


class Semantic(StrEnum):
    IN_PROGRESS = "in_progress"
    WON = "won"
    LOST = "lost"
    SPAM = "spam"  # lead funnels only: entering it excludes the lead's contact


class Kind(StrEnum):
    DEAL = "deal"
    LEAD = "lead"


SEMANTICS = {
    Kind.DEAL: (Semantic.IN_PROGRESS, Semantic.WON, Semantic.LOST),
    Kind.LEAD: (Semantic.IN_PROGRESS, Semantic.WON, Semantic.LOST, Semantic.SPAM),
}


FIELD_CODE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_NAME = 200


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    semantic: Semantic
    position: int


@dataclass(frozen=True)
class FieldDefinition:
    id: int
    pipeline_id: int
    code: str
    name: str
    type: FieldType
    required_on_stages: tuple[int, ...] = ()
    options: tuple[str, ...] = ()
    list_code: str = ""
    formula: str = ""  # a computed field's formula (domain/formulas.py); read-only then
    currency: str = ""  # a money field's fixed currency ("" = the deal's)
    required_to_leave: tuple[int, ...] = ()  # stages the deal may not leave without it


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    stages: tuple[Stage, ...]
    fields: tuple[FieldDefinition, ...] = field(default=())
    kind: Kind = Kind.DEAL
    rules_version: int = 0  # bumped by every write of its automation rules

    @property
    def first_stage(self) -> Stage:
        return min(self.stages, key=lambda s: s.position)

    def stage(self, stage_id: int, *, field_name: str = "stage_id") -> Stage:
        """The stage of this pipeline with that id, or a validation problem on `field_name`."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise ValidationFailed(FieldProblem(field_name, "is not a stage of the deal's pipeline"))

    def field_by_code(self, code: str) -> FieldDefinition | None:
        return next((f for f in self.fields if f.code == code), None)

    def required_on(self, stage_id: int) -> list[FieldDefinition]:
        return [f for f in self.fields if stage_id in f.required_on_stages]

    def required_to_leave_stage(self, stage_id: int) -> list[FieldDefinition]:
        return [f for f in self.fields if stage_id in f.required_to_leave]

    def formulas(self) -> dict[str, str]:
        """The computed fields' formulas by code."""
        return {f.code: f.formula for f in self.fields if f.formula}


@dataclass(frozen=True)
class StageDraft:
    """A stage not stored yet."""

    name: str
    semantic: Semantic


def stage_draft(name: str, semantic: str, *, prefix: str, kind: Kind = Kind.DEAL) -> StageDraft:
    """A valid new stage, or the problems with its name and semantic."""
    problems: list[FieldProblem] = []
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        problems.append(FieldProblem(f"{prefix}.name", f"must be 1 to {MAX_NAME} characters"))
    allowed = SEMANTICS[kind]
    chosen = Semantic.IN_PROGRESS
    if (semantic or Semantic.IN_PROGRESS) in allowed:
        chosen = Semantic(semantic or Semantic.IN_PROGRESS)
    else:
        names = ", ".join(allowed)
        problems.append(FieldProblem(f"{prefix}.semantic", f"must be one of {names}"))
    if problems:
        raise ValidationFailed(problems)
    return StageDraft(name, chosen)


def pipeline_kind(kind: str) -> Kind:
    try:
        return Kind(kind or Kind.DEAL)
    except ValueError:
        raise ValidationFailed(FieldProblem("kind", "must be one of deal, lead")) from None


def new_pipeline(
    name: str, stages: list[tuple[str, str]], kind: Kind = Kind.DEAL
) -> tuple[str, list[StageDraft]]:
    """Validate a pipeline to create: a name and at least one stage, names unique."""
    problems: list[FieldProblem] = []
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        problems.append(FieldProblem("name", f"must be 1 to {MAX_NAME} characters"))
    if not stages:
        problems.append(FieldProblem("stages", "a pipeline needs at least one stage"))
    drafts: list[StageDraft] = []
    for i, (stage_name, semantic) in enumerate(stages):
        try:
            drafts.append(stage_draft(stage_name, semantic, prefix=f"stages[{i}]", kind=kind))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
    names = [d.name.casefold() for d in drafts]
    if len(set(names)) != len(names):
        problems.append(FieldProblem("stages", "stage names must be unique in a pipeline"))
    if problems:
        raise ValidationFailed(problems)
    return name, drafts


def insert_position(pipeline: Pipeline, draft: StageDraft, position: int | None) -> int:
    """Where a new stage goes (0-based); None appends. Names stay unique."""
    if any(s.name.casefold() == draft.name.casefold() for s in pipeline.stages):
        raise ValidationFailed(FieldProblem("stage.name", "a stage with this name exists"))
    count = len(pipeline.stages)
    if position is None:
        return count
    if position < 0 or position > count:
        raise ValidationFailed(FieldProblem("position", f"must be between 0 and {count}"))
    return position


def new_field(
    pipeline: Pipeline,
    *,
    code: str,
    name: str,
    type: str,
    required_on_stages: list[int],
    options: list[str],
    list_code: str,
    list_exists: bool,
    formula: str = "",
    currency: str = "",
    required_to_leave: list[int] | None = None,
) -> FieldDefinition:
    """Validate a field definition to add to `pipeline` (id 0 until stored)."""
    problems: list[FieldProblem] = []
    if not FIELD_CODE.match(code):
        problems.append(FieldProblem("code", "must match ^[a-z][a-z0-9_]{0,62}$"))
    elif pipeline.field_by_code(code) is not None:
        problems.append(FieldProblem("code", "a field with this code exists in the pipeline"))
    name = name.strip() or code
    if len(name) > MAX_NAME:
        problems.append(FieldProblem("name", f"must be at most {MAX_NAME} characters"))
    try:
        kind = FieldType(type)
    except ValueError:
        kind = FieldType.STRING
        problems.append(
            FieldProblem("type", "must be one of " + ", ".join(t.value for t in FieldType))
        )
    stage_ids = {s.id for s in pipeline.stages}
    for i, stage_id in enumerate(required_on_stages):
        if stage_id not in stage_ids:
            problems.append(
                FieldProblem(f"required_on_stages[{i}]", "is not a stage of this pipeline")
            )
    clean_options = tuple(o.strip() for o in options)
    if kind is FieldType.ENUM:
        if not clean_options or any(not o for o in clean_options):
            problems.append(FieldProblem("options", "an enum field needs non-empty options"))
        elif len(set(clean_options)) != len(clean_options):
            problems.append(FieldProblem("options", "options must be unique"))
    elif clean_options:
        problems.append(FieldProblem("options", "only enum fields have options"))
    if kind is FieldType.LIST_ITEM and not list_exists:
        problems.append(FieldProblem("list_code", "must name an existing list"))
    if kind is not FieldType.LIST_ITEM and list_code:
        problems.append(FieldProblem("list_code", "only list_item fields name a list"))
    for i, stage_id in enumerate(required_to_leave or []):
        if stage_id not in stage_ids:
            problems.append(
                FieldProblem(f"required_to_leave[{i}]", "is not a stage of this pipeline")
            )
    problems += _check_computed(pipeline, code, kind, formula.strip(), currency.strip().upper())
    if problems:
        raise ValidationFailed(problems)
    return FieldDefinition(
        id=0,
        pipeline_id=pipeline.id,
        code=code,
        name=name,
        type=kind,
        required_on_stages=tuple(dict.fromkeys(required_on_stages)),
        options=clean_options,
        list_code=list_code if kind is FieldType.LIST_ITEM else "",
        formula=formula.strip(),
        currency=currency.strip().upper(),
        required_to_leave=tuple(dict.fromkeys(required_to_leave or [])),
    )


def _check_computed(
    pipeline: Pipeline, code: str, kind: FieldType, formula: str, currency: str
) -> list[FieldProblem]:
    if currency and (kind is not FieldType.MONEY or not re.match(r"^[A-Z]{3}$", currency)):
        return [FieldProblem("currency", "only money fields have one, an ISO 4217 code")]
    if not formula:
        return []
    if kind not in (FieldType.NUMBER, FieldType.MONEY):
        return [FieldProblem("formula", "only number and money fields are computed")]
    operands = {f.code: Operand(f.type.value, f.formula, f.currency) for f in pipeline.fields}
    operands["amount"] = Operand("money")
    operands[code] = Operand(kind.value, formula, currency)
    return check_formula(code, formula, operands)


def require_pipeline(pipeline: Pipeline | None, pipeline_id: int) -> Pipeline:
    if pipeline is None:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return pipeline

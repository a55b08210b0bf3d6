"""Leads in lead funnels: creation, updates, stage moves (into a spam stage too) and the
plan of a conversion into a deal. Plain rules, no I/O; events are recorded on the lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from process_rules.field_values import merge_values
from services.common.errors import Conflict, FieldProblem, ValidationFailed
from services.deals.domain.deals import carry_fields, require_fields, require_leave
from services.deals.domain.pipelines import MAX_NAME, Kind, Pipeline, Semantic, Stage

SETTABLE = ("title", "source", "contact_id", "company_id", "responsible_id")


@dataclass(frozen=True)
class LeadCreated:
    actor_id: int | None


@dataclass(frozen=True)
class LeadUpdated:
    actor_id: int | None
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class LeadStageChanged:
    actor_id: int | None
    from_stage_id: int
    to_stage_id: int
    from_stage: str
    to_stage: str
    transition: str  # advanced | won | lost | spam | reopened | reclosed
    seconds_in_previous_stage: float
    comment: str


@dataclass(frozen=True)
class LeadConverted:
    actor_id: int | None
    deal_id: int
    pipeline_id: int


LeadEvent = LeadCreated | LeadUpdated | LeadStageChanged | LeadConverted


@dataclass
class Lead:
    id: int
    pipeline_id: int
    stage_id: int
    title: str
    source: str
    contact_id: int | None
    company_id: int | None
    responsible_id: int
    fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    stage_entered_at: datetime
    deal_id: int | None = None
    stage_semantic: Semantic = Semantic.IN_PROGRESS
    waiting_runs: int = 0  # its automation runs waiting, as read (kept by the run log)
    events: list[LeadEvent] = field(default_factory=list, compare=False, repr=False)

    def attributes(self) -> dict[str, Any]:
        def ref(value: int | None) -> str | None:
            return None if value is None else str(value)

        return {
            "title": self.title,
            "source": self.source,
            "contact_id": ref(self.contact_id),
            "company_id": ref(self.company_id),
            "responsible_id": str(self.responsible_id),
            "fields": dict(self.fields),
        }

    def check_version(self, expected_version: int) -> None:
        if expected_version and expected_version != self.version:
            raise Conflict(f"lead {self.id} is at version {self.version}, not {expected_version}")

    def update(
        self,
        funnel: Pipeline,
        *,
        changes: dict[str, Any],
        field_changes: dict[str, Any],
        expected_version: int,
        actor_id: int | None,
        now: datetime,
    ) -> bool:
        """Apply attribute changes and merge custom fields; False when nothing changed."""
        self.check_version(expected_version)
        problems = [FieldProblem(k, "cannot be set") for k in changes if k not in SETTABLE]
        for name in ("title", "source"):
            if name in changes:
                _text(name, changes[name], problems, required=name == "title")
        if problems:
            raise ValidationFailed(problems)
        merged = merge_values({f.code: f for f in funnel.fields}, self.fields, field_changes)
        require_fields(funnel, funnel.stage(self.stage_id), merged)
        before = self.attributes()
        for name, value in changes.items():
            setattr(self, name, value.strip() if isinstance(value, str) else value)
        self.fields = merged
        after = self.attributes()
        changed = sorted(k for k in after if after[k] != before[k])
        if not changed:
            return False
        self._bump(now)
        self.events.append(
            LeadUpdated(actor_id, {k: before[k] for k in changed}, {k: after[k] for k in changed})
        )
        return True

    def move(
        self,
        funnel: Pipeline,
        *,
        stage_id: int,
        expected_version: int,
        actor_id: int | None,
        comment: str,
        now: datetime,
    ) -> Stage:
        """Move within the funnel; the fields required to leave the stage left and those
        the stage entered requires must be filled (one problem per missing field; that is
        "leaving Collect needs Source"). The stage entered is returned (a spam stage
        excludes the contact: the service does that)."""
        self.check_version(expected_version)
        from_stage, to_stage = funnel.stage(self.stage_id), funnel.stage(stage_id)
        kind = lead_transition(from_stage, to_stage)
        problems: list[FieldProblem] = []
        for check, stage in ((require_leave, from_stage), (require_fields, to_stage)):
            try:
                check(funnel, stage, self.fields)
            except ValidationFailed as exc:
                problems += [p for p in exc.problems if p.field not in {q.field for q in problems}]
        if problems:
            raise ValidationFailed(problems)
        self.events.append(
            LeadStageChanged(
                actor_id=actor_id,
                from_stage_id=from_stage.id,
                to_stage_id=to_stage.id,
                from_stage=from_stage.name,
                to_stage=to_stage.name,
                transition=kind,
                seconds_in_previous_stage=max(0.0, (now - self.stage_entered_at).total_seconds()),
                comment=comment,
            )
        )
        self.stage_id, self.stage_semantic, self.stage_entered_at = (
            to_stage.id,
            to_stage.semantic,
            now,
        )
        self._bump(now)
        return to_stage

    def convert(
        self,
        funnel: Pipeline,
        *,
        deal_id: int,
        pipeline_id: int,
        actor_id: int | None,
        now: datetime,
    ) -> None:
        """Linked to its deal and closed as won: a lead already in a won stage stays there
        (SN-1's "Interesting"), any other goes to the funnel's first won stage."""
        if self.stage_semantic is not Semantic.WON:
            self.move(
                funnel,
                stage_id=won_stage(funnel).id,
                expected_version=0,
                actor_id=actor_id,
                comment="converted",
                now=now,
            )
        self.deal_id = deal_id
        self.events.append(LeadConverted(actor_id, deal_id, pipeline_id))
        self._bump(now)

    def _bump(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now


def _text(name: str, value: Any, problems: list[FieldProblem], *, required: bool) -> None:
    if (
        not isinstance(value, str)
        or len(value.strip()) > MAX_NAME
        or (required and not value.strip())
    ):
        problems.append(FieldProblem(name, f"must be {int(required)} to {MAX_NAME} characters"))


def lead_transition(from_stage: Stage, to_stage: Stage) -> str:
    """What a move means; the same stage is refused."""
    closed = (Semantic.WON, Semantic.LOST, Semantic.SPAM)
    match (from_stage.semantic, to_stage.semantic):
        case _ if from_stage.id == to_stage.id:
            raise ValidationFailed(FieldProblem("stage_id", "the lead is already in this stage"))
        case (Semantic.IN_PROGRESS, Semantic.IN_PROGRESS):
            return "advanced"
        case (Semantic.IN_PROGRESS, to):
            return str(to)
        case (_, Semantic.IN_PROGRESS):
            return "reopened"
        case (f, t) if f in closed and t in closed:
            return "reclosed"
    raise AssertionError(f"unknown semantics {from_stage.semantic} -> {to_stage.semantic}")


def require_funnel(funnel: Pipeline, name: str = "pipeline_id") -> Pipeline:
    if funnel.kind is not Kind.LEAD:
        raise ValidationFailed(FieldProblem(name, "is not a lead funnel"))
    return funnel


def won_stage(funnel: Pipeline) -> Stage:
    for stage in sorted(funnel.stages, key=lambda s: s.position):
        if stage.semantic is Semantic.WON:
            return stage
    raise ValidationFailed(FieldProblem("id", "the lead's funnel has no won stage to close it in"))


def new_lead(
    funnel: Pipeline,
    *,
    title: str,
    source: str,
    contact_id: int | None,
    company_id: int | None,
    responsible_id: int,
    fields: dict[str, Any],
    stage_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> Lead:
    """A new lead (id 0 until stored) in `stage_id` or the funnel's first stage."""
    require_funnel(funnel)
    problems: list[FieldProblem] = []
    _text("title", title, problems, required=True)
    _text("source", source, problems, required=False)
    values: dict[str, Any] = {}
    try:
        values = merge_values({f.code: f for f in funnel.fields}, {}, fields)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    stage = funnel.first_stage
    try:
        stage = funnel.stage(stage_id) if stage_id is not None else stage
        require_fields(funnel, stage, values)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
    if problems:
        raise ValidationFailed(problems)
    lead = Lead(
        id=0,
        pipeline_id=funnel.id,
        stage_id=stage.id,
        title=title.strip(),
        source=source.strip(),
        contact_id=contact_id,
        company_id=company_id,
        responsible_id=responsible_id,
        fields=values,
        version=1,
        created_at=now,
        updated_at=now,
        stage_entered_at=now,
        stage_semantic=stage.semantic,
    )
    lead.events.append(LeadCreated(actor_id))
    return lead


@dataclass(frozen=True)
class DealPlan:
    """What the deal of a conversion gets: the lead's values the pipeline has a field for
    (same code and a value that fits its type), and those left behind."""

    fields: dict[str, Any]
    dropped: dict[str, Any]


def conversion_plan(lead: Lead, funnel: Pipeline, pipeline: Pipeline) -> DealPlan:
    if lead.deal_id is not None:
        raise Conflict(f"lead {lead.id} was converted into deal {lead.deal_id} already")
    if pipeline.kind is not Kind.DEAL:
        raise ValidationFailed(FieldProblem("pipeline_id", "is a lead funnel, not a pipeline"))
    if lead.stage_semantic is Semantic.SPAM:
        raise ValidationFailed(FieldProblem("id", "a lead marked as spam is not converted"))
    kept, dropped = carry_fields(funnel, pipeline, lead.fields)
    return DealPlan(kept, dropped)

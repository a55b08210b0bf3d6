"""Inputs and outputs of the reminder plans' and the leadership alerts' activities and
workflows (workflows/reminder_plan.py, workflows/leadership_alerts.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PLAN_WORKFLOW = "reminder_plan"
PLAN_CHANGED_SIGNAL = "plan_changed"
ALERTS_WORKFLOW = "leadership_alerts"
ALERTS_WORKFLOW_ID = "leadership-alerts"  # one for the whole company
CHECK_NOW_SIGNAL = "check_now"
CHECKS = ("digest", "unplanned", "first_stage")


def plan_workflow_id(plan_id: str) -> str:
    return f"reminder-plan/{plan_id}"


@dataclass
class PlanInput:
    plan_id: str
    runs: int = 0  # how many runs of this plan came before (continue-as-new)
    reminders: int = 0  # how many reminders its runs made before


@dataclass
class PlanStateInput:
    plan_id: str


@dataclass
class PlanState:
    status: str  # active | stopped
    next_due: dict[str, datetime] = field(default_factory=dict)  # channel: when
    responsible_id: str = ""


@dataclass
class ReminderInput:
    plan_id: str
    channel: str
    due_at: datetime
    idempotency_key: str


@dataclass
class ReminderMade:
    activity_id: str  # "" when nothing was due after all (the plan moved on)


@dataclass
class AlertsInput:
    runs: int = 0


@dataclass
class AlertTimesInput:
    now: datetime


@dataclass
class AlertTimes:
    digest_at: datetime
    end_of_day: datetime


@dataclass
class AlertCheckInput:
    check: str  # digest | unplanned | first_stage
    now: datetime


@dataclass
class AlertCheckResult:
    sent: int

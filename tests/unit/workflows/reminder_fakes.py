"""Fake activities of the reminder plans and the leadership alerts, by name, keeping a
plan's state in memory and its due times by the real rules
(services/deals/domain/reminder_plans.py), so the workflow is tested on the time-skipping
server against what the deals service would answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity

from services.deals.domain.alerts import next_working_time
from services.deals.domain.calendar import CompanyCalendar
from services.deals.domain.reminder_plans import Frequency, next_due
from workflows.activities.reminder_types import (
    AlertCheckInput,
    AlertCheckResult,
    AlertTimes,
    AlertTimesInput,
    PlanState,
    PlanStateInput,
    ReminderInput,
    ReminderMade,
)


@dataclass
class FakePlan:
    started: datetime
    frequencies: dict[str, Frequency]
    status: str = "active"
    last_done: dict[str, datetime] = field(default_factory=dict)
    last_reminder: dict[str, datetime] = field(default_factory=dict)
    made: list[tuple[str, datetime]] = field(default_factory=list)  # (channel, due)
    keys: set[str] = field(default_factory=set)

    def due(self) -> dict[str, datetime]:
        if self.status != "active":
            return {}
        return {
            channel: next_due(
                frequency,
                last_done=self.last_done.get(channel),
                last_reminder=self.last_reminder.get(channel),
                started=self.started,
            )
            for channel, frequency in self.frequencies.items()
        }

    def of(self, channel: str) -> list[datetime]:
        return [at for c, at in self.made if c == channel]

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="reminder_plan_state")
        async def state(inp: PlanStateInput) -> PlanState:
            return PlanState(status=self.status, next_due=self.due(), responsible_id="8")

        @activity.defn(name="create_reminder")
        async def create(inp: ReminderInput) -> ReminderMade:
            if inp.idempotency_key in self.keys:
                return ReminderMade(inp.idempotency_key)
            due = self.due().get(inp.channel)
            if due is None or due > inp.due_at:
                return ReminderMade("")
            self.keys.add(inp.idempotency_key)
            self.last_reminder[inp.channel] = inp.due_at
            self.made.append((inp.channel, inp.due_at))
            return ReminderMade(inp.idempotency_key)

        return [state, create]


@dataclass
class FakeAlerts:
    calendar: CompanyCalendar = field(default_factory=CompanyCalendar)
    digest_at: str = "09:00"
    checks: list[tuple[str, datetime]] = field(default_factory=list)

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="alert_times")
        async def times(inp: AlertTimesInput) -> AlertTimes:
            return AlertTimes(
                digest_at=next_working_time(inp.now, self.calendar, self.digest_at),
                end_of_day=next_working_time(inp.now, self.calendar, self.calendar.work_end),
            )

        @activity.defn(name="run_alert_check")
        async def check(inp: AlertCheckInput) -> AlertCheckResult:
            self.checks.append((inp.check, inp.now))
            return AlertCheckResult(sent=1)

        return [times, check]


def gaps(times: list[datetime]) -> list[timedelta]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]

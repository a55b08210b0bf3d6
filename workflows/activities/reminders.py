"""Activities of the reminder plans and the leadership alerts: read a plan's next due
times, make a channel's reminder (the activity, and a notification to the responsible),
when the next digest and end-of-day check are due, and run an alert check (read what it
owes from the deals service, notify each person). Each change is idempotent by its key
(the workflow id and step): a retry after a lost answer notifies nobody twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dealflow.deals.v1 import activities_pb2, activities_pb2_grpc
from dealflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from temporalio import activity

from services.common.protoconv import from_struct, to_timestamp
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
from workflows.activities.services import _call

REMINDER_KIND = "reminder_plan.reminder"


class ReminderActivities:
    def __init__(
        self,
        activities: activities_pb2_grpc.ActivitiesServiceStub,
        notifications: notifications_pb2_grpc.NotificationsServiceStub,
        *,
        digest_at: str = "09:00",
        stale_days: int = 14,
        grace_hours: int = 24,
    ) -> None:
        self._activities = activities
        self._notifications = notifications
        self._digest_at, self._stale_days, self._grace_hours = digest_at, stale_days, grace_hours

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.reminder_plan_state,
            self.create_reminder,
            self.alert_times,
            self.run_alert_check,
        ]

    @activity.defn(name="reminder_plan_state")
    async def reminder_plan_state(self, inp: PlanStateInput) -> PlanState:
        reply = await _call(self._activities.GetPlan, activities_pb2.GetPlanRequest(id=inp.plan_id))
        plan = from_struct(reply.plan)
        return PlanState(
            status=plan["status"],
            next_due={c: datetime.fromisoformat(at) for c, at in plan["next_due"].items()},
            responsible_id=plan["responsible_id"],
        )

    @activity.defn(name="create_reminder")
    async def create_reminder(self, inp: ReminderInput) -> ReminderMade:
        made = await _call(
            self._activities.CreateReminder,
            activities_pb2.CreateReminderRequest(
                plan_id=inp.plan_id,
                channel=inp.channel,
                due_at=to_timestamp(inp.due_at),
                idempotency_key=inp.idempotency_key,
            ),
        )
        if made.id:
            await self._notify(
                user_id=made.assignee_id,
                kind=REMINDER_KIND,
                title=made.subject,
                body=f"Due {inp.due_at:%Y-%m-%d %H:%M} UTC",
                deal_id=made.deal_id,
                key=f"{inp.idempotency_key}/notice",
            )
        return ReminderMade(activity_id=made.id)

    @activity.defn(name="alert_times")
    async def alert_times(self, inp: AlertTimesInput) -> AlertTimes:
        reply = await _call(
            self._activities.AlertTimes,
            activities_pb2.AlertTimesRequest(now=to_timestamp(inp.now), digest_at=self._digest_at),
        )
        return AlertTimes(
            digest_at=reply.digest_at.ToDatetime(tzinfo=inp.now.tzinfo),
            end_of_day=reply.end_of_day.ToDatetime(tzinfo=inp.now.tzinfo),
        )

    @activity.defn(name="run_alert_check")
    async def run_alert_check(self, inp: AlertCheckInput) -> AlertCheckResult:
        reply = await _call(
            self._activities.CheckAlerts,
            activities_pb2.CheckAlertsRequest(
                check=inp.check,
                now=to_timestamp(inp.now),
                stale_days=self._stale_days,
                grace_hours=self._grace_hours,
            ),
        )
        alerts = [from_struct(a) for a in reply.alerts]
        for alert in alerts:
            await self._notify(
                user_id=alert["user_id"],
                kind=alert["kind"],
                title=alert["title"],
                body=alert["body"],
                deal_id=alert["deal_id"],
                key=f"alerts/{alert['key']}",
            )
        return AlertCheckResult(sent=len(alerts))

    async def _notify(
        self, *, user_id: str, kind: str, title: str, body: str, deal_id: str, key: str
    ) -> None:
        await _call(
            self._notifications.CreateNotification,
            notifications_pb2.CreateNotificationRequest(
                user_id=user_id,
                kind=kind,
                title=title,
                body=body,
                deal_id=deal_id,
                idempotency_key=key,
            ),
        )

"""Who sees which live event, and the positions clients resume from."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.common.access import Scope
from services.common.events import Envelope
from services.gateway.auth import Principal
from services.gateway.live.hub import Hub, Position
from services.gateway.live.visibility import DealRef, sees


def event(type_: str, subject: str, **data: Any) -> Envelope:
    return Envelope(uuid.uuid4(), type_, "test", datetime.now(UTC), subject, "", data)


def deal_event(deal_id: int, responsible: int, pipeline: int = 1) -> Envelope:
    summary = {"id": str(deal_id), "pipeline_id": str(pipeline), "responsible_id": str(responsible)}
    return event("deals.deal.updated", f"deal/{deal_id}", deal=summary)


MANAGER = Principal(id=7, roles=frozenset({"manager"}), scope=Scope.only(7))
HEAD = Principal(id=9, roles=frozenset({"head"}), scope=Scope.only(7, 8, 9))


def no_deals(_: int) -> DealRef | None:
    return None


def test_a_manager_sees_own_deals_only_and_a_head_the_department() -> None:
    assert sees(MANAGER, deal_event(1, responsible=7), no_deals)
    assert not sees(MANAGER, deal_event(2, responsible=8), no_deals)
    assert sees(HEAD, deal_event(2, responsible=8), no_deals)


def test_a_pipeline_rule_decides_for_its_deals() -> None:
    narrowed = Principal(
        id=9, roles=frozenset(), scope=Scope.only(7, 8, 9), deal_pipelines={5: Scope.only(9)}
    )
    assert sees(narrowed, deal_event(1, responsible=8, pipeline=1), no_deals)
    assert not sees(narrowed, deal_event(1, responsible=8, pipeline=5), no_deals)


def test_chat_messages_follow_the_deal_as_last_known() -> None:
    message = event("notifications.chat.message_posted", "deal/3", message={"body": "hi"})
    assert sees(MANAGER, message, lambda _: DealRef(1, 7))
    assert not sees(MANAGER, message, lambda _: DealRef(1, 8))
    assert not sees(MANAGER, message, no_deals)


def test_tasks_go_to_assignee_and_watchers_notifications_to_their_user() -> None:
    task = event(
        "notifications.task.created", "task/1", task={"assignee_id": 8, "watcher_ids": [7]}
    )
    assert sees(MANAGER, task, no_deals)
    assert not sees(HEAD, task, no_deals)  # a task is not a deal: only its people
    notice = event(
        "notifications.notification.created", "notification/4", notification={"user_id": "9"}
    )
    assert sees(HEAD, notice, no_deals) and not sees(MANAGER, notice, no_deals)


def test_positions_round_trip_and_refuse_what_is_not_one() -> None:
    assert Position.parse("12.34") == Position(12, 34)
    assert str(Position(12, 34)) == "12.34"
    assert Position.parse("12") is None and Position.parse("a.b") is None
    assert Position.parse(None) is None
    assert Position(12, 34).has("DEALS", 12) and not Position(12, 34).has("NOTIFICATIONS", 35)


async def test_a_resumed_listener_gets_what_it_missed_and_no_repeats() -> None:
    hub = Hub(backlog=100)
    await hub.publish("DEALS", 1, deal_event(1, 7))
    await hub.publish("NOTIFICATIONS", 1, event("notifications.x", "deal/1"))
    await hub.publish("DEALS", 2, deal_event(2, 7))
    await hub.publish("DEALS", 2, deal_event(2, 7))  # redelivered: dropped
    listener, missed = hub.listen(Position(1, 0))

    assert [(e.stream, e.seq) for e in missed] == [("NOTIFICATIONS", 1), ("DEALS", 2)]
    assert str(missed[-1].position) == "2.1"
    await hub.publish("DEALS", 3, deal_event(3, 7))
    assert listener.queue.get_nowait().seq == 3
    hub.leave(listener)
    assert hub.listeners == 0


async def test_the_hub_is_ready_once_the_kept_events_are_loaded() -> None:
    hub = Hub(backlog=100)
    hub._loading = {"DEALS": 2, "NOTIFICATIONS": 0}  # what start() found at the streams' ends
    await hub.publish("DEALS", 1, deal_event(1, 7))
    assert not hub.ready.is_set()  # a stream opened now would take event 2 for a new one
    await hub.publish("DEALS", 2, deal_event(2, 7))
    assert hub.ready.is_set()

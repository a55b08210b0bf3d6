"""Which deal events notify whom, and how."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.errors import ValidationFailed
from services.common.events import Envelope
from services.notifications.domain.feed import new_notification, notification_for_deal_event

DEAL = {"id": 42, "title": "Pallets", "pipeline_id": 1, "stage_id": 3, "responsible_id": "5"}


def event(type_: str, **data: Any) -> Envelope:
    return Envelope(uuid.uuid4(), type_, "deals", datetime.now(UTC), "deal/42", "9", data)


def test_created_notifies_the_responsible_user() -> None:
    e = event("deals.deal.created", deal=DEAL)
    n = notification_for_deal_event(e)
    assert n is not None
    assert (n.user_id, n.deal_id, n.kind, n.event_id) == (5, 42, "deal.created", e.id)
    assert "Pallets" in n.title


def test_stage_change_names_both_stages() -> None:
    n = notification_for_deal_event(
        event("deals.deal.stage_changed", deal=DEAL, from_stage="New", to_stage={"name": "Won"})
    )
    assert n is not None and n.kind == "deal.stage_changed" and n.user_id == 5
    assert n.body == "New → Won"


def test_update_notifies_only_when_the_responsible_user_changed() -> None:
    changed = event(
        "deals.deal.updated", deal=DEAL, before={"responsible_id": 4}, after={"responsible_id": 5}
    )
    n = notification_for_deal_event(changed)
    assert n is not None and (n.user_id, n.kind) == (5, "deal.assigned")
    same = event("deals.deal.updated", deal=DEAL, before={"title": "a"}, after={"title": "b"})
    assert notification_for_deal_event(same) is None
    unchanged = event(
        "deals.deal.updated", deal=DEAL, before={"responsible_id": 5}, after={"responsible_id": "5"}
    )
    assert notification_for_deal_event(unchanged) is None


def test_other_events_and_unassigned_deals_notify_nobody() -> None:
    assert notification_for_deal_event(event("deals.deal.deleted", deal=DEAL)) is None
    no_one = {**DEAL, "responsible_id": ""}
    assert notification_for_deal_event(event("deals.deal.created", deal=no_one)) is None


@pytest.mark.parametrize(
    "data",
    [{}, {"deal": "42"}, {"deal": {**DEAL, "responsible_id": "abc"}}, {"deal": {**DEAL, "id": -1}}],
)
def test_malformed_deal_data_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        notification_for_deal_event(event("deals.deal.created", **data))


def test_new_notification_checks() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_notification(user_id=1, kind="", title="", body="b" * 10_001)
    assert {p.field for p in err.value.problems} == {"kind", "title", "body"}
    n = new_notification(user_id=1, kind="note", title=" Hi ", idempotency_key="")
    assert (n.title, n.idempotency_key, n.event_id) == ("Hi", None, None)

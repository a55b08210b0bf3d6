"""Every activity that creates something carries an idempotency key (DESIGN rule 6); the
others that change something are idempotent by nature, and say so here."""

from __future__ import annotations

import dataclasses
import typing

from temporalio import activity

from workflows.activities.services import ServiceActivities

READS = {"get_deal", "get_pipeline", "find_head", "get_user", "look_up_list", "list_items"}
# Changes that a retry cannot double: setting fixed values, closing an already closed task
# (the activity accepts "already completed/cancelled by us" as done).
IDEMPOTENT_BY_NATURE = {"update_deal_fields", "complete_task", "cancel_task"}


def test_every_creating_activity_takes_an_idempotency_key() -> None:
    acts = ServiceActivities(None, None)  # type: ignore[arg-type]
    creating = []
    for fn in acts.all():
        defn = activity._Definition.must_from_callable(fn)
        if defn.name in READS | IDEMPOTENT_BY_NATURE:
            continue
        creating.append(defn.name)
        hints = typing.get_type_hints(fn)
        (input_type,) = [t for name, t in hints.items() if name != "return"]
        names = {f.name for f in dataclasses.fields(input_type)}
        assert "idempotency_key" in names, defn.name
    assert {"create_task", "create_notification", "add_timeline_entry"} <= set(creating)

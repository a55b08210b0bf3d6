"""A stage move's writes as one statement (one round trip, compiled once per process).

The deal saved, its open stage visit closed and the next opened, the timeline entry, the
outbox event and the relay's NOTIFY: five data-modifying CTEs of a single `SELECT
pg_notify(...)`. They are written one after the other elsewhere (`repository.save_deal`,
`history_repository.enter_stage`, `history_repository.add_entry`, `db.write_events`); for
a move, the commonest write, each separate statement cost ≈ 0.4 ms of the service's CPU
(SQLAlchemy's execute path, psycopg's send and wait), a third of the move's.

All CTEs see the snapshot the statement starts from, which is why none reads what another
writes: the new visit's responsible is bound from the deal (not read from `deals`, whose
update it would not see), and the visits the CTE `ended` closes are never the one opened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.common.db import PendingEvent, UnitOfWork, event_columns, events_statement
from services.deals.domain.deals import Deal
from services.deals.history_repository import END_VISITS, visit_bindings
from services.deals.repository import DEAL_COLUMNS, deal_values
from services.deals.tables import deals, outbox, stage_history, timeline

_SAVED = (
    deals.update()
    .where(deals.c.id == sa.bindparam("d_id", type_=deals.c.id.type))
    .values({c: sa.bindparam(f"d_{c}", type_=deals.c[c].type) for c in DEAL_COLUMNS})
    .cte("saved")
)
_VISIT = (
    stage_history.insert()
    .values(
        deal_id=sa.bindparam("b_deal"),
        stage_id=sa.bindparam("b_stage"),
        entered_at=sa.bindparam("b_at"),
        actor_id=sa.bindparam("b_actor", type_=stage_history.c.actor_id.type),
        responsible_id=sa.bindparam("v_responsible", type_=stage_history.c.responsible_id.type),
    )
    .add_cte(END_VISITS)
    .cte("visit")
)
_ENTRY_COLUMNS = ("kind", "text", "actor_id", "data", "created_at")
_ENTRY = (
    timeline.insert()
    .values(
        deal_id=sa.bindparam("b_deal"),
        **{c: sa.bindparam(f"t_{c}", type_=timeline.c[c].type) for c in _ENTRY_COLUMNS},
    )
    .cte("entry")
)
_MOVE = events_statement(outbox).add_cte(_SAVED, _VISIT, _ENTRY)


def save_move(
    uow: UnitOfWork,
    deal: Deal,
    *,
    event: PendingEvent,
    entry: tuple[str, str, dict[str, Any]],
    actor_id: int | None,
    now: datetime,
) -> None:
    """Write a moved deal, its visit change, its timeline `entry` (kind, text, data) and its
    outbox `event` in one statement, sent with the unit of work's COMMIT."""
    kind, text, data = entry
    params: dict[str, Any] = {f"d_{c}": v for c, v in deal_values(deal).items()}
    params |= {"d_id": deal.id, "v_responsible": deal.responsible_id}
    params |= visit_bindings(deal_id=deal.id, stage_id=deal.stage_id, at=now, actor_id=actor_id)
    params |= {"t_kind": kind, "t_text": text, "t_actor_id": actor_id, "t_data": data}
    params |= {"t_created_at": now, **event_columns([event])}
    uow.write_at_commit(_MOVE, params)

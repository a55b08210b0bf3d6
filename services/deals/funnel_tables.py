"""The funnel's cells (migration 0014): counts of the stage history kept by triggers, per
responsible and for everyone, and the signed changes not folded into them yet. A cell is
the passes that began on one UTC day; the pass cells by where they led and when the deal
entered the stage again, the duration cells by the bucket of the pass's length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from services.deals.tables import metadata


def _cells(name: str, *counts: sa.Column[Any], responsible: bool) -> sa.Table:
    """A cell table: the stage, the responsible (unless for everyone), the day the passes
    began, then what tells the cell's passes apart and what it counts."""
    return sa.Table(
        name,
        metadata,
        sa.Column("stage_id", sa.BigInteger, nullable=False),
        *([sa.Column("responsible_id", sa.BigInteger)] if responsible else []),
        sa.Column("entered_on", sa.Date, nullable=False),
        *counts,
    )


def _pass_cells(name: str, *, responsible: bool) -> sa.Table:
    return _cells(
        name,
        sa.Column("reentered_on", sa.Date),  # none: not entered again (yet)
        sa.Column("next_stage_id", sa.BigInteger),  # none: still there
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("passes", sa.BigInteger, nullable=False),
        sa.Column("priced", sa.BigInteger, nullable=False),  # passes of deals with an amount
        sa.Column("amount", sa.Numeric, nullable=False),
        responsible=responsible,
    )


def _duration_cells(name: str, *, responsible: bool) -> sa.Table:
    return _cells(
        name,
        sa.Column("bucket", sa.SmallInteger, nullable=False),  # deals.duration_bucket(seconds)
        sa.Column("passes", sa.BigInteger, nullable=False),
        responsible=responsible,
    )


@dataclass(frozen=True)
class Cells:
    """One kind of cell: the changes not folded yet, folded per responsible, and for
    everyone."""

    changes: sa.Table
    mine: sa.Table
    everyone: sa.Table


PASS_CELLS = Cells(
    _pass_cells("funnel_pass_changes", responsible=True),
    _pass_cells("funnel_passes", responsible=True),
    _pass_cells("funnel_passes_all", responsible=False),
)
DURATION_CELLS = Cells(
    _duration_cells("funnel_duration_changes", responsible=True),
    _duration_cells("funnel_durations", responsible=True),
    _duration_cells("funnel_durations_all", responsible=False),
)

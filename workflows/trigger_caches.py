"""What the worker's triggers (workflows/triggers.py) remember between events, so that a
stage move costs no call into the deals service in the common case. Plain Python, no I/O.

- `RulesCache`: each pipeline's active rules under its rules version, which the deals
  service carries on every deal and lead event it reads under the record's lock
  (`rules_versions`, services/deals/events.py) and bumps in the transaction of every rule
  write. An event naming a version the cache does not hold, or none, refetches.
- `RecentPlans`: the records this consumer planned a firing run on, and when. An event
  carries its record's number of waiting runs as its own transaction read it
  (`waiting_runs`); a run this consumer planned after that (from an earlier event handled
  later, e.g. a move into a stage with a delay and the move out, both published before the
  first was handled) is not in the number, so such a record is asked for its runs anyway.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta

from workflows.automation_triggers import Rule

# Events carry the deals service's clock, plans are noted on the worker's: the margin for
# the two disagreeing.
CLOCK_MARGIN = timedelta(seconds=5)


class RulesCache:
    """At most `size` pipelines' rules, the least recently used forgotten first."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._by_pipeline: OrderedDict[str, tuple[int, tuple[Rule, ...]]] = OrderedDict()

    def get(self, pipeline_id: str, version: int | None) -> tuple[Rule, ...] | None:
        """The pipeline's rules at `version`, or None (not held, or no version known)."""
        held = self._by_pipeline.get(pipeline_id)
        if version is None or held is None or held[0] != version:
            return None
        self._by_pipeline.move_to_end(pipeline_id)
        return held[1]

    def put(self, pipeline_id: str, version: int | None, rules: Sequence[Rule]) -> None:
        """Keep `rules`, fetched after an event of `version` (so of that version or a later
        one: a later event of a newer version fetches again). An older version than the one
        held (an event redelivered late) does not replace it."""
        held = self._by_pipeline.get(pipeline_id)
        if version is None or (held is not None and held[0] > version):
            return
        self._by_pipeline[pipeline_id] = (version, tuple(rules))
        self._by_pipeline.move_to_end(pipeline_id)
        while len(self._by_pipeline) > self._size:
            self._by_pipeline.popitem(last=False)

    def __len__(self) -> int:
        return len(self._by_pipeline)


class RecentPlans:
    """When a firing run was last planned on each of at most `size` records."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._at: OrderedDict[tuple[str, str], datetime] = OrderedDict()

    def note(self, record: str, record_id: str, at: datetime) -> None:
        key = (record, record_id)
        self._at[key] = at
        self._at.move_to_end(key)
        while len(self._at) > self._size:
            self._at.popitem(last=False)

    def since(self, record: str, record_id: str, published: datetime) -> bool:
        """Whether a run may have been planned on the record after an event published at
        `published` read its number of waiting runs."""
        at = self._at.get((record, record_id))
        return at is not None and at >= published - CLOCK_MARGIN

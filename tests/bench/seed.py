"""B4's and B8's data: up to a million deals, each with its stage-history rows and its
"created" timeline entry, written by the database itself (INSERT … SELECT generate_series) with the
foreign-key triggers off for the seeding session, then vacuumed and analysed."""

from __future__ import annotations

from typing import Any

import psycopg

RESPONSIBLES = 50  # deals are spread over this many users ...
PIPELINES = 2  # ... and pipelines of 4 stages each
CHUNK = 100_000

USERS = """
INSERT INTO deals.users (email, name, password_hash, roles, created_at)
SELECT 'scale-' || g || '-' || %(tag)s || '@example.com', 'Scale user ' || g, '!',
       '{manager}', now()
  FROM generate_series(1, %(n)s) g
RETURNING id
"""

DEALS = """
WITH d AS (
  INSERT INTO deals.deals (pipeline_id, stage_id, title, responsible_id, amount, currency,
                           fields, version, created_at, updated_at, stage_entered_at)
  SELECT (%(pipelines)s::bigint[])[1 + (g / 200) %% 2],
         (%(stages)s::bigint[])[1 + ((g / 200) %% 2) * 4 + (g / 50) %% 4],
         'Scale deal ' || g,
         (%(users)s::bigint[])[1 + g %% 50],
         (g %% 1000) * 10, 'RUB', '{}'::jsonb, 1,
         now() - make_interval(secs => g * %(spread)s), now(), now()
    FROM generate_series(%(lo)s, %(hi)s - 1) g
  RETURNING id, stage_id, responsible_id, created_at
), p AS (  -- the deal's index among all stages: its pipeline's first (base) and its own
  SELECT d.*, ((array_position(%(stages)s::bigint[], d.stage_id) - 1) / 4) * 4 AS base,
         (array_position(%(stages)s::bigint[], d.stage_id) - 1) %% 4 AS own,
         make_interval(hours => 1 + (d.id %% 48)::int) AS step
    FROM d
), h AS (
  -- `history` visits per deal, cycling through the pipeline's four stages (onwards, won,
  -- then lost, then back to the first) so that the last one is the deal's stage
  INSERT INTO deals.stage_history (deal_id, stage_id, entered_at, left_at, actor_id,
                                   next_stage_id, responsible_id, reentered_at)
  SELECT p.id,
         (%(stages)s::bigint[])[1 + p.base + ((p.own - (%(history)s - 1 - k)) %% 4 + 4) %% 4],
         p.created_at + k * p.step,
         CASE WHEN k < %(history)s - 1 THEN p.created_at + (k + 1) * p.step END,
         p.responsible_id,
         CASE WHEN k < %(history)s - 1 THEN
           (%(stages)s::bigint[])[1 + p.base + ((p.own - (%(history)s - 2 - k)) %% 4 + 4) %% 4]
         END,
         p.responsible_id,
         CASE WHEN k + 4 < %(history)s THEN p.created_at + (k + 4) * p.step END
    FROM p, generate_series(0, %(history)s - 1) k
)
INSERT INTO deals.timeline (deal_id, kind, text, actor_id, data, created_at)
SELECT id, 'created', 'Deal created', responsible_id, '{}'::jsonb, created_at FROM d
"""

TIMELINE = """
INSERT INTO deals.timeline (deal_id, kind, text, actor_id, data, created_at)
SELECT %(deal)s, 'note', 'Scale note ' || g, %(actor)s, '{}'::jsonb, now()
  FROM generate_series(1, %(n)s) g
"""


class Seeder:
    """Grows the seeded deals to a given count, one chunk per transaction: each deal with
    `history` stage-history rows (B8: 5), created `spread` seconds apart (B8: 30, a
    million deals over about a year)."""

    def __init__(
        self,
        conninfo: str,
        *,
        manager_id: int,
        pipelines: list[dict[str, Any]],
        history: int = 1,
        spread: int = 1,
    ) -> None:
        self._conninfo = conninfo
        self._history = history
        self._spread = spread
        self._manager_id = manager_id
        self._pipelines = [int(p["id"]) for p in pipelines]
        self._stages = [int(s["id"]) for p in pipelines for s in p["stages"]]
        self._users: list[int] = []
        self.count = 0

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        await conn.execute("SET session_replication_role = replica")  # no FK triggers
        return conn

    async def grow_to(self, target: int) -> None:
        async with await self._connect() as conn:
            if not self._users:
                cur = await conn.execute(USERS, {"n": RESPONSIBLES - 1, "tag": id(self)})
                self._users = [self._manager_id] + [int(r[0]) for r in await cur.fetchall()]
            while self.count < target:
                hi = min(target, self.count + CHUNK)
                args = {
                    "pipelines": self._pipelines,
                    "stages": self._stages,
                    "users": self._users,
                    "lo": self.count,
                    "hi": hi,
                    "history": self._history,
                    "spread": self._spread,
                }
                async with conn.transaction():
                    await conn.execute(DEALS, args)
                self.count = hi
            # what the deals service's fold does within seconds (the funnel's cells)
            await conn.execute("SELECT deals.fold_funnel_changes()")
            await conn.execute(
                "VACUUM (ANALYZE) deals.deals, deals.stage_history, deals.timeline,"
                " deals.funnel_passes, deals.funnel_passes_all, deals.funnel_durations,"
                " deals.funnel_durations_all, deals.funnel_pass_changes,"
                " deals.funnel_duration_changes"
            )

    async def long_timeline(self, deal_id: int, entries: int) -> None:
        async with await self._connect() as conn:
            await conn.execute(TIMELINE, {"deal": deal_id, "actor": self._manager_id, "n": entries})

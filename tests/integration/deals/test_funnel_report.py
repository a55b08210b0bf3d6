"""The funnel's SQL, from its cells (folded or not, after deals changed hands and money)
and from the raw passes, against the raw computation (services/deals/domain/funnel_raw.py)
on random stage histories in real PostgreSQL: the same rows, sums, percentiles, lost
months, and the drill-down lists the same deals; and the migration's backfill of `next_stage_id`
agrees with what the service writes."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.deals import funnel_cells, reports_repository
from services.deals.domain.funnel import LEAVINGS, Outcome, Period, assemble
from services.deals.domain.funnel_raw import Money, Pass, deals_of, group_passes
from services.deals.domain.pipelines import Pipeline
from services.deals.funnel_tables import PASS_CELLS
from services.deals.reports_repository import Scope
from services.deals.reports_service import ReportsService
from services.deals.service import DealsService
from services.deals.tables import deals, stage_history, users

STAGES = [
    ("New", "in_progress"),
    ("Qualified", "in_progress"),
    ("Proposal", "in_progress"),
    ("Won", "won"),
    ("No budget", "lost"),
    ("Competitor", "lost"),
]
PERIOD = Period.of_dates("2026-02-10", "2026-04-20")
START = datetime(2026, 1, 20, tzinfo=UTC)


async def _users(engine: AsyncEngine, tag: str) -> list[int]:
    rows = [
        {"email": f"f{i}-{tag}@x.test", "name": f"m{i}", "password_hash": "!", "roles": ["manager"]}
        for i in range(3)
    ]
    async with engine.begin() as conn:
        now = datetime.now(UTC)
        query = users.insert().values([{**r, "created_at": now} for r in rows])
        return list((await conn.execute(query.returning(users.c.id))).scalars())


async def _seed(
    engine: AsyncEngine, rng: random.Random, main: Pipeline, other: Pipeline, owners: list[int]
) -> tuple[list[Pass], dict[int, Money], dict[int, int]]:
    """Random deals moving through `main` (now and then into `other`), stored as the service
    stores them; their passes, money and owners."""
    choices = [s.id for s in main.stages] * 4 + [other.stages[0].id]
    passes: list[Pass] = []
    money: dict[int, Money] = {}
    owner: dict[int, int] = {}
    async with engine.begin() as conn:
        for _ in range(rng.randint(1, 14)):
            moves = [main.stages[0].id]
            while len(moves) < rng.randint(1, 8):
                moves.append(rng.choice([s for s in choices if s != moves[-1]]))
            at = START + timedelta(
                seconds=rng.randint(0, 90 * 86400), microseconds=rng.randint(0, 999_999)
            )
            times = [at]
            for _ in moves[1:]:
                times.append(times[-1] + timedelta(seconds=rng.randint(1, 20 * 86400)))
            amount = rng.choice([None, Decimal(rng.randint(0, 10**6)) / 100])
            currency = rng.choice(["RUB", "USD"])
            responsible = rng.choice(owners)
            last_stage = moves[-1]
            deal_id = (
                await conn.execute(
                    deals.insert()
                    .values(
                        pipeline_id=other.id if last_stage == other.stages[0].id else main.id,
                        stage_id=last_stage,
                        title="random",
                        responsible_id=responsible,
                        amount=amount,
                        currency=currency,
                        fields={},
                        version=1,
                        created_at=at,
                        updated_at=at,
                        stage_entered_at=times[-1],
                    )
                    .returning(deals.c.id)
                )
            ).scalar_one()
            for i, (stage_id, entered) in enumerate(zip(moves, times, strict=True)):
                following = i + 1 < len(moves)
                again = next(
                    (
                        t
                        for s, t in zip(moves[i + 1 :], times[i + 1 :], strict=True)
                        if s == stage_id
                    ),
                    None,
                )
                row = {
                    "deal_id": deal_id,
                    "stage_id": stage_id,
                    "entered_at": entered,
                    "left_at": times[i + 1] if following else None,
                    "next_stage_id": moves[i + 1] if following else None,
                }
                query = (
                    stage_history.insert()
                    .values(**row, responsible_id=responsible, reentered_at=again)
                    .returning(stage_history.c.id)
                )
                pass_id = (await conn.execute(query)).scalar_one()
                passes.append(Pass(pass_id, **row))
            money[deal_id] = Money(amount, currency)
            owner[deal_id] = responsible
    return passes, money, owner


async def _change_hands_and_money(
    engine: AsyncEngine,
    rng: random.Random,
    money: dict[int, Money],
    owner: dict[int, int],
    owners: list[int],
) -> None:
    """Some deals get another amount or currency, some another responsible, the way any
    writer changes them (their passes' cells follow, by triggers); now and then folded."""
    async with engine.begin() as conn:
        for deal_id in rng.sample(sorted(money), k=len(money) // 3):
            if rng.random() < 0.5:
                new = Money(
                    rng.choice([None, Decimal(rng.randint(0, 10**6)) / 100]),
                    rng.choice(["RUB", "USD", money[deal_id].currency]),
                )
                values = {"amount": new.amount, "currency": new.currency}
                money[deal_id] = new
            else:
                owner[deal_id] = rng.choice(owners)
                values = {"responsible_id": owner[deal_id]}
            await conn.execute(deals.update().where(deals.c.id == deal_id).values(**values))
    if rng.random() < 0.5:
        await funnel_cells.fold(engine)


def _edge_period(rng: random.Random, passes: list[Pass]) -> Period:
    """A period ending the day before a deal entered a stage again (or on a day a pass
    began), and beginning on the day a pass began: the days at the edges decide."""
    again = [
        later.entered_at
        for i, p in enumerate(passes)
        for later in passes[i + 1 :]
        if (later.deal_id, later.stage_id) == (p.deal_id, p.stage_id)
    ]
    end = rng.choice(again or [p.entered_at for p in passes]).date() - timedelta(days=1)
    start = min(end, rng.choice(passes).entered_at.date())
    return Period.of_dates(start.isoformat(), end.isoformat())


async def test_the_sql_counts_as_the_raw_computation(
    engine: AsyncEngine, service: DealsService
) -> None:
    """Both the cells (folded or not) and the raw passes' SQL, against plain Python."""
    reports = ReportsService(engine, service.access, clock=service.clock)
    owners = await _users(engine, "funnel")
    for seed in range(30):
        rng = random.Random(seed)
        main = await service.pipelines.create_pipeline(name=f"F{seed}", stages=STAGES)
        other = await service.pipelines.create_pipeline(name=f"O{seed}", stages=STAGES[:1])
        passes, money, owner = await _seed(engine, rng, main, other, owners)
        if rng.random() < 0.5:
            await funnel_cells.fold(engine)
        await _change_hands_and_money(engine, rng, money, owner, owners)
        manager = rng.choice([None, *owners])
        counted = {d: m for d, m in money.items() if manager in (None, owner[d])}
        ids = [s.id for s in main.stages]
        lost = [s.id for s in main.stages if s.semantic.value == "lost"]
        for period in (PERIOD, _edge_period(rng, passes)):
            scope = Scope(period, manager_id=manager)
            got = await reports.funnel(actor_id=None, pipeline_id=main.id, scope=scope)
            want = assemble(main, period, *group_passes(main, period, passes, counted))
            assert got == want, f"seed {seed}, {period}"
            async with engine.connect() as conn:
                raw = await reports_repository.funnel_groups(conn, ids, lost, scope)
            assert assemble(main, period, *raw) == want, f"seed {seed}: the raw passes' SQL"
        scope = Scope(PERIOD, manager_id=manager)
        listed = deals_of(main, PERIOD, passes, counted)
        for stage in main.stages:
            for o in (Outcome.ENTERED, *LEAVINGS):
                page = await reports.funnel_deals(
                    actor_id=None,
                    pipeline_id=main.id,
                    scope=scope,
                    stage_id=stage.id,
                    outcome=o.value,
                    cursor="",
                    limit=200,
                )
                ids = {d.id for d in page.items}
                assert ids == listed.get((stage.id, o.value), set()), (seed, stage.name, o)


async def test_the_service_notes_where_a_visit_led(
    engine: AsyncEngine, service: DealsService
) -> None:
    pipeline = await service.pipelines.create_pipeline(name="Moves", stages=STAGES)
    owner = (await _users(engine, "moves"))[0]
    new, qualified, proposal = (s.id for s in pipeline.stages[:3])
    deal = await service.create_deal(
        actor_id=None, pipeline_id=pipeline.id, title="t", responsible_id=owner, amount="",
        currency="RUB", company_name="", contact_name="", fields={}, stage_id=None,
    )  # fmt: skip
    moved_at = []
    for target in (proposal, qualified, new):
        await service.move_deal(
            actor_id=None,
            deal_id=deal.id,
            stage_id=target,
            expected_version=0,
            comment="",
            pipeline_id=None,
        )
        moved_at.append((await service.get_deal(actor_id=None, deal_id=deal.id)).stage_entered_at)
    query = (
        sa.select(
            stage_history.c.stage_id,
            stage_history.c.next_stage_id,
            stage_history.c.responsible_id,
            stage_history.c.reentered_at,
        )
        .where(stage_history.c.deal_id == deal.id)
        .order_by(stage_history.c.id)
    )
    async with engine.connect() as conn:
        rows = [tuple(r) for r in (await conn.execute(query)).all()]
    assert rows == [
        (new, proposal, owner, moved_at[2]),  # New entered again by the third move
        (proposal, qualified, owner, None),
        (qualified, new, owner, None),
        (new, None, owner, None),
    ]

    # handed to another manager, the deal's history (and so its reports) follows
    successor = (await _users(engine, "successor"))[0]
    await service.update_deal(
        actor_id=None,
        deal_id=deal.id,
        expected_version=0,
        changes={"responsible_id": successor},
        fields={},
    )
    async with engine.connect() as conn:
        owners = {r[2] for r in (await conn.execute(query)).all()}
    assert owners == {successor}
    reports = ReportsService(engine, service.access, clock=service.clock)
    today = datetime.now(UTC).date().isoformat()
    for manager, expected in ((owner, 0), (successor, 1)):
        scope = Scope(Period.of_dates(today, today), manager_id=manager)
        funnel = await reports.funnel(actor_id=None, pipeline_id=pipeline.id, scope=scope)
        assert funnel.stages[0].counts[Outcome.ENTERED].deals == expected


async def test_the_deals_service_folds_the_changes(
    engine: AsyncEngine, service: DealsService
) -> None:
    """A move's changes are folded by the service's loop (at once, then every few seconds):
    the change tables empty, the cells holding the passes."""
    pipeline = await service.pipelines.create_pipeline(name="Folded", stages=STAGES)
    owner = (await _users(engine, "folded"))[0]
    deal = await service.create_deal(
        actor_id=None, pipeline_id=pipeline.id, title="t", responsible_id=owner, amount="5",
        currency="RUB", company_name="", contact_name="", fields={}, stage_id=None,
    )  # fmt: skip
    await service.move_deal(
        actor_id=None,
        deal_id=deal.id,
        stage_id=pipeline.stages[1].id,
        expected_version=0,
        comment="",
        pipeline_id=None,
    )
    changes = sa.select(sa.func.count()).select_from(PASS_CELLS.changes)
    folded = sa.select(sa.func.sum(PASS_CELLS.mine.c.passes)).where(
        PASS_CELLS.mine.c.stage_id.in_([s.id for s in pipeline.stages])
    )
    stop = asyncio.Event()
    loop = asyncio.create_task(funnel_cells.keep_folding(engine, stop))
    try:
        for _ in range(200):
            async with engine.connect() as conn:
                if not (await conn.execute(changes)).scalar_one():
                    break
            await asyncio.sleep(0.05)
        async with engine.connect() as conn:
            assert (await conn.execute(changes)).scalar_one() == 0
            assert (await conn.execute(folded)).scalar_one() == 2  # New, then the next stage
    finally:
        stop.set()
        await loop

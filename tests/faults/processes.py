"""Drive many sample-return processes through the gateway the way people would (retrying
what got no definite answer, with one Idempotency-Key per answer), and check afterwards,
in the databases and in JetStream, that nothing appeared twice or went missing."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import nats
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from temporalio.client import Client, WorkflowExecutionStatus

from deploy.local.stack import Stack
from tests.faults.conftest import Org

TODAY = date.today().isoformat()
RETURN_BY = (date.today() + timedelta(days=30)).isoformat()
ANSWERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sample_return.hand_over": ("handed", {"handed_on": TODAY}),
    "sample_return.control": ("returned", {}),
    "sample_return.confirm": ("confirmed", {}),
    "sample_return.send_back": ("sent", {"sent_on": TODAY, "tracking": "DHL 1"}),
}
KINDS = set(ANSWERS)
STEPS = {"started", "handed", "returned", "confirmed", "sent", "finished"}  # each once
RETRY_LATER = {409, 503}  # with Retry-After: the outcome is not decided, ask again


@dataclass
class Answers:
    """Every answer given to a task completion, by task id, and the Idempotency-Key each
    task's next attempt uses: kept while the outcome is unknown (a cut connection, a
    "retry later"), fresh after a definite answer (a refusal is final for its key)."""

    statuses: dict[str, list[int | str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, task_id: str) -> str:
        return self.keys.setdefault(task_id, f"answer-{task_id}-{uuid.uuid4().hex[:8]}")

    def add(self, task_id: str, status: int | str, *, definite: bool) -> None:
        self.statuses.setdefault(task_id, []).append(status)
        if definite:
            self.keys.pop(task_id, None)


async def post_until_answered(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], *, deadline: float
) -> httpx.Response:
    """POST with one Idempotency-Key until a definite answer (not a cut connection, not
    503, not 'still in progress')."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    while True:
        try:
            resp = await client.post(url, json=body, headers=headers)
            if not (resp.status_code in RETRY_LATER and "retry-after" in resp.headers):
                return resp
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no definite answer to POST {url}")
        await asyncio.sleep(0.5)


async def start_processes(org: Org, n: int, *, deadline: float) -> dict[int, str]:
    """n deals of the manager, each with a sample return: deal id -> workflow id."""
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> tuple[int, str]:
        async with sem:
            deal = await post_until_answered(
                org.manager,
                "/deals",
                {"pipeline_id": org.pipeline_id, "title": f"Fault deal {i}"},
                deadline=deadline,
            )
            assert deal.status_code == 201, deal.text
            started = await post_until_answered(
                org.manager,
                f"/deals/{deal.json()['id']}/processes",
                {"process": "sample_return", "params": {"return_by": RETURN_BY}},
                deadline=deadline,
            )
            assert started.status_code == 201, started.text
            return int(deal.json()["id"]), str(started.json()["workflow_id"])

    return dict(await asyncio.gather(*(one(i) for i in range(n))))


async def open_tasks(client: httpx.AsyncClient, deals: set[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        resp = await client.get(
            "/tasks", params={"assignee": "me", "status": "open", "limit": 200, "cursor": cursor}
        )
        if resp.status_code != 200:
            return found  # the gateway is restarting: next round
        page = resp.json()
        found += [t for t in page["items"] if int(t["deal_id"] or 0) in deals]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return found


async def answer(client: httpx.AsyncClient, task: dict[str, Any], answers: Answers) -> None:
    """One attempt at answering a task."""
    outcome, data = ANSWERS[task["kind"]]
    task_id = str(task["id"])
    try:
        resp = await client.post(
            f"/tasks/{task_id}/complete",
            json={"outcome": outcome, "data": data},
            headers={"Idempotency-Key": answers.key(task_id)},
        )
        retry_later = resp.status_code in RETRY_LATER and "retry-after" in resp.headers
        answers.add(task_id, resp.status_code, definite=not retry_later)
    except httpx.TransportError as exc:
        answers.add(task_id, type(exc).__name__, definite=False)


async def drive(
    stack: Stack, org: Org, runs: dict[int, str], *, deadline: float, answers: Answers
) -> None:
    """Answer every open task of these deals, round after round, until every run ended."""
    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    deals, pending = set(runs), set(runs.values())
    sem = asyncio.Semaphore(10)

    async def bounded(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
        async with sem:
            await answer(client, task, answers)

    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} processes did not complete"
        for client in (org.manager, org.head):
            tasks = await open_tasks(client, deals)
            await asyncio.gather(*(bounded(client, t) for t in tasks))
        described = await asyncio.gather(
            *(temporal.get_workflow_handle(w).describe() for w in pending)
        )
        for run in described:
            assert run.status in (
                WorkflowExecutionStatus.RUNNING,
                WorkflowExecutionStatus.COMPLETED,
            )
            if run.status == WorkflowExecutionStatus.COMPLETED:
                pending.discard(run.id)
        await asyncio.sleep(0.3)


def sql(stack: Stack, query: str, *args: Any) -> list[tuple[Any, ...]]:
    url = stack.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return list(conn.execute(query, args).fetchall())


def check_tasks_and_timeline(stack: Stack, runs: dict[int, str]) -> None:
    """Each run: one task of each kind, all completed; one timeline entry per step."""
    deals = list(runs)
    tasks = sql(
        stack,
        "SELECT deal_id, kind, count(*), bool_and(status = 'completed') "
        "FROM notifications.tasks WHERE deal_id = ANY(%s) GROUP BY deal_id, kind",
        deals,
    )
    by_deal: dict[int, dict[str, tuple[int, bool]]] = {}
    for deal_id, kind, count, done in tasks:
        by_deal.setdefault(deal_id, {})[kind] = (count, done)
    for deal_id in deals:
        assert by_deal.get(deal_id) == dict.fromkeys(KINDS, (1, True)), (
            deal_id,
            by_deal.get(deal_id),
        )
    entries = sql(
        stack,
        "SELECT deal_id, idempotency_key FROM deals.timeline "
        "WHERE deal_id = ANY(%s) AND idempotency_key IS NOT NULL",
        deals,
    )
    steps: dict[int, Counter[str]] = {d: Counter() for d in deals}
    for deal_id, key in entries:
        workflow_id, _, step = key.rpartition("/")
        assert workflow_id == runs[deal_id], key
        steps[deal_id][step] += 1
    for deal_id in deals:
        assert steps[deal_id] == Counter(STEPS), (deal_id, steps[deal_id])


async def check_task_events(stack: Stack, runs: dict[int, str], *, timeout: float = 60) -> None:
    """Every task event is in the outbox once and in JetStream once: none doubled or lost."""
    ids = [
        row[0]
        for row in sql(
            stack, "SELECT id FROM notifications.tasks WHERE deal_id = ANY(%s)", list(runs)
        )
    ]
    subjects = [f"task/{i}" for i in ids]
    deadline = time.monotonic() + timeout
    while sql(stack, "SELECT count(*) FROM notifications.outbox WHERE status = 'pending'")[0][0]:
        assert time.monotonic() < deadline, "the notifications outbox did not drain"
        await asyncio.sleep(0.5)
    outbox = sql(
        stack,
        "SELECT id::text, subject, type FROM notifications.outbox WHERE subject = ANY(%s)",
        subjects,
    )
    per_task = Counter((subject, type_) for _, subject, type_ in outbox)
    for subject in subjects:
        for type_ in ("notifications.task.created", "notifications.task.completed"):
            assert per_task[(subject, type_)] == 1, (subject, type_, per_task[(subject, type_)])
    expected = {event_id for event_id, _, _ in outbox}
    seen = await stream_event_ids(stack, "NOTIFICATIONS", "notifications.task.>")
    counts = Counter(e for e in seen if e in expected)
    assert set(counts) == expected, f"{len(expected - set(counts))} task events not in JetStream"
    doubled = [e for e, c in counts.items() if c > 1]
    assert not doubled, f"{len(doubled)} task events twice in JetStream"


async def stream_event_ids(stack: Stack, stream: str, subject: str) -> list[str]:
    """The envelope id of every message on `subject` in the stream, read once."""
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        total = info.state.messages
        sub = await js.pull_subscribe(
            subject,
            durable=None,
            stream=stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, filter_subject=subject
            ),
        )
        ids: list[str] = []
        seen = 0
        while seen < total:
            try:
                batch = await sub.fetch(500, timeout=2)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                break
            seen += len(batch)
            ids += [json.loads(m.data)["id"] for m in batch]
        await sub.unsubscribe()
        return ids
    finally:
        await nc.close()

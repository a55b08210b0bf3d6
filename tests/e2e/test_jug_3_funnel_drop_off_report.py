"""JUG-3: the funnel drop-off report. Deals moved through a pipeline of their own (a re-entry,
a backward move, a skipped stage, two lost reasons, deals of three managers in two
departments); the report's numbers are known exactly, every count's link lists exactly its
deals, a manager sees only theirs and a head the department's, and the CSV and XLSX carry
the JSON's numbers."""

from __future__ import annotations

import csv
import io
import math
import uuid
import zipfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from deploy.local.stack import Stack
from tests.e2e.conftest import login

PASSWORD = "correct horse battery"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOMES = ("entered", "moved_on", "moved_back", "lost", "moved_out", "still_there")


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(path, json=body)
    assert resp.status_code in (200, 201), resp.text
    return dict(resp.json())


async def _setup(stack: Stack, admin: httpx.AsyncClient) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    sales = await _post(admin, "/departments", {"name": f"JUG Sales {tag}"})
    other = await _post(admin, "/departments", {"name": f"JUG Other {tag}"})
    people: dict[str, Any] = {}
    for name, role, dep in (
        ("head", "head_of_sales", sales),
        ("m1", "manager", sales),
        ("m2", "manager", sales),
        ("m3", "manager", other),
    ):
        email = f"{name}-{tag}@jug3.test"
        body = {"email": email, "name": name, "password": PASSWORD, "roles": [role]}
        user = await _post(admin, "/users", {**body, "department_id": dep["id"]})
        people[name] = {**user, "client": await login(stack.gateway_url, email, PASSWORD)}
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": people["head"]["id"]})
    assert resp.status_code == 200, resp.text
    names = ["New", "Qualified", "Proposal", "Won", "No budget", "Chose a competitor"]
    semantics = ["in_progress"] * 3 + ["won", "lost", "lost"]
    pipeline = await _post(
        admin,
        "/pipelines",
        {
            "name": f"JUG-3 {tag}",
            "stages": [{"name": n, "semantic": s} for n, s in zip(names, semantics, strict=True)],
        },
    )
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    # deal: (owner, amount, currency, moves after New)
    plans = {
        "A": ("m1", "1000.00", "RUB", ["Qualified", "Proposal", "Won"]),
        # backward to New, re-enters New and Qualified, stays in Proposal
        "B": ("m1", "500.00", "RUB", ["Qualified", "New", "Qualified", "Proposal"]),
        "C": ("m2", "300.00", "USD", ["No budget"]),
        # skips Qualified, moves back to it, is lost
        "D": ("m2", "200.00", "RUB", ["Proposal", "Qualified", "Chose a competitor"]),
        "E": ("m3", "100.00", "RUB", []),
    }
    deals: dict[str, int] = {}
    for key, (owner, amount, currency, moves) in plans.items():
        body = {
            "pipeline_id": pipeline["id"],
            "title": f"JUG-3 {key} {tag}",
            "responsible_id": people[owner]["id"],
            "amount": amount,
            "currency": currency,
        }
        deal = await _post(admin, "/deals", body)
        deals[key] = deal["id"]
        for target in moves:
            await _post(admin, f"/deals/{deal['id']}/move", {"stage_id": stage[target]})
    return {
        "people": people,
        "pipeline": pipeline,
        "stage": stage,
        "deals": deals,
        "sales_id": sales["id"],
    }


def _count(deals: int, **sums: str) -> tuple[int, dict[str, str]]:
    return deals, sums


# Everyone's funnel, per stage: passes, then per outcome (deals, sums); unmentioned: zero.
EVERYONE = {
    "New": (6, {"entered": _count(5, RUB="1800.00", USD="300.00"),
                "moved_on": _count(3, RUB="1700.00"), "lost": _count(1, USD="300.00"),
                "still_there": _count(1, RUB="100.00")}),
    "Qualified": (4, {"entered": _count(3, RUB="1700.00"), "moved_on": _count(2, RUB="1500.00"),
                      "lost": _count(1, RUB="200.00")}),
    "Proposal": (3, {"entered": _count(3, RUB="1700.00"), "moved_on": _count(1, RUB="1000.00"),
                     "moved_back": _count(1, RUB="200.00"),
                     "still_there": _count(1, RUB="500.00")}),
    "Won": (1, {"entered": _count(1, RUB="1000.00"), "still_there": _count(1, RUB="1000.00")}),
    "No budget": (1, {"entered": _count(1, USD="300.00"),
                      "still_there": _count(1, USD="300.00")}),
    "Chose a competitor": (1, {"entered": _count(1, RUB="200.00"),
                               "still_there": _count(1, RUB="200.00")}),
}  # fmt: skip
# Which deals each count holds (everyone's funnel).
EVERYONE_DEALS = {
    ("New", "entered"): "ABCDE",
    ("New", "moved_on"): "ABD",
    ("New", "lost"): "C",
    ("New", "still_there"): "E",
    ("Qualified", "entered"): "ABD",
    ("Qualified", "moved_on"): "AB",
    ("Qualified", "lost"): "D",
    ("Proposal", "entered"): "ABD",
    ("Proposal", "moved_on"): "A",
    ("Proposal", "moved_back"): "D",
    ("Proposal", "still_there"): "B",
    ("Won", "entered"): "A",
    ("Won", "still_there"): "A",
    ("No budget", "entered"): "C",
    ("No budget", "still_there"): "C",
    ("Chose a competitor", "entered"): "D",
    ("Chose a competitor", "still_there"): "D",
}


def _today() -> dict[str, str]:
    today = datetime.now(UTC).date().isoformat()
    return {"from": today, "to": today}


async def _funnel(client: httpx.AsyncClient, pipeline_id: int, **params: Any) -> Any:
    resp = await client.get(
        "/reports/funnel", params={"pipeline_id": pipeline_id, **_today(), **params}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _listed(client: httpx.AsyncClient, href: str, limit: int = 50) -> list[int]:
    """Every deal id behind a drill-down link, following its pages."""
    assert href.startswith("/api/v1/deals?"), href
    found: list[int] = []
    url, _, query = href.removeprefix("/api/v1").partition("?")
    base: dict[str, Any] = {**dict(parse_qsl(query)), "limit": limit}
    params = base
    while True:
        resp = await client.get(url, params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        for item in page["items"]:
            assert item["href"] == f"/api/v1/deals/{item['id']}"
        found += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            return found
        params = {**base, "cursor": page["next_cursor"]}


def _by_name(report: Any) -> dict[str, Any]:
    return {s["name"]: s for s in report["stages"]}


def _percentile(values: list[float], fraction: float) -> float | None:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else None


async def test_jug_3_funnel_drop_off_report(stack: Stack, admin: httpx.AsyncClient) -> None:
    seeded = await _setup(stack, admin)
    people, deals, pipeline_id = seeded["people"], seeded["deals"], seeded["pipeline"]["id"]
    ids = dict(deals)
    report = await _funnel(admin, pipeline_id)
    stages = _by_name(report)
    assert list(stages) == list(EVERYONE)  # in the pipeline's order
    for name, (passes, counts) in EVERYONE.items():
        row = stages[name]
        assert row["passes"] == passes, name
        assert row["unique_deals"] == counts["entered"][0], name
        for outcome in OUTCOMES:
            deals_count, sums = counts.get(outcome, (0, {}))
            got = row[outcome]
            assert got["deals"] == deals_count, (name, outcome)
            assert {s["currency"]: s["amount"] for s in got["sums"]} == sums, (name, outcome)
    assert [stages[n]["conversion_to_next"] for n in ("New", "Qualified", "Proposal", "Won")] == [
        "0.6000",
        "0.6667",
        "0.3333",
        "0.0000",
    ]
    assert [stages[n]["conversion_from_first"] for n in ("New", "Qualified", "Won")] == [
        "1.0000",
        "0.6000",
        "0.2000",
    ]
    month = datetime.now(UTC).strftime("%Y-%m")
    assert [(r["month"], r["reason"], r["lost"]["deals"]) for r in report["lost"]] == [
        (month, "No budget", 1),
        (month, "Chose a competitor", 1),
    ]
    assert [r["lost"]["sums"] for r in report["lost"]] == [
        [{"currency": "USD", "amount": "300.00"}],
        [{"currency": "RUB", "amount": "200.00"}],
    ]

    # drill-down: every count lists exactly its deals, page by page
    for name, row in stages.items():
        for outcome in OUTCOMES:
            expected = {ids[k] for k in EVERYONE_DEALS.get((name, outcome), "")}
            listed = await _listed(admin, row[outcome]["href"], limit=2)
            assert sorted(listed) == sorted(expected), (name, outcome)
            assert len(listed) == row[outcome]["deals"]
    for row in report["lost"]:
        listed = await _listed(admin, row["lost"]["href"])
        assert listed == [ids["C" if row["reason"] == "No budget" else "D"]]

    # time in stage: the median and p90 of the passes that ended, from the deals' histories
    durations: dict[int, list[float]] = {}
    for deal_id in ids.values():
        history = (await admin.get(f"/deals/{deal_id}/stage-history")).json()
        for visit in history["items"]:
            if visit["left_at"]:
                durations.setdefault(visit["stage_id"], []).append(visit["seconds_in_stage"])
    for row in stages.values():
        ended = durations.get(row["stage_id"], [])
        assert row["median_seconds"] == pytest.approx(_percentile(ended, 0.5), abs=1e-6)
        assert row["p90_seconds"] == pytest.approx(_percentile(ended, 0.9), abs=1e-6)

    # visibility: a manager counts their own deals, a head the department's
    m1 = people["m1"]["client"]
    mine = _by_name(await _funnel(m1, pipeline_id))
    assert [mine[n]["entered"]["deals"] for n in EVERYONE] == [2, 2, 2, 1, 0, 0]
    assert mine["New"]["passes"] == 3
    assert mine["Proposal"]["still_there"]["deals"] == 1
    assert sorted(await _listed(m1, mine["New"]["entered"]["href"])) == sorted([ids["A"], ids["B"]])
    # following the admin's link, the manager still sees only their own deals
    assert sorted(await _listed(m1, stages["New"]["entered"]["href"])) == sorted(
        [ids["A"], ids["B"]]
    )
    others = _by_name(await _funnel(m1, pipeline_id, manager_id=people["m2"]["id"]))
    assert others["New"]["entered"]["deals"] == 0
    head = _by_name(await _funnel(people["head"]["client"], pipeline_id))
    assert head["New"]["entered"]["deals"] == 4  # not m3's deal of the other department
    by_department = _by_name(await _funnel(admin, pipeline_id, department_id=seeded["sales_id"]))
    assert [by_department[n]["entered"]["deals"] for n in EVERYONE] == [4, 3, 3, 1, 1, 1]
    of_m2 = await _funnel(admin, pipeline_id, manager_id=people["m2"]["id"])
    assert sorted(await _listed(admin, _by_name(of_m2)["New"]["entered"]["href"])) == sorted(
        [ids["C"], ids["D"]]
    )

    # CSV and XLSX carry the JSON's numbers
    resp = await admin.get(
        "/reports/funnel",
        params={"pipeline_id": pipeline_id, **_today()},
        headers={"Accept": "text/csv"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["stage"] for r in rows] == list(EVERYONE)
    for r in rows:
        row = stages[r["stage"]]
        assert int(r["passes"]) == row["passes"]
        assert int(r["unique_deals"]) == row["unique_deals"]
        for outcome in OUTCOMES:
            assert int(r[outcome]) == row[outcome]["deals"]
            sums = {s["currency"]: s["amount"] for s in row[outcome]["sums"]}
            for currency in ("RUB", "USD"):
                assert r[f"{outcome}_sum_{currency}"] == sums.get(currency, "0")
        assert r["conversion_to_next"] == (row["conversion_to_next"] or "")
        assert float(r["median_seconds"] or "nan") == pytest.approx(
            row["median_seconds"] or float("nan"), nan_ok=True
        )
    resp = await admin.get(
        "/reports/funnel",
        params={"pipeline_id": pipeline_id, **_today(), "table": "lost"},
        headers={"Accept": "text/csv"},
    )
    lost_rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [(r["reason"], r["deals"], r["sum_RUB"], r["sum_USD"]) for r in lost_rows] == [
        ("No budget", "1", "0", "300.00"),
        ("Chose a competitor", "1", "200.00", "0"),
    ]
    resp = await admin.get(
        "/reports/funnel",
        params={"pipeline_id": pipeline_id, **_today()},
        headers={"Accept": XLSX},
    )
    assert resp.headers["content-type"] == XLSX
    with zipfile.ZipFile(io.BytesIO(resp.content)) as book:
        workbook = book.read("xl/workbook.xml").decode()
        assert 'name="stages"' in workbook and 'name="lost"' in workbook
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert all(f"<t>{name}</t>" in sheet for name in EVERYONE)

    # manager activity and time in stage, same filters, same visibility
    resp = await admin.get("/reports/managers", params={"pipeline_id": pipeline_id, **_today()})
    activity = {r["manager_id"]: r for r in resp.json()["rows"]}
    m1_row, m2_row = activity[people["m1"]["id"]], activity[people["m2"]["id"]]
    assert (m1_row["created"], m1_row["won"]["deals"], m1_row["lost"]["deals"]) == (2, 1, 0)
    assert (m2_row["created"], m2_row["won"]["deals"], m2_row["lost"]["deals"]) == (2, 0, 2)
    assert m1_row["won"]["sums"] == [{"currency": "RUB", "amount": "1000.00"}]
    assert m1_row["average_cycle_seconds"] > 0
    seen_by_m1 = (
        await m1.get("/reports/managers", params={"pipeline_id": pipeline_id, **_today()})
    ).json()
    assert [r["manager_id"] for r in seen_by_m1["rows"]] == [people["m1"]["id"]]
    times = (
        await m1.get("/reports/time-in-stage", params={"pipeline_id": pipeline_id, **_today()})
    ).json()
    assert sorted(t["deal_id"] for t in times["items"]) == sorted([ids["A"], ids["B"]])
    b_times = next(t for t in times["items"] if t["deal_id"] == ids["B"])
    visits = {s["stage_id"]: s["visits"] for s in b_times["stages"]}
    stage = seeded["stage"]
    assert visits == {stage["New"]: 2, stage["Qualified"]: 2, stage["Proposal"]: 1}

"""Blueprints through the gateway against the whole stack: the whole file checked first,
a dry run, applying (and again: nothing changes), the export in the same format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from deploy.local.stack import Stack
from tests.e2e.conftest import problem

BLUEPRINTS = Path(__file__).parents[2] / "blueprints"
YAML = {"content-type": "application/yaml"}

SMALL = """
blueprint: 1
company: Test shop
calendar: {timezone: Europe/Moscow, working_days: [1, 2, 3, 4, 5]}
departments:
  - name: BP Management
    head: bp.ceo@shop.example
    children:
      - name: BP Sales
        head: bp.head@shop.example
users:
  - {email: bp.ceo@shop.example, name: Olga, roles: [ceo], department: BP Management}
  - {email: bp.head@shop.example, name: Ivan, roles: [head_of_sales], department: BP Sales,
     password: head-password-1}
  - {email: bp.anna@shop.example, name: Anna, roles: [manager], department: BP Sales,
     password: anna-password-1}
lists:
  - code: bp_directions
    name: Shipping directions
    columns: [{code: direction, name: Direction, type: string},
              {code: operator, name: Operator, type: user}]
    items:
      - {direction: North, operator: bp.anna@shop.example}
pipelines:
  - name: BP Sales
    stages: [New, Contract, {name: Won, semantic: won}, {name: Lost, semantic: lost}]
    fields:
      - {code: inn, name: INN, type: string, required_on_stages: [Contract]}
      - {code: direction, name: Direction, type: list_item, list: bp_directions}
    rules:
      - name: Call the client
        trigger: {event: enter, stage: Contract}
        actions:
          - {type: create_task, title: Call the client, assignee: {kind: responsible}}
          - {type: move, stage: Won, delay: {days: 30}}
approval_templates:
  - code: bp_contract
    name: Contract approval
    steps:
      - {code: head, name: Head of sales, approvers: [{kind: user, user: bp.head@shop.example}]}
contract_types:
  - {code: bp_supply, name: Supply contract, template: bp_contract}
"""


async def apply(admin: httpx.AsyncClient, text: str, *, dry_run: bool = False) -> httpx.Response:
    params = {"dry_run": "true"} if dry_run else {}
    return await admin.post("/blueprints", content=text.encode(), headers=YAML, params=params)


async def test_blueprint_checked_whole_applied_once_and_exported(
    blueprint_admin: httpx.AsyncClient,
) -> None:
    admin = blueprint_admin
    broken = SMALL.replace("stage: Contract}", "stage: Contrakt}").replace(
        "roles: [manager]", "roles: [manger]"
    )
    resp = await apply(admin, broken)
    assert resp.status_code == 422, resp.text
    places = {e["field"] for e in problem(resp)["errors"]}
    assert places == {"users[2].roles[0]", "pipelines[0].rules[0].trigger.stage"}, places
    names = [p["name"] for p in (await admin.get("/pipelines")).json()]
    assert "BP Sales" not in names, "nothing is applied when a problem is found"

    resp = await admin.post("/blueprints", content=b"{}", headers={"content-type": "text/csv"})
    assert resp.status_code == 415

    dry = await apply(admin, SMALL, dry_run=True)
    assert dry.status_code == 200, dry.text
    kinds = [(c["action"], c["kind"]) for c in dry.json()["changes"]]
    assert ("create", "pipeline") in kinds and ("create", "rule") in kinds
    assert "BP Sales" not in [p["name"] for p in (await admin.get("/pipelines")).json()]

    resp = await apply(admin, SMALL)
    assert resp.status_code == 200, resp.text
    assert [(c["action"], c["kind"]) for c in resp.json()["changes"]] == kinds
    again = await apply(admin, SMALL)
    assert again.status_code == 200 and again.json()["changes"] == [], again.text

    pipeline = next(p for p in (await admin.get("/pipelines")).json() if p["name"] == "BP Sales")
    contract = next(s for s in pipeline["stages"] if s["name"] == "Contract")
    inn = next(f for f in pipeline["fields"] if f["code"] == "inn")
    assert inn["required_on_stages"] == [contract["id"]]

    exported = await admin.get("/blueprint")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(
        "application/yaml"
    )
    doc = yaml.safe_load(exported.text)
    sales = next(p for p in doc["pipelines"] if p["name"] == "BP Sales")
    assert sales["rules"][0]["trigger"] == {"event": "enter", "stage": "Contract"}
    assert sales["rules"][0]["actions"][1]["stage"] == "Won"
    ivan = next(u for u in doc["users"] if u["email"] == "bp.head@shop.example")
    assert ivan["department"] == "BP Sales" and ivan["roles"] == ["head_of_sales"]
    # The export applied again changes nothing: it is the configuration itself.
    resp = await apply(admin, exported.text)
    assert resp.status_code == 200 and resp.json()["changes"] == [], resp.text

    # A change in the file is an update, shown by a dry run first.
    changed = SMALL.replace("title: Call the client", "title: Call the client today")
    dry = await apply(admin, changed, dry_run=True)
    assert [(c["action"], c["kind"]) for c in dry.json()["changes"]] == [("update", "rule")]
    assert (await apply(admin, changed)).json()["changes"] == dry.json()["changes"]


async def test_every_seed_blueprint_applies_once(blueprint_admin: httpx.AsyncClient) -> None:
    admin = blueprint_admin
    files = sorted(BLUEPRINTS.glob("*.yaml"))
    assert len(files) == 5, files
    for path in files:
        text = path.read_text()
        resp = await apply(admin, text)
        assert resp.status_code == 200, f"{path.name}: {resp.text}"
        assert resp.json()["changes"], path.name
        again = await apply(admin, text)
        assert again.status_code == 200 and again.json()["changes"] == [], again.text
    pipelines = {p["name"] for p in (await admin.get("/pipelines")).json()}
    tools = yaml.safe_load((BLUEPRINTS / "tool-distributor.yaml").read_text())["pipelines"]
    assert len(tools) == 13 and {p["name"] for p in tools} <= pipelines


def test_the_command_line_applies_through_the_running_services(
    blueprint_stack: Stack, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DEALFLOW_DEALS_ADDR": blueprint_stack.service_addr("deals"),
        "DEALFLOW_APPROVALS_ADDR": blueprint_stack.service_addr("approvals"),
    }
    dealflow = str(Path(sys.executable).parent / "dealflow")
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.replace("BP Sales", "CLI Sales").replace("bp_", "cli_"))
    dry = subprocess.run(
        [dealflow, "apply-blueprint", str(path), "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert dry.returncode == 0, dry.stderr
    assert "would create pipeline CLI Sales" in dry.stdout
    done = subprocess.run(
        [dealflow, "apply-blueprint", str(path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and "create pipeline CLI Sales" in done.stdout, done.stderr
    again = subprocess.run(
        [dealflow, "apply-blueprint", str(path)], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and again.stdout == "", again.stdout
    assert "0 change(s)" in again.stderr

    path.write_text(SMALL.replace("type: string, required", "type: colour, required"))
    bad = subprocess.run(
        [dealflow, "apply-blueprint", str(path)], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "pipelines[0].fields[0].type" in bad.stderr, bad.stderr

    exported = subprocess.run(
        [dealflow, "export-blueprint"], env=env, capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr
    names = [p["name"] for p in yaml.safe_load(exported.stdout)["pipelines"]]
    assert "CLI Sales" in names


async def test_pit_1_pipelines_as_data(blueprint_admin: httpx.AsyncClient) -> None:
    """PIT-1: the tool distributor's 13 pipelines, each with its own stages and custom
    fields of every type the case names, made from one file as easily as one pipeline."""
    admin = blueprint_admin
    text = (BLUEPRINTS / "tool-distributor.yaml").read_text()
    assert (await apply(admin, text)).status_code == 200
    declared = yaml.safe_load(text)["pipelines"]
    assert len(declared) == 13
    by_name = {p["name"]: p for p in (await admin.get("/pipelines")).json()}
    types: set[str] = set()
    for want in declared:
        made = (await admin.get(f"/pipelines/{by_name[want['name']]['id']}")).json()
        stages = [s if isinstance(s, str) else s["name"] for s in want["stages"]]
        assert [s["name"] for s in made["stages"]][: len(stages)] == stages, want["name"]
        fields = {f["code"]: f["type"] for f in made["fields"]}
        for field in want.get("fields", []):
            assert fields.get(field["code"]) == field["type"], (want["name"], field["code"])
            types.add(field["type"])
    assert {
        "string",
        "number",
        "money",
        "date",
        "enum",
        "user",
        "file",
        "bool",
        "list_item",
    } <= types
    assert (await apply(admin, text)).json()["changes"] == []  # applying again changes nothing

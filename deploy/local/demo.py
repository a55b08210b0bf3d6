"""`DEALFLOW_DEMO=<blueprint> make up` (and `make demo`): apply a blueprint and create a few
dozen deals at different stages, some with running processes and their open tasks, so the
board (/app) and the Temporal UI show something on the first start.

Everything goes through the public REST API as the bootstrap admin and the blueprint's
demo users; the deals are made once per data directory (`.data/demo.json`), the blueprint
is applied on every start (again: nothing changes).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

BLUEPRINTS = Path(__file__).parents[2] / "blueprints"
TITLES = (
    "Pens for Acme",
    "Branded mugs",
    "Trade show stand",
    "Catalogue print run",
    "Gift boxes",
    "Notebooks with logo",
    "Outdoor banners",
    "T-shirts for the team",
    "Calendars 2027",
    "Umbrellas",
    "Packaging redesign",
    "Conference badges",
    "Power banks",
    "Eco bags",
)


class Api:
    """A small JSON client of the gateway (the standard library: `make up` needs no more)."""

    def __init__(self, base: str, email: str, password: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        form = urllib.parse.urlencode({"username": email, "password": password}).encode()
        self.token = self._send("POST", "/auth/token", form, "application/x-www-form-urlencoded")[
            "access_token"
        ]
        self.me = self.call("GET", "/me")

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        return self._send(method, path, data, "application/json")

    def apply_blueprint(self, text: str) -> Any:
        return self._send("POST", "/blueprints", text.encode(), "application/yaml")

    def _send(self, method: str, path: str, data: bytes | None, kind: str) -> Any:
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("content-type", kind)
        if getattr(self, "token", None):
            request.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=120) as resp:
            return json.loads(resp.read() or b"null")


def blueprint_path(name: str) -> Path:
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") else BLUEPRINTS / f"{name}.yaml"


def run_demo(base: str, admin: tuple[str, str], name: str, data_dir: Path) -> str:
    """Apply the blueprint `name` (a file in blueprints/ or a path) and, once, seed deals."""
    path = blueprint_path(name)
    text = path.read_text(encoding="utf-8")
    api = Api(base, *admin)
    changes = api.apply_blueprint(text)["changes"]
    marker = data_dir / "demo.json"
    if marker.exists():
        return f"demo: blueprint {path.name} applied ({len(changes)} changes); deals made before"
    doc = yaml.safe_load(text)
    managers = [
        Api(base, u["email"], u["password"])
        for u in doc.get("users", [])
        if "manager" in u.get("roles", []) and u.get("password")
    ] or [api]
    made = seed_deals(api, managers)
    marker.write_text(json.dumps({"blueprint": path.name, **made}))
    return (
        f"demo: blueprint {path.name} applied ({len(changes)} changes); "
        f"{made['deals']} deals, {made['processes']} processes started"
    )


def seed_deals(admin: Api, managers: list[Api], total: int = 36) -> dict[str, int]:
    pipelines = [p for p in admin.call("GET", "/pipelines") if p["kind"] == "deal"]
    designers = admin.call("GET", "/users?role=designer")["items"]
    per_pipeline = max(3, total // max(1, len(pipelines)))
    today = datetime.now(UTC).date()
    deals = processes = 0
    for p in pipelines:
        stages = _stages_to_fill(p)
        values = _values(admin, p, today)
        for i in range(per_pipeline):
            manager = managers[(deals + i) % len(managers)]
            stage = stages[i % len(stages)]
            deal = manager.call(
                "POST",
                "/deals",
                {
                    "pipeline_id": p["id"],
                    "title": f"{TITLES[(deals + i) % len(TITLES)]} #{deals + i + 1}",
                    "stage_id": stage["id"],
                    "amount": str(50_000 + 12_500 * ((deals + i) % 9)),
                    "currency": "RUB",
                    "fields": {k: v for k, v in values.items() if k in _fields_for(p)},
                },
            )
            if i % 3 == 0:
                back_by = (today + timedelta(days=3 + i)).isoformat()
                _start(manager, deal["id"], "sample_return", {"return_by": back_by})
                processes += 1
            elif i % 3 == 1 and designers:
                _start(manager, deal["id"], "layout_revision", {})
                processes += 1
        deals += per_pipeline
    return {"deals": deals, "processes": processes}


def _start(api: Api, deal_id: int, process: str, params: dict[str, Any]) -> None:
    api.call("POST", f"/deals/{deal_id}/processes", {"process": process, "params": params})


def _stages_to_fill(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The in-progress stages a deal can be made at with the values `_values` gives (not
    those that need a file)."""
    files = {f["code"] for f in p["fields"] if f["type"] == "file"}
    blocked = {
        s for f in p["fields"] if f["code"] in files for s in f.get("required_on_stages", [])
    }
    found = [s for s in p["stages"] if s["semantic"] == "in_progress" and s["id"] not in blocked]
    return found or p["stages"][:1]


def _fields_for(p: dict[str, Any]) -> set[str]:
    return {f["code"] for f in p["fields"] if not f.get("formula") and f["type"] != "file"}


def _values(admin: Api, p: dict[str, Any], today: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in p["fields"]:
        kind = f["type"]
        if f.get("formula") or kind == "file":
            continue
        if kind in ("string", "text"):
            values[f["code"]] = f"Demo {f['name'].lower()}"
        elif kind == "number":
            values[f["code"]] = 10
        elif kind == "money":
            values[f["code"]] = "150000.00"
        elif kind == "date":
            values[f["code"]] = (today + timedelta(days=10)).isoformat()
        elif kind == "bool":
            values[f["code"]] = True
        elif kind == "enum" and f.get("options"):
            values[f["code"]] = f["options"][0]
        elif kind == "user":
            values[f["code"]] = admin.me["id"]
        elif kind == "list_item" and f.get("list_code"):
            items = admin.call("GET", f"/lists/{f['list_code']}/items")["items"]
            if items:
                values[f["code"]] = items[0]["id"]
    return values


def failure(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"demo failed: {exc.code} {exc.read().decode(errors='replace')[:2000]}"
    return f"demo failed: {exc}"

"""The plan's part for pipelines and lead funnels: new ones, their missing stages, fields
and rules, and rules that differ (what a service cannot change in place is a problem)."""

from __future__ import annotations

from typing import Any

from services.blueprints.current import Snapshot
from services.blueprints.document import Doc, stages_of
from services.blueprints.plan_parts import FIELDS, PIPELINES, RULES, STAGES, covers
from services.common.protoconv import from_struct


class PipelinesPlan:
    """A part of the planner: it records through `add`, `fail`, `check_ids`, `check_ref`."""

    doc: Doc
    snap: Snapshot
    now: Doc

    def add(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def fail(self, where: str, message: str) -> None:
        raise NotImplementedError

    def check_ids(self, value: Any, pipeline: str, where: str) -> None:
        raise NotImplementedError

    def check_ref(self, key: str, name: str, pipeline: str, where: str) -> None:
        raise NotImplementedError

    def pipelines(self) -> None:
        pipelines = {p["name"]: p for p in self.now.get("pipelines", [])}
        for i, p in enumerate(self.doc.get("pipelines", [])):
            place, name = f"pipelines[{i}]", p["name"]
            now = pipelines.get(name)
            if now is None:
                self.add(
                    PIPELINES, "create", "pipeline", place, name, {**p, "stages": stages_of(p)}
                )
            else:
                self.stages(p, now, place)
            self.fields(p, now or {}, place)
            self.rules(p, now or {}, place)

    def stages(self, p: Doc, now: Doc, place: str) -> None:
        name = p["name"]
        if now["kind"] != p.get("kind", "deal"):
            self.fail(f"{place}.kind", f"'{name}' exists as a {now['kind']} pipeline")
        have = {s["name"]: s["semantic"] for s in now["stages"]}
        for j, s in enumerate(stages_of(p)):
            where = f"{place}.stages[{j}]"
            if s["name"] not in have:
                item = {**s, "position": j}
                self.add(STAGES, "create", "stage", where, f"{name} / {s['name']}", item, name)
            elif have[s["name"]] != s["semantic"]:
                self.fail(f"{where}.semantic", f"is {have[s['name']]}; a blueprint keeps it")

    def fields(self, p: Doc, now: Doc, place: str) -> None:
        name = p["name"]
        lists = {a["code"] for a in self.doc.get("lists", [])} | {a.code for a in self.snap.lists}
        fields = {f["code"]: f for f in now.get("fields", [])}
        for j, f in enumerate(p.get("fields", [])):
            where = f"{place}.fields[{j}]"
            for key in ("required_on_stages", "required_to_leave"):
                for k, stage in enumerate(f.get(key, [])):
                    self.check_ref("stage", stage, name, f"{where}.{key}[{k}]")
            if f.get("list") and f["list"] not in lists:
                self.fail(f"{where}.list", f"no list '{f['list']}'")
            found = fields.get(f["code"])
            if found is None:
                self.add(FIELDS, "create", "field", where, f"{name} / {f['code']}", f, name)
            elif not covers(found, {k: v for k, v in f.items() if k != "name"}):
                self.fail(where, "the field exists with another definition; a blueprint keeps it")

    def rules(self, p: Doc, now: Doc, place: str) -> None:
        name = p["name"]
        ids = {
            str(from_struct(r.definition).get("name", "")): r.id
            for q in self.snap.pipelines
            if q.name == name
            for r in self.snap.rules.get(q.id, [])
        }
        rules = {r.get("name"): r for r in now.get("rules", [])}
        for j, rule in enumerate(p.get("rules", [])):
            where, label = f"{place}.rules[{j}]", f"{name} / {rule['name']}"
            self.check_ids(rule, name, where)
            found = rules.get(rule["name"])
            if found is None:
                self.add(RULES, "create", "rule", where, label, rule, name)
            elif not covers(found, rule):
                target = ids[rule["name"]]
                self.add(RULES, "update", "rule", where, label, rule, target, detail=name)

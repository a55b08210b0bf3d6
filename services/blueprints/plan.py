"""What applying a blueprint would change: the blueprint compared with the current
configuration (exported in the same format), part by part, and every reference checked
against what will be there afterwards. Nothing here calls a service.

A blueprint adds and updates; it never deletes what it does not mention. What a service
cannot change in place (a field's type, a stage's semantic, a list's columns) is a problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.blueprints.current import Names, Snapshot
from services.blueprints.document import Doc, stages_of
from services.blueprints.export import export
from services.blueprints.plan_parts import (
    CALENDAR,
    CONTRACT_TYPES,
    DEPARTMENTS,
    LIST_ITEMS,
    LISTS,
    ORG_LINKS,
    ROLES,
    TEMPLATES,
    USERS,
    Change,
    covers,
)
from services.blueprints.plan_pipelines import PipelinesPlan
from services.common.errors import FieldProblem, ValidationFailed


def departments_of(
    tree: list[Doc] | None, parent: str = "", where: str = "departments"
) -> Iterator[tuple[str, Doc, str]]:
    """(place, department, parent's name) of a tree, parents first."""
    for i, d in enumerate(tree or []):
        place = f"{where}[{i}]"
        yield place, d, parent
        yield from departments_of(d.get("children"), d["name"], f"{place}.children")


def plan(doc: Doc, snap: Snapshot) -> list[Change]:
    """The changes in the order they apply; ValidationFailed lists every problem."""
    planner = _Planner(doc, snap)
    planner.run()
    if planner.problems:
        raise ValidationFailed(planner.problems)
    return sorted(planner.changes, key=lambda c: c.phase)


class _Planner(PipelinesPlan):
    def __init__(self, doc: Doc, snap: Snapshot) -> None:
        self.doc, self.snap = doc, snap
        self.now = export(snap)
        self.changes: list[Change] = []
        self.problems: list[FieldProblem] = []
        self.future = self._future_names()
        self.new_roles = {r["code"] for r in doc.get("roles", [])}

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.changes.append(Change(*args, **kwargs))

    def fail(self, where: str, message: str) -> None:
        self.problems.append(FieldProblem(where, message))

    def _future_names(self) -> Names:
        names = Names.of(self.snap)
        for p in self.doc.get("pipelines", []):
            names.pipeline_ids.setdefault(p["name"], f"new:{p['name']}")
            for s in stages_of(p):
                names.stage_ids.setdefault((p["name"], s["name"]), f"new:{p['name']}/{s['name']}")
        for u in self.doc.get("users", []):
            names.user_ids.setdefault(u["email"].lower(), f"new:{u['email']}")
        for _, d, _ in departments_of(self.doc.get("departments")):
            names.department_ids.setdefault(d["name"], f"new:{d['name']}")
        return names

    def check_ids(self, value: Any, pipeline: str, where: str) -> None:
        try:
            self.future.to_ids(value, pipeline, where)
        except ValidationFailed as exc:
            self.problems.extend(exc.problems)

    def check_ref(self, key: str, name: str, pipeline: str, where: str) -> None:
        """One reference (`user`, `department`, `stage`) resolves after the changes."""
        try:
            self.future.id_of(key, name, pipeline, where)
        except ValidationFailed as exc:
            self.problems.extend(exc.problems)

    def run(self) -> None:
        self.calendar()
        self.roles()
        self.org()
        self.lists()
        self.pipelines()
        self.templates()
        self.contract_types()

    def calendar(self) -> None:
        wanted = self.doc.get("calendar")
        if wanted and not covers(self.now.get("calendar", {}), wanted):
            self.add(CALENDAR, "update", "calendar", "calendar", "the company calendar", wanted)

    def roles(self) -> None:
        roles = {r["code"]: r for r in self.now.get("roles", [])}
        known = {p for r in self.snap.role_defs for p in r.permissions}
        for i, r in enumerate(self.doc.get("roles", [])):
            place = f"roles[{i}]"
            for j, permission in enumerate(r.get("permissions", [])):
                if known and permission not in known:
                    self.fail(f"{place}.permissions[{j}]", f"no permission '{permission}'")
            wanted = {**r, "permissions": sorted(r.get("permissions", []))}
            now = roles.get(r["code"])
            if now is None or not covers(now, wanted):
                action = "create" if now is None else "update"
                self.add(ROLES, action, "role", place, r["code"], wanted)

    def org(self) -> None:
        existing = {d.name: d for d in self.snap.departments}
        for place, d, parent in departments_of(self.doc.get("departments")):
            item = {"name": d["name"], "parent": parent, "head": d.get("head", "")}
            if d.get("head"):
                self.check_ref("user", d["head"], "", f"{place}.head")
            found = existing.get(d["name"])
            if found is None:
                self.add(DEPARTMENTS, "create", "department", place, d["name"], item)
                if d.get("head"):
                    self.add(
                        ORG_LINKS, "update", "department", place, d["name"], item, detail="head"
                    )
                continue
            now_parent = self.future.department_names.get(found.parent_id, "")
            now_head = self.future.emails.get(found.head_id, "")
            head = d.get("head", "")
            if now_parent != parent or (head and now_head.lower() != head.lower()):
                self.add(
                    ORG_LINKS,
                    "update",
                    "department",
                    place,
                    d["name"],
                    item,
                    found.id,
                    detail="parent and head",
                )
        users = {u["email"].lower(): u for u in self.now.get("users", [])}
        ids = {u.email.lower(): u.id for u in self.snap.users}
        for i, u in enumerate(self.doc.get("users", [])):
            place = f"users[{i}]"
            for j, role in enumerate(u.get("roles", [])):
                if role not in self.snap.roles and role not in self.new_roles:
                    self.fail(f"{place}.roles[{j}]", f"no role '{role}'")
            if u.get("department"):
                self.check_ref("department", u["department"], "", f"{place}.department")
            if u.get("substitute"):
                self.check_ref("user", u["substitute"], "", f"{place}.substitute")
            now = users.get(u["email"].lower())
            basics = {k: u[k] for k in ("name", "roles", "department") if k in u}
            if now is None:
                self.add(USERS, "create", "user", place, u["email"], u)
            elif not covers(now, basics):
                self.add(USERS, "update", "user", place, u["email"], u, ids[u["email"].lower()])
            links = {k: u[k] for k in ("absent", "substitute") if k in u}
            if links and (now is None or not covers(now, links)):
                self.add(ORG_LINKS, "update", "user", place, u["email"], u, detail="absence")

    def lists(self) -> None:
        lists = {a["code"]: a for a in self.now.get("lists", [])}
        for i, a_list in enumerate(self.doc.get("lists", [])):
            place = f"lists[{i}]"
            now = lists.get(a_list["code"])
            columns = a_list["columns"]
            if now is None:
                self.add(LISTS, "create", "list", place, a_list["code"], a_list)
            elif [c["code"] for c in now["columns"]] != [c["code"] for c in columns]:
                self.fail(f"{place}.columns", "the list has other columns; a blueprint keeps them")
            key = a_list.get("key", columns[0]["code"])
            rows = {str(r.get(key)): r for r in (now or {}).get("items", [])}
            item_ids = {
                str(r.values[key]): r.id
                for r in self.snap.list_items.get(a_list["code"], [])
                if key in r.values
            }
            users = {c["code"] for c in columns if c.get("type") == "user"}
            for j, row in enumerate(a_list.get("items", [])):
                row_place = f"{place}.items[{j}]"
                for column in users & set(row):
                    self.check_ref("user", row[column], "", f"{row_place}.{column}")
                found = rows.get(str(row[key]))
                item = {"code": a_list["code"], "values": row, "users": sorted(users)}
                label = f"{a_list['code']}: {row[key]}"
                if found is None:
                    self.add(LIST_ITEMS, "create", "list_item", row_place, label, item)
                elif not covers(found, row):
                    target = item_ids[str(row[key])]
                    self.add(LIST_ITEMS, "update", "list_item", row_place, label, item, target)

    def templates(self) -> None:
        templates = {t["code"]: t for t in self.now.get("approval_templates", [])}
        for i, t in enumerate(self.doc.get("approval_templates", [])):
            place = f"approval_templates[{i}]"
            self.check_ids(t, "", place)
            now = templates.get(t["code"])
            if now is None or not covers(now, t):
                action = "create" if now is None else "update"
                self.add(TEMPLATES, action, "approval_template", place, t["code"], t)

    def contract_types(self) -> None:
        types = {c["code"]: c for c in self.now.get("contract_types", [])}
        codes = {t["code"] for t in self.doc.get("approval_templates", [])} | {
            t.code for t in self.snap.templates
        }
        for i, c in enumerate(self.doc.get("contract_types", [])):
            place = f"contract_types[{i}]"
            if c["template"] not in codes:
                self.fail(f"{place}.template", f"no approval template '{c['template']}'")
            now = types.get(c["code"])
            if now is None or not covers(now, c):
                action = "create" if now is None else "update"
                self.add(CONTRACT_TYPES, action, "contract_type", place, c["code"], c)

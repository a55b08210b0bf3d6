"""The current configuration in the blueprint format (`GET /api/v1/blueprint`): what a
company keeps in git, reviews, and applies again to change nothing."""

from __future__ import annotations

from typing import Any

from services.blueprints.current import Names, Snapshot
from services.blueprints.document import Doc
from services.common.protoconv import from_struct


def export(snap: Snapshot) -> Doc:
    names = Names.of(snap)
    doc: Doc = {"blueprint": 1}
    if snap.calendar:
        doc["calendar"] = snap.calendar
    doc["roles"] = [
        {
            "code": r.code,
            "name": r.name,
            "visibility": r.visibility,
            "permissions": sorted(r.permissions),
        }
        for r in snap.role_defs
    ]
    doc["departments"] = _tree(snap, names, parent_id="")
    doc["users"] = [_user(u, names) for u in snap.users if u.active]
    doc["lists"] = [_list(a_list, snap, names) for a_list in snap.lists]
    doc["pipelines"] = [_pipeline(p, snap, names) for p in snap.pipelines]
    doc["approval_templates"] = [
        {"code": t.code, "name": t.name, **_compact(names.to_names(from_struct(t.definition), ""))}
        for t in snap.templates
    ]
    doc["contract_types"] = [
        {"code": c.code, "name": c.name, "template": c.template_code} for c in snap.contract_types
    ]
    return doc


def _tree(snap: Snapshot, names: Names, *, parent_id: str) -> list[Doc]:
    out = []
    for d in snap.departments:
        if d.parent_id != parent_id:
            continue
        item: Doc = {"name": d.name}
        if d.head_id:
            item["head"] = names.emails.get(d.head_id, d.head_id)
        children = _tree(snap, names, parent_id=d.id)
        if children:
            item["children"] = children
        out.append(item)
    return out


def _user(u: Any, names: Names) -> Doc:
    item: Doc = {"email": u.email, "name": u.name, "roles": list(u.roles)}
    if u.department_id:
        item["department"] = names.department_names.get(u.department_id, u.department_id)
    if u.absent:
        item["absent"] = True
    if u.substitute_id:
        item["substitute"] = names.emails.get(u.substitute_id, u.substitute_id)
    return item


def _list(a_list: Any, snap: Snapshot, names: Names) -> Doc:
    columns = [{"code": c.code, "name": c.name, "type": c.type} for c in a_list.columns]
    users = {c.code for c in a_list.columns if c.type == "user"}
    items = []
    for row in snap.list_items.get(a_list.code, []):
        values = from_struct(row.values)
        items.append(
            {k: names.emails.get(str(v), v) if k in users else v for k, v in values.items()}
        )
    key = columns[0]["code"] if columns else ""
    return {
        "code": a_list.code,
        "name": a_list.name,
        "columns": columns,
        "key": key,
        "items": items,
    }


def _pipeline(p: Any, snap: Snapshot, names: Names) -> Doc:
    item: Doc = {
        "name": p.name,
        "kind": p.kind or "deal",
        "stages": [{"name": s.name, "semantic": s.semantic} for s in p.stages],
        "fields": [_field(f, p.name, names) for f in p.fields],
    }
    rules = []
    for rule in snap.rules.get(p.id, []):
        shape = names.to_names(from_struct(rule.definition), p.name)
        if not rule.active:
            shape["active"] = False
        rules.append(shape)
    item["rules"] = rules
    return item


def _field(f: Any, pipeline: str, names: Names) -> Doc:
    item: Doc = {"code": f.code, "name": f.name, "type": f.type}
    if f.options:
        item["options"] = list(f.options)
    if f.list_code:
        item["list"] = f.list_code
    if f.formula:
        item["formula"] = f.formula
    if f.currency:
        item["currency"] = f.currency
    for key in ("required_on_stages", "required_to_leave"):
        ids = list(getattr(f, key))
        if ids:
            item[key] = [names.stages.get(i, (pipeline, i))[1] for i in ids]
    return item


def _compact(value: Any) -> Any:
    """Without the empty defaults a template's stored shape spells out."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if not _empty(v)}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)

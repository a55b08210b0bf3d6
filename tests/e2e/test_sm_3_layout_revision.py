"""SM-3 Layout revision loop, end to end through the gateway against the whole stack: the
manager's brief, the designer's layouts watched by the head of the manager's department and
the CEO, two rounds of the client's changes, the approved layout's final file on the deal,
and every round readable afterwards (the run's state and the timeline)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from temporalio.client import Client

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post, upload
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture

PROCESS = "layout_revision"


async def open_task(who: Person, deal_id: int, kind: str, seen: set[int]) -> dict[str, Any]:
    """The open task of `kind` on the deal that `who` has not answered yet."""

    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get(
            "/tasks", params={"assignee": "me", "deal_id": deal_id, "status": "open"}
        )
        assert resp.status_code == 200, resp.text
        fresh = [t for t in resp.json()["items"] if t["kind"] == kind and t["id"] not in seen]
        return fresh[0] if fresh else None

    task = await eventually(probe, what=f"an open {kind} task")
    seen.add(task["id"])
    return task


async def answer(who: Person, task: dict[str, Any], outcome: str, **data: Any) -> httpx.Response:
    return await who.client.post(
        f"/tasks/{task['id']}/complete", json={"outcome": outcome, "data": data}
    )


async def test_sm_3_layout_revision_loop(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    design = await post(admin, "/departments", {"name": f"Design sales {tag}"})
    manager = await staff.add("manager", "manager", design["id"])
    head = await staff.add("head", "head_of_sales", design["id"])
    designer = await staff.add("designer", "designer")
    ceo = await staff.add("ceo", "ceo")
    resp = await admin.patch(f"/departments/{design['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    pipeline = await post(
        admin,
        "/pipelines",
        {
            "name": f"Print {tag}",
            "stages": [
                {"name": "Brief", "semantic": "in_progress"},
                {"name": "Won", "semantic": "won"},
            ],
        },
    )
    resp = await admin.post(
        f"/pipelines/{pipeline['id']}/fields",
        json={"code": "layout_file", "name": "Final layout", "type": "file"},
    )
    assert resp.status_code == 201, resp.text
    # The studio's designers work on every deal of the print pipeline (roles are data).
    resp = await admin.put(
        "/roles/designer",
        json={
            "name": "Designer",
            "visibility": "own",
            "permissions": ["files.upload"],
            "pipelines": [{"pipeline_id": pipeline["id"], "visibility": "all"}],
        },
    )
    assert resp.status_code == 200, resp.text
    deal = await post(manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": "Flyers"})
    deal_id = deal["id"]

    kinds = (await manager.client.get("/processes")).json()
    assert any(k["name"] == PROCESS for k in kinds)
    resp = await manager.client.post(
        f"/deals/{deal_id}/processes", json={"process": PROCESS, "params": {"max_rounds": "x"}}
    )
    assert resp.status_code == 422, "max_rounds must be a whole number"
    resp = await manager.client.post(
        f"/deals/{deal_id}/processes",
        json={"process": PROCESS, "params": {"designer_id": str(designer.id)}},
    )
    assert resp.status_code == 201, resp.text
    workflow_id = resp.json()["workflow_id"]
    assert workflow_id == f"deal-{deal_id}/layout-revision/1"

    seen: set[int] = set()
    reference = (await upload(manager, deal_id, "reference.pdf", b"%PDF-1.4 ref")).json()
    brief = await open_task(manager, deal_id, "layout_revision.brief", seen)
    assert {f["name"]: f["required"] for f in brief["answer_fields"]} == {
        "text": True,
        "file_ids": False,
    }
    resp = await answer(
        manager, brief, "filed", text="A5 flyers, brand blue", file_ids=[str(reference["id"])]
    )
    assert resp.status_code == 200, resp.text

    comments = ["Make the logo bigger", "Use the brand blue"]
    layouts: list[int] = []
    for round_no, comment in enumerate([*comments, ""], start=1):
        submit = await open_task(designer, deal_id, "layout_revision.layout.submit", seen)
        assert head.id in submit["watcher_ids"] and ceo.id in submit["watcher_ids"]
        if round_no > 1:
            assert comments[round_no - 2] in submit["description"]
        if round_no == 1:
            # Watchers see it and hear of it, but may not answer it.
            watched = (await head.client.get("/tasks", params={"watching": "me"})).json()
            assert submit["id"] in [t["id"] for t in watched["items"]]
            refused = await answer(head, submit, "submitted", file_ids=["1"])
            assert refused.status_code == 403, refused.text
            assert (await answer(designer, submit, "submitted")).status_code == 422, "a file"
        layout = (await upload(designer, deal_id, f"layout-{round_no}.pdf", b"%PDF-1.4 x")).json()
        layouts.append(layout["id"])
        resp = await answer(designer, submit, "submitted", file_ids=[str(layout["id"])])
        assert resp.status_code == 200, resp.text

        review = await open_task(manager, deal_id, "layout_revision.layout.review", seen)
        assert review["comment_outcomes"] == ["changes_requested"]
        assert str(layout["id"]) in review["description"]
        if comment:
            resp = await answer(manager, review, "changes_requested")
            assert resp.status_code == 422 and "comment" in problem(resp)["detail"]
            resp = await answer(manager, review, "changes_requested", comment=comment)
        else:
            resp = await answer(manager, review, "approved")
        assert resp.status_code == 200, resp.text

    final_file = (await upload(designer, deal_id, "final.pdf", b"%PDF-1.4 final")).json()
    final = await open_task(designer, deal_id, "layout_revision.final", seen)
    resp = await answer(designer, final, "uploaded", file_id=str(final_file["id"]))
    assert resp.status_code == 200, resp.text

    temporal = await Client.connect(stack.temporal_address, namespace=stack.namespace)
    result = await temporal.get_workflow_handle(workflow_id).result()
    assert result["outcome"] == "approved" and result["final_file_id"] == str(final_file["id"])

    # Every round is readable afterwards: the run's state through the API, and the timeline.
    resp = await manager.client.get(f"/deals/{deal_id}/processes/{workflow_id}")
    assert resp.status_code == 200, resp.text
    run = resp.json()
    assert run["status"] == "completed" and run["stage"] == "done"
    rounds = run["state"]["details"]["rounds"]
    assert [(r["round"], r["outcome"], r["comment"]) for r in rounds] == [
        (1, "changes_requested", comments[0]),
        (2, "changes_requested", comments[1]),
        (3, "approved", ""),
    ]
    assert [r["file_ids"] for r in rounds] == [[str(i)] for i in layouts]
    assert all(r["submitted_by"] == str(designer.id) and r["reviewed_at"] for r in rounds)
    assert run["state"]["details"]["brief"] == "A5 flyers, brand blue"
    other = await head.client.get(f"/deals/{deal_id}/processes/deal-{deal_id}/sample-return/9")
    assert other.status_code == 404

    deal_now = (await manager.client.get(f"/deals/{deal_id}")).json()
    assert str(deal_now["fields"]["layout_file"]) == str(final_file["id"])
    timeline = (await manager.client.get(f"/deals/{deal_id}/timeline")).json()["items"]
    texts = " | ".join(e["text"] for e in timeline)
    for fragment in (*comments, "round 3: approved", "Final layout uploaded"):
        assert fragment in texts, f"timeline lacks {fragment!r}: {texts}"

    # The head watched the designer's tasks: told of each outcome.
    async def head_told() -> bool:
        items = (await head.client.get("/notifications")).json()["items"]
        return sum(n["kind"] == "task.completed" for n in items) >= 4

    await eventually(head_told, what="the watchers' notifications")

"""SN-5 Deal chat and folder, end to end through the gateway against the whole stack.

A manager makes a deal: it links its folder and its chat; the chat opens with the deal's
key facts and a link and has the manager as a member; a colleague who does not see the
deal sees neither. Sub-folders group the deal's files, an upload lands in the folder it
names (the root by default). A message carries a file of the deal and mentions the head,
who is notified and becomes a member; a file of another deal, a mention of someone who
does not see the deal, or adding them, is refused naming the field.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from deploy.local.stack import Stack
from tests.e2e.conftest import eventually, problem
from tests.e2e.test_pit_2_new_client_onboarding import Person, Staff, post, upload
from tests.e2e.test_pit_2_new_client_onboarding import staff as staff  # the fixture


async def opened_chat(who: Person, deal_id: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        resp = await who.client.get(f"/deals/{deal_id}/chat")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body if body["items"] else None

    return await eventually(probe, what=f"the chat of deal {deal_id}")


async def test_sn_5_deal_chat_and_folder(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    colleague = await staff.add("colleague", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    resp = await admin.patch(f"/departments/{sales['id']}", json={"head_id": head.id})
    assert resp.status_code == 200, resp.text
    stages = [{"name": "New", "semantic": "in_progress"}, {"name": "Won", "semantic": "won"}]
    pipeline = await post(admin, "/pipelines", {"name": f"Interior {tag}", "stages": stages})
    deal = await post(
        manager.client,
        "/deals",
        {
            "pipeline_id": pipeline["id"],
            "title": f"Office chairs {tag}",
            "amount": "125000.00",
            "currency": "RUB",
            "company_name": "Mebel Plus",
        },
    )
    other = await post(manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": "B"})
    assert deal["folder_url"] == f"/api/v1/deals/{deal['id']}/folder"
    assert deal["chat_url"] == f"/api/v1/deals/{deal['id']}/chat"

    # the chat opens with the key facts and a link; the responsible is a member
    chat = await opened_chat(manager, deal["id"])
    (opening,) = chat["items"]
    assert opening["kind"] == "opening" and opening["author_id"] is None
    for fact in (f"Office chairs {tag}", "125000.00 RUB", "Mebel Plus", deal["folder_url"][:-7]):
        assert fact in opening["body"], opening["body"]
    assert chat["member_ids"] == [manager.id]
    for path in (f"/deals/{deal['id']}/chat", f"/deals/{deal['id']}/folder"):
        assert (await colleague.client.get(path)).status_code == 404

    # the folder: the root made with the deal, a sub-folder, uploads land where they say
    root = (await manager.client.get(deal["folder_url"][7:])).json()
    assert (root["name"], root["parent_id"], root["folders"], root["files"]) == (
        f"Office chairs {tag}",
        None,
        [],
        [],
    )
    layouts = await post(manager.client, f"/deals/{deal['id']}/folder/folders", {"name": "Layouts"})
    assert layouts["parent_id"] == root["id"]
    again = await manager.client.post(
        f"/deals/{deal['id']}/folder/folders", json={"name": "Layouts"}
    )
    assert again.status_code == 422 and problem(again)["errors"][0]["field"] == "name"
    in_layouts = await upload(
        manager, deal["id"], "chair.pdf", b"%PDF-1.4 a", folder_id=str(layouts["id"])
    )
    assert in_layouts.status_code == 201, in_layouts.text
    assert in_layouts.json()["folder_id"] == layouts["id"]
    loose = await upload(manager, deal["id"], "brief.pdf", b"%PDF-1.4 b")
    assert loose.json()["folder_id"] == root["id"]
    elsewhere = await upload(
        manager, other["id"], "x.pdf", b"%PDF-1.4 c", folder_id=str(layouts["id"])
    )
    assert elsewhere.status_code == 422 and problem(elsewhere)["errors"][0]["field"] == "folder_id"
    root = (await manager.client.get(f"/deals/{deal['id']}/folder")).json()
    assert [f["name"] for f in root["folders"]] == ["Layouts"]
    assert [f["name"] for f in root["files"]] == ["brief.pdf"]
    sub = await manager.client.get(
        f"/deals/{deal['id']}/folder", params={"folder_id": layouts["id"]}
    )
    assert [f["name"] for f in sub.json()["files"]] == ["chair.pdf"]

    # a message with a file of the deal and a mention: the head is told and joins
    other_file = (await upload(manager, other["id"], "y.pdf", b"%PDF-1.4 d")).json()
    bad = await manager.client.post(
        f"/deals/{deal['id']}/chat",
        json={"body": "see", "file_ids": [other_file["id"]], "mention_ids": [colleague.id]},
    )
    assert bad.status_code == 422, bad.text
    assert {e["field"] for e in problem(bad)["errors"]} == {"file_ids[0]", "mention_ids[0]"}
    sent = await post(
        manager.client,
        f"/deals/{deal['id']}/chat",
        {
            "body": "Layout v1 attached",
            "file_ids": [in_layouts.json()["id"]],
            "mention_ids": [head.id],
        },
    )
    assert (sent["author_id"], sent["file_ids"], sent["mention_ids"]) == (
        manager.id,
        [in_layouts.json()["id"]],
        [head.id],
    )

    async def mentioned() -> dict[str, Any] | None:
        feed = (await head.client.get("/notifications")).json()["items"]
        return next((n for n in feed if n["kind"] == "chat.mention"), None)

    notice = await eventually(mentioned, what="the head's mention notification")
    assert notice["deal_id"] == deal["id"] and "Layout v1" in notice["body"]
    chat = (await head.client.get(f"/deals/{deal['id']}/chat")).json()
    assert [m["kind"] for m in chat["items"]] == ["message", "opening"]
    assert set(chat["member_ids"]) == {manager.id, head.id}

    # only people who see the deal join; whoever sees it may add them
    refused = await manager.client.post(
        f"/deals/{deal['id']}/chat/members", json={"user_id": colleague.id}
    )
    assert refused.status_code == 422 and problem(refused)["errors"][0]["field"] == "user_id"
    assert (
        await colleague.client.post(f"/deals/{deal['id']}/chat", json={"body": "hi"})
    ).status_code == 404


async def test_a_mention_goes_by_e_mail_where_its_user_chose(
    stack: Stack, admin: httpx.AsyncClient, staff: Staff
) -> None:
    """The stack's notifications service sends over SMTP to `make up`'s catch-all sink."""
    tag = uuid.uuid4().hex[:6]
    sales = await post(admin, "/departments", {"name": f"Sales {tag}"})
    manager = await staff.add("manager", "manager", sales["id"])
    head = await staff.add("head", "head_of_sales", sales["id"])
    resp = await head.client.put(
        "/notification-preferences",
        json={"preferences": {"chat.mention": ["email"], "*": ["in_app"]}},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["preferences"]["chat.mention"] == ["email"]
    bad = await head.client.put("/notification-preferences", json={"preferences": {"x": ["fax"]}})
    assert bad.status_code == 422, bad.text
    refused = await head.client.post("/webhooks", json={"url": "http://127.0.0.1:1/x"})
    assert refused.status_code == 422 and problem(refused)["errors"][0]["field"] == "url"
    stages = [{"name": "New", "semantic": "in_progress"}]
    pipeline = await post(admin, "/pipelines", {"name": f"Mail {tag}", "stages": stages})
    deal = await post(manager.client, "/deals", {"pipeline_id": pipeline["id"], "title": "Sofas"})
    await opened_chat(manager, deal["id"])
    await post(manager.client, f"/deals/{deal['id']}/chat", {"body": "?", "mention_ids": [head.id]})

    async def delivered() -> dict[str, Any] | None:
        items = (await head.client.get("/deliveries")).json()["items"]
        return next((d for d in items if d["status"] == "delivered"), None)

    mail = await eventually(delivered, what="the mention's e-mail delivered")
    assert mail["channel"] == "email" and mail["log"][-1]["ok"] is True
    feed = (await head.client.get("/notifications")).json()["items"]
    assert not [n for n in feed if n["kind"] == "chat.mention"]  # e-mail only, as chosen

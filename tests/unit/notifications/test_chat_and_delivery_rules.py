"""Deal chats' and delivery's plain rules: the opening message, what a message may hold,
who a mention notifies, channels per kind, the retry schedule, webhook signatures and
which webhook addresses are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import ValidationFailed
from services.notifications.delivery.addresses import address_problem, url_problem
from services.notifications.delivery.signing import signature, verify
from services.notifications.domain.backoff import Backoff
from services.notifications.domain.channels import channels_for, check_preferences
from services.notifications.domain.chat import DealFacts, Message, mention_notices, new_message

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_opening_message_holds_the_key_facts_and_a_link() -> None:
    data = {
        "deal": {
            "id": "42",
            "title": "Chairs",
            "pipeline_id": "3",
            "stage_id": "7",
            "responsible_id": "5",
        },
        "after": {
            "amount": "1500.00",
            "currency": "RUB",
            "company_name": "Acme",
            "contact_name": None,
        },
    }
    facts = DealFacts.of_event(data, actor="9")
    text = facts.opening()
    for part in ("Deal 42: Chairs", "1500.00 RUB", "Acme", "user 5", "/api/v1/deals/42"):
        assert part in text
    assert "Contact" not in text
    assert facts.members() == (5, 9)  # the responsible and whoever made it for them
    assert DealFacts.of_event(data, actor="5").members() == (5,)
    assert DealFacts.of_event(data, actor="").members() == (5,)


def test_a_message_needs_text_or_files_and_names_each_repeat() -> None:
    assert new_message(deal_id=1, author_id=2, body="", file_ids=[3]).file_ids == (3,)
    with pytest.raises(ValidationFailed) as empty:
        new_message(deal_id=1, author_id=2, body="  ")
    assert empty.value.problems[0].field == "body"
    with pytest.raises(ValidationFailed) as repeated:
        new_message(deal_id=1, author_id=2, body="x", file_ids=[3, 3], mention_ids=[4, 5, 4])
    assert [p.field for p in repeated.value.problems] == ["file_ids[1]", "mention_ids[2]"]


def test_a_mention_notifies_each_mentioned_user_but_the_author_once() -> None:
    message = Message(8, 1, 2, "message", "look", (), (2, 3, 4), NOW)
    notices = mention_notices(message, "Chairs")
    assert [n.user_id for n in notices] == [3, 4]
    assert {n.kind for n in notices} == {"chat.mention"}
    assert notices[0].idempotency_key == "chat-message/8/mention/3"


def test_channels_per_kind_fall_back_to_any_kind_then_in_app() -> None:
    chosen = {"chat.mention": ("email",), "*": ("in_app", "webhook")}
    assert channels_for("chat.mention", chosen) == ("email",)
    assert channels_for("task.completed", chosen) == ("in_app", "webhook")
    assert channels_for("task.completed", {}) == ("in_app",)
    with pytest.raises(ValidationFailed) as bad:
        check_preferences({"x": ["in_app", "pigeon"]})
    assert bad.value.problems[0].field == "preferences.x[1]"


def test_retries_back_off_to_a_cap_then_give_up() -> None:
    backoff = Backoff(first=timedelta(seconds=5), cap=timedelta(seconds=60), max_attempts=6)
    waits = [backoff.next_try(n, now=NOW) for n in range(1, 7)]
    assert [(w - NOW).total_seconds() if w else None for w in waits] == [5, 10, 20, 40, 60, None]


def test_a_signature_covers_timestamp_and_body_and_expires() -> None:
    header = signature("s3cret", 1_000, b'{"a":1}')
    assert header.startswith("t=1000,v1=")
    assert verify("s3cret", header, b'{"a":1}', now=1_010)
    assert not verify("s3cret", header, b'{"a":2}', now=1_010)
    assert not verify("other", header, b'{"a":1}', now=1_010)
    assert not verify("s3cret", header, b'{"a":1}', now=2_000)  # too old: a replay
    assert not verify("s3cret", "garbage", b'{"a":1}', now=1_000)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.8",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
    ],
)
def test_closed_addresses_are_refused(address: str) -> None:
    assert address_problem(address) is not None


def test_public_addresses_and_http_urls_pass() -> None:
    assert address_problem("93.184.216.34") is None
    assert url_problem("https://hooks.example.com/x") is None
    assert url_problem("ftp://example.com/") is not None
    assert url_problem("https://user:pw@example.com/") is not None

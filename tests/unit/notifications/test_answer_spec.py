"""What a task's answer needs: the spec is checked when the task is created, each problem
naming its field, and a retry with another spec is not the same request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import ValidationFailed
from services.notifications.domain.answers import AnswerField
from services.notifications.domain.tasks import NewTask, Status, Task, new_task

OUTCOMES = ("handed", "refused")


def create(
    *fields: AnswerField,
    outcomes: tuple[str, ...] = OUTCOMES,
    comment_outcomes: tuple[str, ...] = (),
) -> NewTask:
    return new_task(
        assignee_id=7,
        title="Hand the sample over",
        outcomes=outcomes,
        answer_fields=fields,
        comment_outcomes=comment_outcomes,
    )


def problems(
    *fields: AnswerField,
    outcomes: tuple[str, ...] = OUTCOMES,
    comment_outcomes: tuple[str, ...] = (),
) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        create(*fields, outcomes=outcomes, comment_outcomes=comment_outcomes)
    return {p.field: p.message for p in caught.value.problems}


def test_a_valid_spec_is_kept_as_given() -> None:
    handed_on = AnswerField(" handed_on ", "date", required_for=("handed",), label="Handed on")
    files = AnswerField("photos", "files", required=False)
    new = new_task(
        assignee_id=7,
        title="Hand over",
        outcomes=OUTCOMES,
        answer_fields=(handed_on, files),
        comment_outcomes=("refused", "refused"),
    )
    assert [f.name for f in new.answer_fields] == ["handed_on", "photos"]
    assert new.answer_fields[0].required_for == ("handed",)
    assert new.comment_outcomes == ("refused",)


@pytest.mark.parametrize("type_", ["string", "text", "date", "number", "boolean", "file", "files"])
def test_every_known_type_is_accepted(type_: str) -> None:
    create(AnswerField("x", type_))


def test_an_unknown_type_names_the_field() -> None:
    found = problems(AnswerField("ok"), AnswerField("when", "datetime"))
    assert list(found) == ["answer_fields[1].type"]
    assert "date" in found["answer_fields[1].type"]


def test_names_are_required_and_unique() -> None:
    found = problems(AnswerField("a"), AnswerField(" "), AnswerField("a"))
    assert set(found) == {"answer_fields[1].name", "answer_fields[2].name"}
    assert "repeats" in found["answer_fields[2].name"]


def test_required_for_must_name_outcomes_of_the_task() -> None:
    found = problems(AnswerField("why", required_for=("handed", "lost")))
    assert list(found) == ["answer_fields[0].required_for[1]"]
    assert "handed, refused" in found["answer_fields[0].required_for[1]"]


def test_comment_outcomes_must_be_outcomes_of_the_task() -> None:
    found = problems(comment_outcomes=("refused", "maybe"))
    assert list(found) == ["comment_outcomes[1]"]


def test_a_task_without_outcomes_cannot_name_any() -> None:
    found = problems(AnswerField("x", required_for=("done",)), outcomes=(), comment_outcomes=("x",))
    assert set(found) == {"answer_fields[0].required_for[0]", "comment_outcomes[0]"}


def test_empty_options_are_refused() -> None:
    assert list(problems(AnswerField("carrier", options=("dhl", "")))) == [
        "answer_fields[0].options[1]"
    ]


def test_a_retry_with_another_spec_is_another_request() -> None:
    spec = (AnswerField("handed_on", "date"),)
    new = new_task(assignee_id=7, title="T", outcomes=OUTCOMES, answer_fields=spec)
    created = Task(
        id=1,
        assignee_id=7,
        title="T",
        status=Status.OPEN,
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        outcomes=OUTCOMES,
        answer_fields=spec,
    )
    assert new.same_request(created)
    other = new_task(
        assignee_id=7, title="T", outcomes=OUTCOMES, answer_fields=(AnswerField("handed_on"),)
    )
    assert not other.same_request(created)
    commented = new_task(
        assignee_id=7,
        title="T",
        outcomes=OUTCOMES,
        answer_fields=spec,
        comment_outcomes=("refused",),
    )
    assert not commented.same_request(created)


def test_a_field_round_trips_through_its_stored_form() -> None:
    field = AnswerField("carrier", "string", False, ("dhl", "ups"), ("handed",), "Carrier")
    assert AnswerField.of(field.as_dict()) == field

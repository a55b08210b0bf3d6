"""Reading an org structure from YAML: every problem with its place, nothing else needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import ValidationFailed
from services.deals.domain.roles import DEFAULT_ROLES
from services.deals.org_import import DepartmentSpec, parse_org

ROLES = {r.code for r in DEFAULT_ROLES}
EXAMPLE = Path(__file__).parents[3] / "deploy" / "local" / "org.example.yaml"


def problems(text: str, **known: object) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_org(text, roles=ROLES, **known)  # type: ignore[arg-type]
    return [f"{p.field}: {p.message}" for p in caught.value.problems]


def test_the_shipped_example_is_valid() -> None:
    org = parse_org(EXAMPLE.read_text(), roles=ROLES)
    assert [d.name for d in org.departments] == ["Management", "Sales", "Accounting", "Legal"]
    assert org.departments[1] == DepartmentSpec(
        "departments[0].children[0]", "Sales", "Management", "head.sales@agency.example"
    )
    boris = next(u for u in org.users if u.email == "boris.manager@agency.example")
    assert boris.absent is True and boris.substitute == "anna.manager@agency.example"
    assert boris.roles == ("manager",) and boris.department == "Sales"


def test_fields_left_out_are_none_so_an_update_leaves_them_alone() -> None:
    org = parse_org("users: [{email: ' A@X.io ', roles: [manager]}]", roles=ROLES)
    (user,) = org.users
    assert user.email == "a@x.io"
    assert (user.name, user.department, user.password, user.absent) == (None, None, None, None)


def test_every_problem_is_reported_with_its_place() -> None:
    text = """
departments:
  - name: Sales
    head: nobody@x.io
    children:
      - name: ""
      - {name: Sales, colour: red}
users:
  - {email: a@x.io, roles: [manager, dirctor], department: Sails}
  - {email: not-an-email, roles: [], password: short}
  - {email: A@x.io, roles: [manager], absent: maybe, substitute: a@x.io}
  - {name: No Email, roles: [Manager]}
  - just a string
"""
    # in the order of the file, whichever check found them
    assert problems(text) == [
        "departments[0].children[0].name: must be 1 to 300 characters",
        "departments[0].children[1].colour: unknown key; use name, head, children",
        "departments[0].children[1].name: 'Sales' is also at departments[0]",
        "departments[0].head: no user nobody@x.io in the file or the database",
        "users[0].department: no department 'Sails'",
        "users[0].roles[1]: no role 'dirctor'",
        "users[1].email: must be an e-mail address",
        "users[1].password: must be 8 to 1024 characters",
        "users[1].roles: a user needs at least one role",
        "users[2].absent: must be true or false",
        "users[2].email: a@x.io is also at users[0]",
        "users[2].substitute: a user cannot substitute themself",
        "users[3].email: is required",
        "users[3].roles[0]: must match ^[a-z][a-z0-9_]{0,62}$",
        "users[4]: must be a mapping with email:, roles: and so on",
    ]


def test_heads_substitutes_and_departments_may_already_exist() -> None:
    text = """
departments: [{name: Sales, head: boss@x.io}]
users: [{email: a@x.io, roles: [manager], department: Legal, substitute: b@x.io}]
"""
    known = {"emails": ["Boss@x.io", "b@x.io"], "departments": ["Legal"]}
    org = parse_org(text, roles=ROLES, **known)  # type: ignore[arg-type]
    assert org.departments[0].head == "boss@x.io"
    assert problems(text) == [
        "departments[0].head: no user boss@x.io in the file or the database",
        "users[0].department: no department 'Legal'",
        "users[0].substitute: no user b@x.io",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("departments: [a\n", "line 2: not valid YAML"),
        ("- a list\n", "file: must be a mapping"),
        ("users: {email: a@x.io}\n", "users: must be a list"),
        ("people: []\n", "people: unknown key; use departments, users"),
        ("users: [{email: a@x.io}]\n", "users[0].roles: is required"),
        ("users: [{email: [a], roles: [ceo]}]\n", "users[0].email: must be a text"),
    ],
)
def test_a_malformed_file_is_refused_plainly(text: str, expected: str) -> None:
    (found,) = problems(text)
    assert found.startswith(expected)


def test_problems_come_in_file_order_with_numbers_compared_as_numbers() -> None:
    users = [f"{{email: a{i}@x.io, roles: [manager]}}" for i in range(11)]
    users[2] = "{email: a2@x.io, roles: [manager], substitute: ghost@x.io}"  # found last
    users[10] = "{email: a10@x.io, roles: [dirctor]}"  # found first
    assert problems(f"users: [{', '.join(users)}]") == [
        "users[2].substitute: no user ghost@x.io",
        "users[10].roles[0]: no role 'dirctor'",
    ]


def test_an_empty_file_is_an_empty_org() -> None:
    org = parse_org("", roles=ROLES)
    assert (org.departments, org.users) == ((), ())

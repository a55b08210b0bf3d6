"""The `dealflow` admin tool against a real, migrated database."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from deploy.local.bootstrap import ensure_database
from deploy.local.stack import Stack
from services.common.errors import Unauthenticated
from services.deals.cli import main
from services.deals.domain.org import User
from services.deals.org_apply import all_users
from services.deals.service import DealsService

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).parents[3] / "deploy" / "local" / "org.example.yaml"


@pytest.fixture(scope="module")
def dealflow(database_url: str):  # type: ignore[no-untyped-def]
    """Run `dealflow ARGS` in a thread (each command runs its own event loop)."""
    runner = CliRunner()

    async def run(*args: str, input: str | None = None) -> Result:
        return await asyncio.to_thread(
            runner.invoke, main, list(args), input=input, env={"DATABASE_URL": database_url}
        )

    return run


async def by_email(service: DealsService) -> dict[str, User]:
    return {u.email: u for u in await all_users(service.org)}


async def test_create_admin_prompts_for_a_password_and_is_idempotent(
    dealflow, service: DealsService
) -> None:
    first = await dealflow("create-admin", "--email", "Boss@Example.com", input="s3cret-pw\n" * 2)
    assert first.exit_code == 0, first.output
    assert "created admin boss@example.com" in first.stdout
    assert "s3cret-pw" not in first.output  # the prompt hides it
    user = await service.auth.authenticate(
        email="boss@example.com", password="s3cret-pw", client_address="test"
    )
    assert user.roles == ("admin",)

    again = await dealflow("create-admin", "--email", "boss@example.com", "--password", "other-pw")
    assert again.exit_code == 0, again.output
    assert "exists; nothing changed" in again.stdout
    admins = [u for u in await all_users(service.org) if u.email == "boss@example.com"]
    assert len(admins) == 1
    await service.auth.authenticate(
        email="boss@example.com", password="s3cret-pw", client_address="test"
    )


async def test_import_org_twice_creates_once_and_sets_heads_and_substitutes(
    dealflow, service: DealsService
) -> None:
    dry = await dealflow("import-org", str(EXAMPLE), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "11 would be created" in dry.stdout and "dry run" in dry.stdout
    assert "anna.manager@agency.example" not in await by_email(service)

    first = await dealflow("import-org", str(EXAMPLE))
    assert first.exit_code == 0, first.output
    assert "11 created, 0 updated" in first.stdout
    assert first.stdout.count("(shown once)") == 7  # the example gives no passwords

    second = await dealflow("import-org", str(EXAMPLE))
    assert second.exit_code == 0, second.output
    assert "0 created, 0 updated, 11 unchanged" in second.stdout

    people = await by_email(service)
    departments = {d.name: d for d in await service.org.list_departments()}
    assert sorted(departments) == ["Accounting", "Legal", "Management", "Sales"]
    sales, top = departments["Sales"], departments["Management"]
    assert sales.parent_id == top.id and top.parent_id is None
    assert sales.head_id == people["head.sales@agency.example"].id
    assert top.head_id == people["ceo@agency.example"].id
    anna, boris = people["anna.manager@agency.example"], people["boris.manager@agency.example"]
    assert (anna.department_id, anna.roles) == (sales.id, ("manager",))
    assert boris.absent and boris.substitute_id == anna.id
    found = await service.org.find_stand_in(user_id=boris.id)
    assert found.id == anna.id
    head = await service.org.find_head(user_id=anna.id)
    assert head.email == "head.sales@agency.example"


async def test_import_org_updates_what_the_file_changes(
    dealflow, service: DealsService, tmp_path: Path
) -> None:
    changed = tmp_path / "org.yaml"
    changed.write_text(
        EXAMPLE.read_text()
        .replace("absent: true", "absent: false")
        .replace("roles: [lawyer]", "roles: [lawyer, clerk]")
    )
    result = await dealflow("import-org", str(changed))
    assert result.exit_code == 0, result.output
    assert "user boris.manager@agency.example: updated (absent)" in result.stdout
    assert "user lawyer@agency.example: updated (roles)" in result.stdout
    assert "0 created, 2 updated, 9 unchanged" in result.stdout
    people = await by_email(service)
    assert not people["boris.manager@agency.example"].absent
    assert people["lawyer@agency.example"].roles == ("lawyer", "clerk")


async def test_a_bad_file_reports_every_problem_and_changes_nothing(
    dealflow, service: DealsService, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
departments:
  - name: Warehouse
    head: nobody@agency.example
users:
  - {email: new.one@agency.example, roles: [manager], department: Warehouse}
  - {email: anna.manager@agency.example, roles: [dirctor], department: Sales}
  - {email: x@agency.example, roles: [manager], substitute: ghost@agency.example}
"""
    )
    before = (await by_email(service), await service.org.list_departments())
    result = await dealflow("import-org", str(bad))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: departments[0].head: no user nobody@agency.example in the file or the database",
        "error: users[1].roles[0]: no role 'dirctor'",
        "error: users[2].substitute: no user ghost@agency.example",
    ]
    assert "Traceback" not in result.output
    assert (await by_email(service), await service.org.list_departments()) == before


async def test_create_user_in_a_department_by_name(dealflow, service: DealsService) -> None:
    result = await dealflow(
        "create-user",
        "--email",
        "designer@agency.example",
        "--role",
        "designer",
        "--role",
        "clerk",
        "--department",
        "Sales",
        "--password",
        "long enough",
    )
    assert result.exit_code == 0, result.output
    user = (await by_email(service))["designer@agency.example"]
    assert user.roles == ("designer", "clerk") and user.name == "designer"
    sales = next(d for d in await service.org.list_departments() if d.name == "Sales")
    assert user.department_id == sales.id

    again = await dealflow(
        "create-user", "--email", "x@y.io", "--role", "clerk", "--password", "short"
    )
    assert again.exit_code == 1
    assert "password: must be 8 to 1024 characters" in again.stderr
    unknown = await dealflow("create-user", "--email", "x@y.io", "--role", "dirctor")
    assert (unknown.exit_code, unknown.stderr) == (
        1,
        "error: no role 'dirctor'; `dealflow roles` lists them\n",
    )
    nowhere = await dealflow(
        "create-user", "--email", "x@y.io", "--role", "clerk", "--department", "Moon"
    )
    assert (nowhere.exit_code, nowhere.stderr) == (1, "error: no department 'Moon'\n")


async def test_issue_token_prints_a_secret_that_verifies(dealflow, service: DealsService) -> None:
    result = await dealflow(
        "issue-token",
        "--email",
        "accountant@agency.example",
        "--name",
        "1C sync",
        "--scope",
        "read",
        "--scope",
        "write",
        "--days",
        "30",
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()  # alone on stdout, for TOKEN=$(dealflow issue-token ...)
    assert secret.startswith("dfk_")
    assert "scopes read, write" in result.stderr
    token = await service.auth.verify_api_token(secret=secret)
    people = await by_email(service)
    assert token.user_id == people["accountant@agency.example"].id
    assert token.scopes == ("read", "write") and token.expires_at is not None
    with pytest.raises(Unauthenticated):
        await service.auth.verify_api_token(secret=secret + "x")

    nobody = await dealflow("issue-token", "--email", "ghost@agency.example", "--name", "x")
    assert (nobody.exit_code, nobody.stderr) == (
        1,
        "error: no user with e-mail ghost@agency.example\n",
    )


async def test_roles_and_users_are_listed(dealflow) -> None:
    roles = await dealflow("roles")
    assert roles.exit_code == 0, roles.output
    assert "head_of_sales" in roles.stdout and "department" in roles.stdout
    managers = await dealflow("users", "--role", "manager")
    assert managers.exit_code == 0, managers.output
    lines = managers.stdout.splitlines()
    assert len(lines) == 2 and all("Sales" in line for line in lines)


async def test_a_database_that_cannot_be_reached_is_said_plainly() -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["roles"],
        env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot use the database in DATABASE_URL")


async def test_a_database_without_migrations_is_said_plainly(infra: Stack) -> None:
    url = f"{infra.database_url.rsplit('/', 1)[0]}/t_{uuid.uuid4().hex[:12]}"
    ensure_database(url)
    result = await asyncio.to_thread(CliRunner().invoke, main, ["users"], env={"DATABASE_URL": url})
    assert result.exit_code == 1
    assert "run `python -m services.common.migrate` first" in result.stderr

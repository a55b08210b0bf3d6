"""`dealflow`: the deals service's admin tool (users, the org structure, roles, API tokens).

It works on the database in DATABASE_URL through the service layer, so it needs no running
service; its changes are audited with no actor, like the service's own start-up steps.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from services.blueprints.cli import apply_blueprint_command, export_blueprint_command
from services.common.csv_rows import batches, read_csv
from services.common.db import create_engine
from services.common.errors import DomainError, FieldProblem, ValidationFailed
from services.common.settings import CommonSettings
from services.deals.contacts_service import ContactsService
from services.deals.domain.imports import KINDS as IMPORT_KINDS
from services.deals.domain.imports import Row as ImportRow
from services.deals.domain.org import Department, User, normalize_email
from services.deals.domain.roles import DEFAULT_ROLES
from services.deals.imports_service import ImportService
from services.deals.leads_service import LeadsService
from services.deals.org_apply import all_users, import_org, user_by_email
from services.deals.org_import import parse_org
from services.deals.service import DealsService


def fail(message: str) -> NoReturn:
    """A user's mistake: said on stderr, exit code 1, no traceback."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def with_service(
    command: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., None]:
    """Run an async command body with a DealsService on DATABASE_URL, turning domain errors
    and an unreachable or unmigrated database into a message and exit code 1."""

    @wraps(command)
    def run(**kwargs: Any) -> None:
        try:
            asyncio.run(_with_engine(command, kwargs))
        except ValidationFailed as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem.field}: {problem.message}", err=True)
            sys.exit(1)
        except DomainError as exc:
            fail(exc.message)
        except OperationalError as exc:
            fail(f"cannot use the database in DATABASE_URL: {exc.orig}")
        except ProgrammingError as exc:
            if "does not exist" in str(exc.orig):
                fail(f"{exc.orig}; run `python -m services.common.migrate` first")
            raise
        except DBAPIError as exc:  # e.g. a database that went away half-way
            fail(f"database error: {exc.orig}")

    return run


async def _with_engine(command: Callable[..., Awaitable[None]], kwargs: dict[str, Any]) -> None:
    engine = create_engine(CommonSettings().database_url, pool_size=2)
    try:
        await command(DealsService(engine), **kwargs)
    finally:
        await engine.dispose()


def _new_password(password: str | None) -> str:
    if password is not None:
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _describe(user: User) -> str:
    return f"{user.email} (id {user.id}, roles: {', '.join(user.roles)})"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Dealflow administration on the database in DATABASE_URL."""


@main.command("create-admin")
@click.option("--email", required=True, help="The administrator's e-mail (their sign-in).")
@click.option("--password", help="Asked for (twice, hidden) when not given.")
@click.option("--name", default="Administrator", show_default=True)
@with_service
async def create_admin(
    service: DealsService, *, email: str, password: str | None, name: str
) -> None:
    """Create the first administrator (and the default roles of a new install)."""
    await service.access.ensure_default_roles()
    found = await user_by_email(service.org, email)
    if found is not None:
        if "admin" not in found.roles:
            fail(f"{_describe(found)} exists but is not an admin; nothing changed")
        click.echo(f"admin {_describe(found)} exists; nothing changed")
        return
    user = await service.org.create_user(
        actor_id=None,
        email=email,
        name=name,
        password=_new_password(password),
        roles=["admin"],
        department_id=None,
    )
    click.echo(f"created admin {_describe(user)}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", default="", help="Defaults to the part of the e-mail before @.")
@click.option("--role", "roles", multiple=True, required=True, help="A role code; repeatable.")
@click.option("--department", help="A department's name or id.")
@click.option("--password", help="Asked for (twice, hidden) when not given.")
@with_service
async def create_user(
    service: DealsService,
    *,
    email: str,
    name: str,
    roles: tuple[str, ...],
    department: str | None,
    password: str | None,
) -> None:
    """Create a user who can sign in."""
    department_id = None
    if department is not None:
        department_id = _department_id(await service.org.list_departments(), department)
    if await user_by_email(service.org, email) is not None:
        fail(f"a user with e-mail {normalize_email(email)} exists")
    known = {r.code for r in await service.access.list_roles()}
    if unknown := [r for r in roles if r not in known]:  # said before asking for a password
        fail(f"no role {', '.join(map(repr, unknown))}; `dealflow roles` lists them")
    user = await service.org.create_user(
        actor_id=None,
        email=email,
        name=name,
        password=_new_password(password),
        roles=list(roles),
        department_id=department_id,
    )
    click.echo(f"created user {_describe(user)}")


def _department_id(departments: list[Department], name_or_id: str) -> int:
    if name_or_id.isdigit() and any(d.id == int(name_or_id) for d in departments):
        return int(name_or_id)
    found = [d for d in departments if d.name == name_or_id.strip()]
    if not found:
        fail(f"no department {name_or_id!r}")
    if len(found) > 1:
        ids = ", ".join(str(d.id) for d in found)
        fail(f"{len(found)} departments are called {name_or_id!r} (ids {ids}); give the id")
    return found[0].id


@main.command("import-org")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
@with_service
async def import_org_command(service: DealsService, *, file: Path, dry_run: bool) -> None:
    """Create or update departments and users from a YAML file (see
    deploy/local/org.example.yaml); the whole file is checked before anything changes."""
    if not dry_run:
        await service.access.ensure_default_roles()
    roles = {r.code for r in await service.access.list_roles()}
    if not roles:  # a dry run on a new install: the roles it would get
        roles = {r.code for r in DEFAULT_ROLES}
    users = await all_users(service.org)
    departments = await service.org.list_departments()
    names = [d.name for d in departments]
    org = parse_org(
        file.read_text(encoding="utf-8"),
        roles=roles,
        emails=[u.email for u in users],
        # a user may name a department the file does not, when only one has that name
        departments=[n for n in names if names.count(n) == 1],
    )
    await import_org(service.org, org, users=users, departments=departments, dry_run=dry_run)


@main.command("issue-token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'accounting sync'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    help="Repeatable; read when none is given.",
)
@click.option("--days", default=0, show_default=True, help="Lifetime; 0 never expires.")
@with_service
async def issue_token(
    service: DealsService, *, email: str, name: str, scopes: tuple[str, ...], days: int
) -> None:
    """Issue an API token; the secret goes to stdout, once (only its hash is kept)."""
    user = await user_by_email(service.org, email)
    if user is None:
        fail(f"no user with e-mail {normalize_email(email)}")
    token, secret = await service.auth.create_api_token(
        actor_id=None, user_id=user.id, name=name, scopes=list(scopes), days=days
    )
    expires = token.expires_at.date().isoformat() if token.expires_at else "never"
    click.echo(
        f"API token {token.id} {name!r} for {user.email}: scopes {', '.join(token.scopes)}, "
        f"expires {expires}. Keep the secret now; it is not shown again:",
        err=True,
    )
    click.echo(secret)


@main.command("roles")
@with_service
async def roles(service: DealsService) -> None:
    """List the roles: what each one sees and may do."""
    for role in await service.access.list_roles():
        click.echo(f"{role.code:<24} {role.visibility.value:<10} {role.name}")
        permissions = ", ".join(sorted(role.permissions)) or "(no permissions)"
        click.echo(
            click.wrap_text(permissions, 100, initial_indent="    ", subsequent_indent="    ")
        )
        for rule in role.pipelines.values():
            click.echo(f"    pipeline {rule.pipeline_id}: {rule.visibility.value}")


@main.command("users")
@click.option("--role", default="", help="Only users with this role.")
@with_service
async def users(service: DealsService, *, role: str) -> None:
    """List users, oldest first."""
    departments = {d.id: d.name for d in await service.org.list_departments()}
    for user in sorted(await all_users(service.org, role=role), key=lambda u: u.id):
        where = departments.get(user.department_id, "-") if user.department_id else "-"
        state = "" if user.active else " (inactive)"
        state += " (absent)" if user.absent else ""
        click.echo(
            f"{user.id:>5} {user.email:<32} {user.name:<24} {','.join(user.roles):<24} "
            f"{where}{state}"
        )


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(IMPORT_KINDS), required=True)
@click.option("--map", "mapping", multiple=True, required=True, help="COLUMN=TARGET, repeated")
@click.option("--pipeline", "pipeline_id", type=int, help="the funnel (leads) or pipeline (deals)")
@click.option("--as", "as_email", help="the user the rows belong to unless a column says")
@click.option("--dry-run", is_flag=True, help="check every row, change nothing")
@with_service
async def import_command(
    service: DealsService,
    *,
    file: Path,
    kind: str,
    mapping: tuple[str, ...],
    pipeline_id: int | None,
    as_email: str | None,
    dry_run: bool,
) -> None:
    """Import a CSV file of contacts, companies, leads or deals (see README)."""
    columns = dict(m.split("=", 1) for m in mapping if "=" in m)
    if len(columns) != len(mapping):
        fail("--map takes COLUMN=TARGET")
    actor = None
    if as_email:
        found = await user_by_email(service.org, as_email)
        if found is None:
            fail(f"no user {as_email}")
        actor = found.id
    rows = read_csv(file.read_bytes())[1]
    imports = ImportService(LeadsService(ContactsService(service)))
    problems: list[FieldProblem] = []
    done = 0
    for batch in batches(rows, 1000):
        report = await imports.run(
            actor_id=actor,
            kind=kind,
            pipeline_id=pipeline_id,
            mapping=columns,
            rows=[ImportRow(r.number, r.values) for r in batch],
            dry_run=True,
        )
        problems += report.problems
        done += len(batch)
        click.echo(f"checked {done}/{len(rows)} rows", err=True)
    for problem in problems:
        click.echo(f"{problem.field}: {problem.message}", err=True)
    if problems:
        fail(f"{len(problems)} problems; nothing imported")
    if dry_run:
        click.echo(f"{len(rows)} rows are fine; nothing changed (dry run)")
        return
    created = updated = done = 0
    for batch in batches(rows, 1000):
        report = await imports.run(
            actor_id=actor,
            kind=kind,
            pipeline_id=pipeline_id,
            mapping=columns,
            rows=[ImportRow(r.number, r.values) for r in batch],
            dry_run=False,
        )
        created, updated, done = (
            created + report.created,
            updated + report.updated,
            done + len(batch),
        )
        click.echo(f"imported {done}/{len(rows)} rows", err=True)
    click.echo(f"{created} created, {updated} updated")


# Blueprints go through the running services' gRPC APIs (services/blueprints/cli.py).
main.add_command(apply_blueprint_command)
main.add_command(export_blueprint_command)

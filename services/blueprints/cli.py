"""`dealflow apply-blueprint FILE [--dry-run]` and `dealflow export-blueprint`: the command
line's client of the services' gRPC APIs (DEALFLOW_DEALS_ADDR, DEALFLOW_APPROVALS_ADDR), so
the running services apply the changes, with their own rules, events and audit (no actor,
like the command line's other changes)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from dealflow.approvals.v1 import approvals_pb2_grpc
from dealflow.deals.v1 import automation_pb2_grpc, deals_pb2_grpc

from services.blueprints.apply import apply_blueprint
from services.blueprints.current import Stubs, read
from services.blueprints.document import parse
from services.blueprints.export import export
from services.common.errors import DomainError, ValidationFailed
from services.common.grpc_client import ServiceUnavailable, call, channel
from services.common.settings import CommonSettings

T = TypeVar("T")


class _Bound:
    """A stub whose methods raise the services' domain errors (no acting user)."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    def __getattr__(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method = getattr(self._stub, name)

        async def invoke(request: Any) -> Any:
            return await call(method, request, timeout=30.0)

        return invoke


async def _with_stubs(body: Callable[[Stubs], Awaitable[T]]) -> T:
    settings = CommonSettings()
    deals, approvals = channel(settings.deals_addr), channel(settings.approvals_addr)
    try:
        return await body(
            Stubs(
                deals=_Bound(deals_pb2_grpc.DealsServiceStub(deals)),
                automation=_Bound(automation_pb2_grpc.AutomationServiceStub(deals)),
                approvals=_Bound(approvals_pb2_grpc.ApprovalsServiceStub(approvals)),
            )
        )
    finally:
        await deals.close()
        await approvals.close()


def _run(body: Callable[[Stubs], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_with_stubs(body))
    except ValidationFailed as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem.field}: {problem.message}", err=True)
        sys.exit(1)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except ServiceUnavailable as exc:
        click.echo(f"error: the services do not answer (are they running?): {exc}", err=True)
        sys.exit(1)


@click.command("apply-blueprint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
def apply_blueprint_command(file: Path, dry_run: bool) -> None:
    """Apply a company blueprint (blueprints/*.yaml) through the running services."""
    try:
        doc = parse(file.read_text(encoding="utf-8"))
    except ValidationFailed as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem.field}: {problem.message}", err=True)
        sys.exit(1)
    changes = _run(lambda stubs: apply_blueprint(doc, stubs, dry_run=dry_run))
    verb = "would " if dry_run else ""
    for change in changes:
        detail = f" ({change['detail']})" if change.get("detail") else ""
        click.echo(f"{verb}{change['action']} {change['kind']} {change['name']}{detail}")
    click.echo(f"{len(changes)} change(s){' (dry run)' if dry_run else ''}", err=True)


@click.command("export-blueprint")
def export_blueprint_command() -> None:
    """Print the current configuration as a blueprint (YAML) on stdout."""

    async def body(stubs: Stubs) -> str:
        return yaml.safe_dump(export(await read(stubs)), allow_unicode=True, sort_keys=False)

    click.echo(_run(body), nl=False)

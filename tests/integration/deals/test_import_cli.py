"""`dealflow import` on a real database: a dry run lists bad rows and changes nothing, an
import prints its progress, and importing the file again updates instead of duplicating."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from services.deals.cli import main
from services.deals.companies_service import CompaniesService
from services.deals.contacts_service import ContactsService
from services.deals.service import DealsService

pytestmark = pytest.mark.integration


async def run(database_url: str, *args: str) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, main, list(args), env={"DATABASE_URL": database_url}
    )


async def test_a_companies_file_imports_once_and_updates_after(
    database_url: str, service: DealsService, tmp_path: Path
) -> None:
    admin = await run(
        database_url, "create-admin", "--email", "imp@example.com", "--password", "pw-123456"
    )
    assert admin.exit_code == 0, admin.output
    csv = tmp_path / "companies.csv"
    csv.write_text("Id;Company;INN\nA1;Acme;7707083893\nA2;;7700000000\n", encoding="utf-8-sig")
    args = [
        "import",
        str(csv),
        "--kind",
        "companies",
        "--as",
        "imp@example.com",
        "--map",
        "Id=external_id",
        "--map",
        "Company=name",
        "--map",
        "INN=inn",
    ]

    refused = await run(database_url, *args, "--dry-run")
    assert refused.exit_code == 1
    assert "rows[3].Company: must be 1 to 200 characters" in refused.stderr
    assert "nothing imported" in refused.stderr

    csv.write_text("Id;Company;INN\nA1;Acme;7707083893\nA2;Beta;7700000000\n", encoding="utf-8")
    dry = await run(database_url, *args, "--dry-run")
    assert dry.exit_code == 0 and "2 rows are fine" in dry.stdout
    first = await run(database_url, *args)
    assert first.exit_code == 0, first.output
    assert "imported 2/2 rows" in first.stderr and "2 created, 0 updated" in first.stdout
    csv.write_text("Id;Company;INN\nA1;Acme Ltd;7707083893\nA2;Beta;7700000000\n", encoding="utf-8")
    again = await run(database_url, *args)
    assert "0 created, 2 updated" in again.stdout, again.output
    page = await CompaniesService(ContactsService(service)).list_companies(
        actor_id=None, q="", cursor="", limit=50
    )
    assert sorted(c.name for c in page.items) == ["Acme Ltd", "Beta"]

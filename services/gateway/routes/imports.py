"""CSV imports of contacts, companies, leads and deals: the file is read here, its rows go
to the deals service in batches, checked whole first (a dry run answers with every bad
row), then applied batch by batch; rows with an external id update on a second import."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from dealflow.deals.v1 import crm_pb2
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from services.common.csv_rows import batches, read_csv
from services.common.errors import FieldProblem, ValidationFailed
from services.gateway.deps import Crm, CurrentUser, Settings
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import RecordId
from services.gateway.schemas.crm import ImportOut

router = APIRouter(prefix=API_PREFIX + "/imports", tags=["leads"], responses=COMMON_RESPONSES)
BATCH = 1000


def _mapping(text: str) -> dict[str, str]:
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in found.items()
    ):
        raise ValidationFailed(
            FieldProblem("mapping", 'must be a JSON object {"<column>": "<target>"}')
        )
    return found


@router.post("", status_code=201, responses={**responses(403, 413), 200: {"model": ImportOut}})
async def import_csv(
    _: CurrentUser,
    crm: Crm,
    settings: Settings,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, with a header line")],
    kind: Annotated[Literal["contacts", "companies", "leads", "deals"], Form()],
    mapping: Annotated[
        str,
        Form(description='JSON: column → target, e.g. {"Name": "name", "INN": "fields.inn"}'),
    ],
    pipeline_id: Annotated[RecordId | None, Form()] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> Any:
    """A dry run answers 200 with every bad row (`problems`, `rows[<line>].<column>`) and
    stores nothing; a real run with a bad row answers 422 with them all and stores nothing;
    else 201 with what was created and updated."""
    columns = _mapping(mapping)
    data = await file.read(settings.max_import_bytes + 1)
    if len(data) > settings.max_import_bytes:
        raise Problem(413, f"the file is larger than {settings.max_import_bytes} bytes")
    rows = read_csv(data)[1]

    async def send(batch: list[Any], dry: bool) -> Any:
        return await crm.ImportRows(
            crm_pb2.ImportRowsRequest(
                kind=kind,
                pipeline_id=str(pipeline_id or ""),
                mapping=columns,
                rows=[crm_pb2.ImportRow(number=r.number, values=r.values) for r in batch],
                dry_run=dry,
            )
        )

    checked = [await send(batch, True) for batch in batches(rows, BATCH)] or [await send([], True)]
    problems = [FieldProblem(p.field, p.message) for reply in checked for p in reply.problems]
    if dry_run or problems:
        if not dry_run:
            raise ValidationFailed(problems, f"{len(problems)} problems; nothing imported")
        out = ImportOut.of(checked, dry_run=True)
        return JSONResponse(out.model_dump(), status_code=200)
    applied = [await send(batch, False) for batch in batches(rows, BATCH)]
    return ImportOut.of(applied, dry_run=False)

"""A deal's folder: every deal has one (made with it); sub-folders group its files, and an
upload (`POST /api/v1/files`, `folder_id`) lands in the root unless it names a sub-folder."""

from __future__ import annotations

from dealflow.deals.v1 import files_pb2
from fastapi import APIRouter

from services.gateway.deps import CurrentUser, Files
from services.gateway.problems import COMMON_RESPONSES, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import RecordId
from services.gateway.schemas.files import FolderIn, FolderOut

router = APIRouter(prefix=API_PREFIX + "/deals", tags=["files"], responses=COMMON_RESPONSES)


@router.get("/{deal_id}/folder", responses=responses(404))
async def get_folder(
    deal_id: int, _: CurrentUser, files: Files, folder_id: RecordId | None = None
) -> FolderOut:
    """The deal's root folder (or its sub-folder `folder_id`): sub-folders and files."""
    request = files_pb2.GetFolderRequest(deal_id=str(deal_id), folder_id=str(folder_id or ""))
    return FolderOut.of(await files.GetFolder(request))


@router.post("/{deal_id}/folder/folders", status_code=201, responses=responses(403, 404))
async def create_folder(deal_id: int, body: FolderIn, _: CurrentUser, files: Files) -> FolderOut:
    """A sub-folder of the deal's folder (of the root unless `parent_id` is given)."""
    request = files_pb2.CreateFolderRequest(
        deal_id=str(deal_id), parent_id=str(body.parent_id or ""), name=body.name
    )
    return FolderOut.of(await files.CreateFolder(request))

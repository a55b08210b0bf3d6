"""gRPC servicer of FilesService (a second service of the deals process)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from dealflow.deals.v1 import files_pb2 as pb
from dealflow.deals.v1 import files_pb2_grpc as pb_grpc

from services.common.grpc_server import actor_id
from services.common.ids import optional_id, parse_id
from services.common.pagination import clamp_limit
from services.common.protoconv import to_timestamp
from services.deals.contacts_service import ContactsService
from services.deals.files_service import Attachment, FilesService, StoredFile
from services.deals.folders_repository import Folder
from services.deals.folders_service import FoldersService
from services.deals.leads_service import LeadsService
from services.deals.service import DealsService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def file_pb(f: StoredFile) -> pb.File:
    return pb.File(
        id=str(f.id),
        deal_id=str(f.deal_id or ""),
        lead_id=str(f.lead_id or ""),
        name=f.name,
        content_type=f.content_type,
        size=f.size,
        sha256=f.sha256,
        storage_key=f.storage_key,
        uploaded_by=str(f.uploaded_by or ""),
        created_at=to_timestamp(f.created_at),
        attachments=[pb.Attachment(kind=a.kind, id=a.target_id) for a in f.attachments],
        folder_id=str(f.folder_id or ""),
    )


def folder_pb(f: Folder, content: list[StoredFile] | None = None) -> pb.Folder:
    return pb.Folder(
        id=str(f.id),
        deal_id=str(f.deal_id),
        parent_id=str(f.parent_id or ""),
        name=f.name,
        created_at=to_timestamp(f.created_at),
        folders=[folder_pb(sub) for sub in f.folders],
        files=[file_pb(x) for x in content or []],
    )


class FilesApi(pb_grpc.FilesServiceServicer):  # type: ignore[misc]
    def __init__(self, service: FilesService, folders: FoldersService) -> None:
        self._service = service
        self._folders = folders

    async def GetFolder(self, request: pb.GetFolderRequest, context: Ctx) -> pb.Folder:
        folder, content = await self._folders.get_folder(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            folder_id=optional_id(request.folder_id, "folder_id"),
        )
        return folder_pb(folder, content)

    async def CreateFolder(self, request: pb.CreateFolderRequest, context: Ctx) -> pb.Folder:
        folder = await self._folders.create_folder(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            parent_id=optional_id(request.parent_id, "parent_id"),
            name=request.name,
        )
        return folder_pb(folder)

    async def CreateFile(self, request: pb.CreateFileRequest, context: Ctx) -> pb.File:
        stored = await self._service.create_file(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            name=request.name,
            content_type=request.content_type,
            size=request.size,
            sha256=request.sha256,
            storage_key=request.storage_key,
            attachments=[Attachment(a.kind, a.id) for a in request.attachments],
            idempotency_key=request.idempotency_key,
            folder_id=optional_id(request.folder_id, "folder_id"),
        )
        return file_pb(stored)

    async def KnownStorageKeys(
        self, request: pb.StorageKeysRequest, context: Ctx
    ) -> pb.StorageKeysResponse:
        known = await self._service.known_storage_keys(
            actor_id=actor_id(context), keys=list(request.storage_keys)
        )
        return pb.StorageKeysResponse(known=known)

    async def GetFile(self, request: pb.GetFileRequest, context: Ctx) -> pb.File:
        stored = await self._service.get_file(
            actor_id=actor_id(context), file_id=parse_id(request.id, "id")
        )
        return file_pb(stored)

    async def ListFiles(self, request: pb.ListFilesRequest, context: Ctx) -> pb.ListFilesResponse:
        attached = None
        if request.HasField("attached_to"):
            attached = Attachment(request.attached_to.kind, request.attached_to.id)
        page = await self._service.list_files(
            actor_id=actor_id(context),
            deal_id=parse_id(request.deal_id, "deal_id"),
            attached_to=attached,
            cursor=request.cursor,
            limit=clamp_limit(request.limit),
        )
        return pb.ListFilesResponse(
            files=[file_pb(f) for f in page.items], next_cursor=page.next_cursor
        )

    async def AttachFile(self, request: pb.AttachFileRequest, context: Ctx) -> pb.File:
        stored = await self._service.attach_file(
            actor_id=actor_id(context),
            file_id=parse_id(request.id, "id"),
            attachment=Attachment(request.attachment.kind, request.attachment.id),
        )
        return file_pb(stored)


def register_files(server: grpc.aio.Server, deals: DealsService) -> str:
    """Add FilesService next to DealsService; its full name (for health and reflection)."""
    leads = LeadsService(ContactsService(deals))

    async def lead_check(actor: int | None, lead_id: int) -> object:
        return await leads.get_lead(actor_id=actor, lead_id=lead_id)

    service = FilesService(deals.engine, deals, lead_check)  # the deals service's own database
    folders = FoldersService(deals.engine, deals)
    pb_grpc.add_FilesServiceServicer_to_server(FilesApi(service, folders), server)
    return str(pb.DESCRIPTOR.services_by_name["FilesService"].full_name)

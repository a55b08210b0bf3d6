"""Files: upload (multipart, size and type limits, SHA-256), metadata, listing and download.
The bytes go to the blob store; the deals service's FilesService records the file and
decides who sees it (whoever sees its deal)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal
from urllib.parse import quote

from dealflow.deals.v1 import files_pb2
from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse

from services.common.blobs import CHUNK, TooLarge
from services.common.errors import DomainError, FieldProblem
from services.common.faults import fault_point
from services.gateway.deps import Blobs, CurrentUser, Files, Settings
from services.gateway.idempotency import CreationKey
from services.gateway.problems import COMMON_RESPONSES, Problem, responses
from services.gateway.routes import API_PREFIX
from services.gateway.schemas.common import Page, RecordId, cursor_or_none
from services.gateway.schemas.files import FileOut

router = APIRouter(prefix=API_PREFIX + "/files", tags=["files"], responses=COMMON_RESPONSES)

AttachKind = Literal["task", "decision", "contract"]


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@router.post("", status_code=201, responses=responses(403, 404, 413, 415))
async def upload_file(
    key: CreationKey,
    user: CurrentUser,
    files: Files,
    blobs: Blobs,
    settings: Settings,
    file: Annotated[UploadFile, File(description="the file")],
    deal_id: Annotated[RecordId, Form()],
    attach_kind: Annotated[AttachKind | None, Form(description="also attach it to")] = None,
    attach_id: Annotated[str, Form()] = "",
    folder_id: Annotated[RecordId | None, Form(description="a folder of the deal")] = None,
) -> FileOut:
    """Upload a file of a deal into its folder (the root unless `folder_id` names one of its
    sub-folders), optionally attached to a task, decision or contract."""
    content_type = (file.content_type or "application/octet-stream").split(";")[0].strip()
    if content_type not in settings.upload_content_types:
        raise Problem(
            415,
            f"files of type {content_type} are not accepted",
            errors=[FieldProblem("file", "accepted: " + ", ".join(settings.upload_content_types))],
        )
    if bool(attach_kind) != bool(attach_id):
        raise Problem(
            422, "attach_kind and attach_id go together", errors=[FieldProblem("attach_id", "")]
        )
    try:
        stored = await blobs.put(_chunks(file), max_bytes=settings.max_upload_bytes)
    except TooLarge as exc:
        raise Problem(413, str(exc)) from exc
    fault_point("gateway.after_storing_the_blob")
    request = files_pb2.CreateFileRequest(
        deal_id=str(deal_id),
        name=(file.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1],
        content_type=content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        idempotency_key=key,
        folder_id=str(folder_id or ""),
    )
    if attach_kind:
        request.attachments.append(files_pb2.Attachment(kind=attach_kind, id=attach_id))
    try:
        created = await files.CreateFile(request)
    except (DomainError, Exception):
        await blobs.delete(stored.key)  # nobody may see it: keep nothing
        raise
    if created.storage_key != stored.key:  # a retry: the first upload's blob is the file
        await blobs.delete(stored.key)
    return FileOut.of(created)


@router.get("", responses=responses(404))
async def list_files(
    _: CurrentUser,
    files: Files,
    deal_id: RecordId,
    attached_kind: Literal["deal", "task", "decision", "contract"] | None = None,
    attached_id: str = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[FileOut]:
    """A deal's files, or those attached to one of its tasks, decisions or contracts."""
    request = files_pb2.ListFilesRequest(deal_id=str(deal_id), cursor=cursor, limit=limit)
    if attached_kind:
        request.attached_to.CopyFrom(files_pb2.Attachment(kind=attached_kind, id=attached_id))
    reply = await files.ListFiles(request)
    return Page(
        items=[FileOut.of(f) for f in reply.files], next_cursor=cursor_or_none(reply.next_cursor)
    )


@router.get("/{file_id}", responses=responses(404))
async def get_file(file_id: int, _: CurrentUser, files: Files) -> FileOut:
    return FileOut.of(await files.GetFile(files_pb2.GetFileRequest(id=str(file_id))))


@router.get(
    "/{file_id}/content",
    responses={**responses(404), 200: {"content": {"application/octet-stream": {}}}},
    response_class=StreamingResponse,
)
async def download_file(
    file_id: int, _: CurrentUser, files: Files, blobs: Blobs
) -> StreamingResponse:
    """The file's bytes, if you see its deal."""
    meta = await files.GetFile(files_pb2.GetFileRequest(id=str(file_id)))
    return StreamingResponse(
        blobs.open(meta.storage_key),
        media_type=_served_type(meta.content_type),
        headers={
            "Content-Disposition": attachment(meta.name),
            # whatever the bytes are (HTML, SVG with a script): never run as a page
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Content-Length": str(meta.size),
            "Digest": f"sha-256={meta.sha256}",
            "X-Checksum-Sha256": meta.sha256,
        },
    )


# Types a browser would render as a page (and run its scripts) if it ever displayed one.
_ACTIVE = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}


def _served_type(declared: str) -> str:
    kind = declared.split(";")[0].strip().lower()
    active = kind in _ACTIVE or kind.endswith("+xml") and not kind.startswith("application/vnd")
    return "application/octet-stream" if active else declared


def attachment(name: str) -> str:
    """Content-Disposition for a download: an ASCII fallback with nothing that could end
    the quoted string or the header, and the real name RFC 5987-encoded."""
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;/' else "_" for c in name)
    return f"attachment; filename=\"{plain or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"

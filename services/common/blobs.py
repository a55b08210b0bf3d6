"""File storage: the bytes of uploaded files, by key. Local disk under `.data/files` by
default; an S3-compatible bucket when DEALFLOW_S3_BUCKET is set. Metadata (name, type,
size, checksum, what a file is attached to, who may see it) lives in the deals service's
FilesService; this module only moves bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CHUNK = 256 * 1024


class BlobSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    files_dir: str = Field(
        ".data/files", validation_alias=AliasChoices("DEALFLOW_FILES_DIR", "dealflow_files_dir")
    )
    s3_bucket: str = Field("", validation_alias=AliasChoices("DEALFLOW_S3_BUCKET"))
    s3_endpoint_url: str = Field("", validation_alias=AliasChoices("DEALFLOW_S3_ENDPOINT_URL"))
    s3_region: str = Field("", validation_alias=AliasChoices("DEALFLOW_S3_REGION"))
    s3_access_key_id: str = Field("", validation_alias=AliasChoices("DEALFLOW_S3_ACCESS_KEY_ID"))
    s3_secret_access_key: str = Field(
        "", validation_alias=AliasChoices("DEALFLOW_S3_SECRET_ACCESS_KEY")
    )
    s3_prefix: str = Field("files/", validation_alias=AliasChoices("DEALFLOW_S3_PREFIX"))


class TooLarge(Exception):
    """The upload grew past the limit; nothing was kept."""


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class BlobStore(Protocol):
    async def put(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob: ...

    def open(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def stale_keys(self, older_than: timedelta) -> list[str]:
        """Keys of the blobs written more than `older_than` ago."""
        ...


def new_key() -> str:
    """Random, never derived from the client's file name (no path tricks)."""
    name = uuid.uuid4().hex
    return f"{name[:2]}/{name}"


class LocalBlobStore:
    """Blobs as files under one directory; written to a temporary name, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"bad blob key {key!r}")
        return path

    async def put(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob:
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        digest, size = hashlib.sha256(), 0
        try:
            with partial.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"the file exceeds {max_bytes} bytes")
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(os.fsync, out.fileno())
            partial.rename(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredBlob(key, size, digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        with path.open("rb") as source:
            while chunk := await asyncio.to_thread(source.read, CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def stale_keys(self, older_than: timedelta) -> list[str]:
        def walk() -> list[str]:
            before = time.time() - older_than.total_seconds()
            return [
                path.relative_to(self.root).as_posix()
                for path in self.root.rglob("*")
                if path.is_file() and path.suffix != ".part" and path.stat().st_mtime < before
            ]

        return await asyncio.to_thread(walk) if self.root.exists() else []


class S3BlobStore:
    """Blobs in an S3-compatible bucket (boto3, the optional `s3` extra, in a thread);
    tested against moto's S3 server."""

    def __init__(self, settings: BlobSettings) -> None:
        import boto3  # type: ignore[import-untyped]  # the optional `s3` extra, no stubs

        self._bucket = settings.s3_bucket
        self._prefix = settings.s3_prefix
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
        )

    async def put(self, chunks: AsyncIterator[bytes], *, max_bytes: int) -> StoredBlob:
        # Buffered to a temporary file first: the checksum and size limit are known before
        # anything reaches the bucket, and boto3 uploads a file in parts by itself.
        import tempfile

        key = new_key()
        digest, size = hashlib.sha256(), 0
        with tempfile.TemporaryFile() as buffer:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the file exceeds {max_bytes} bytes")
                digest.update(chunk)
                buffer.write(chunk)
            buffer.seek(0)
            await asyncio.to_thread(
                self._client.upload_fileobj, buffer, self._bucket, self._prefix + key
            )
        return StoredBlob(key, size, digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes]:
        try:
            reply = await asyncio.to_thread(
                self._client.get_object, Bucket=self._bucket, Key=self._prefix + key
            )
        except self._client.exceptions.NoSuchKey:
            raise FileNotFoundError(key) from None  # as the local store says it
        body = reply["Body"]
        while chunk := await asyncio.to_thread(body.read, CHUNK):
            yield chunk

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self._client.delete_object, Bucket=self._bucket, Key=self._prefix + key
        )

    async def stale_keys(self, older_than: timedelta) -> list[str]:
        def walk() -> list[str]:
            before = datetime.now(UTC) - older_than
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix
            )
            return [
                item["Key"][len(self._prefix) :]
                for page in pages
                for item in page.get("Contents", [])
                if item["LastModified"] < before
            ]

        return await asyncio.to_thread(walk)


def blob_store(settings: BlobSettings | None = None) -> BlobStore:
    """The configured store: S3 when a bucket is set, else the local directory."""
    settings = settings or BlobSettings()
    if settings.s3_bucket:
        return S3BlobStore(settings)
    return LocalBlobStore(Path(settings.files_dir))

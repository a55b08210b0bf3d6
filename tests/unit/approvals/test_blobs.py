"""The local blob store: checksum and size, the upload limit, keys that cannot escape."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.common.blobs import BlobSettings, LocalBlobStore, TooLarge, blob_store


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_open_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    stored = await store.put(chunks(b"%PDF-", b"1.4 body"), max_bytes=100)
    assert stored.size == 13
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4 body").hexdigest()
    assert b"".join([c async for c in store.open(stored.key)]) == b"%PDF-1.4 body"
    await store.delete(stored.key)
    with pytest.raises(FileNotFoundError):
        [c async for c in store.open(stored.key)]


async def test_an_upload_past_the_limit_keeps_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(TooLarge):
        await store.put(chunks(b"x" * 60, b"x" * 60), max_bytes=100)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


async def test_a_key_cannot_leave_the_directory(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "files")
    with pytest.raises(ValueError):
        [c async for c in store.open("../secrets.json")]


def test_the_local_store_is_the_default(tmp_path: Path) -> None:
    store = blob_store(BlobSettings(files_dir=str(tmp_path)))
    assert isinstance(store, LocalBlobStore) and store.root == tmp_path.resolve()

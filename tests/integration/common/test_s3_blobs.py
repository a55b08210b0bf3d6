"""The S3 blob store against an S3-compatible server (moto's, over HTTP): the same
contract as the local store."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.common.blobs import BlobSettings, S3BlobStore, TooLarge, blob_store

pytestmark = pytest.mark.integration
BUCKET = "dealflow-files"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_settings() -> Iterator[BlobSettings]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    settings = BlobSettings(
        s3_bucket=BUCKET,
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=BUCKET)
    yield settings
    server.stop()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_put_open_delete_in_the_bucket(s3_settings: BlobSettings) -> None:
    store = blob_store(s3_settings)
    assert isinstance(store, S3BlobStore)
    stored = await store.put(chunks(b"%PDF-", b"1.4 signed scan"), max_bytes=1000)
    assert stored.size == 20
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4 signed scan").hexdigest()
    assert b"".join([c async for c in store.open(stored.key)]) == b"%PDF-1.4 signed scan"

    assert stored.key in await store.stale_keys(timedelta(0)), "listed for the orphan sweep"
    assert stored.key not in await store.stale_keys(timedelta(hours=1)), "too young to sweep"
    await store.delete(stored.key)
    with pytest.raises(FileNotFoundError):
        [c async for c in store.open(stored.key)]


async def test_an_upload_past_the_limit_reaches_no_bucket(s3_settings: BlobSettings) -> None:
    client = boto3.client(
        "s3",
        endpoint_url=s3_settings.s3_endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )

    def objects() -> int:
        listed = client.list_objects_v2(Bucket=BUCKET, Prefix=s3_settings.s3_prefix)
        return int(listed.get("KeyCount", 0))

    before = objects()
    with pytest.raises(TooLarge):
        await blob_store(s3_settings).put(chunks(b"x" * 600, b"x" * 600), max_bytes=1000)
    assert objects() == before

"""Blobs nobody references: an upload stores its bytes, then the deals service records the
file; a gateway that dies between the two leaves a blob without a record. No one can reach
it (downloads go through the record), so it only takes space: every few hours the gateway
deletes blobs older than a day that no file record uses (an upload in progress is younger).
Several replicas sweeping at once do no harm: a delete of a deleted blob is nothing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from dealflow.deals.v1 import files_pb2

from services.common.blobs import BlobStore
from services.common.grpc_client import call

log = logging.getLogger(__name__)
BATCH = 500


async def sweep_orphan_blobs(
    blobs: BlobStore, files: object, *, older_than: timedelta, timeout: float = 10.0
) -> int:
    """Delete the blobs older than `older_than` that no file record uses; how many."""
    keys = await blobs.stale_keys(older_than)
    removed = 0
    for i in range(0, len(keys), BATCH):
        batch = keys[i : i + BATCH]
        reply = await call(
            files.KnownStorageKeys,  # type: ignore[attr-defined]
            files_pb2.StorageKeysRequest(storage_keys=batch),
            timeout=timeout,
        )
        known = set(reply.known)
        for key in batch:
            if key not in known:
                await blobs.delete(key)
                removed += 1
    return removed


async def sweep_forever(
    blobs: BlobStore, files: object, *, every: timedelta, older_than: timedelta
) -> None:
    """`sweep_orphan_blobs` every `every`, for the gateway's lifetime."""
    while True:
        try:
            removed = await sweep_orphan_blobs(blobs, files, older_than=older_than)
            if removed:
                log.info("deleted %d blobs no file record uses", removed)
        except Exception:  # the deals service is away: the next round tries again
            log.warning("the blob sweep failed; next round in %s", every, exc_info=True)
        await asyncio.sleep(every.total_seconds())

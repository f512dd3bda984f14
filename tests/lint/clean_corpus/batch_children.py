"""Process a batch of records: one child run per chunk, all started before any is awaited."""

from __future__ import annotations

from pydantic import BaseModel

import continuum

CHUNK = 100


class Chunk(BaseModel):
    batch_id: str
    index: int
    record_ids: list[str]


class Batch(BaseModel):
    batch_id: str
    record_ids: list[str]


class ChunkResult(BaseModel):
    index: int
    processed: int
    failed: list[str]


@continuum.activity(max_attempts=3)
def process_record(record_id: str) -> bool:
    return not record_id.endswith("-bad")


@continuum.workflow
def process_chunk(chunk: Chunk) -> ChunkResult:
    failed: list[str] = []
    for record_id in chunk.record_ids:
        if not continuum.execute(process_record, record_id):
            failed.append(record_id)
    return ChunkResult(
        index=chunk.index, processed=len(chunk.record_ids) - len(failed), failed=failed
    )


@continuum.pure
def chunks_of(batch: Batch) -> list[Chunk]:
    ids = batch.record_ids
    return [
        Chunk(batch_id=batch.batch_id, index=n, record_ids=ids[start : start + CHUNK])
        for n, start in enumerate(range(0, len(ids), CHUNK))
    ]


@continuum.workflow
def process_batch(batch: Batch) -> dict[str, int]:
    refs = [
        continuum.start_child(process_chunk, chunk, id=f"{batch.batch_id}-{chunk.index}")
        for chunk in chunks_of(batch)
    ]
    results = [continuum.wait_child(ref) for ref in refs]
    failed = sum(len(r.failed) for r in results)
    return {"processed": sum(r.processed for r in results), "failed": failed}

"""Download a file, transform it and upload the result; clean the scratch copy always."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import minutes


class Job(BaseModel):
    source_url: str
    target_bucket: str


@continuum.activity(max_attempts=3, timeout=minutes(5))
def download(url: str) -> str:
    return "/tmp/scratch/input"


@continuum.activity(max_attempts=2, timeout=minutes(10))
def transform(path: str) -> str:
    return path + ".out"


@continuum.activity(max_attempts=3, timeout=minutes(5))
def upload(path: str, bucket: str) -> str:
    return f"{bucket}/{path.rsplit('/', 1)[-1]}"


@continuum.activity
def delete_scratch(path: str) -> None:
    return None


@continuum.workflow
def process_file(job: Job) -> str:
    local = continuum.execute(download, job.source_url)
    try:
        output = continuum.execute(transform, local)
        return continuum.execute(upload, output, job.target_bucket)
    finally:
        continuum.execute(delete_scratch, local)

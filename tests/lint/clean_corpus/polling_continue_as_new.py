"""Poll an external job until it finishes; continue as new every 50 polls."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import minutes, seconds

POLLS_PER_RUN = 50


class Poll(BaseModel):
    job_id: str
    interval_seconds: int = 30
    polls: int = 0


@continuum.activity(max_attempts=3, timeout=seconds(10))
def job_status(job_id: str) -> str:
    return "done"


@continuum.activity
def collect_output(job_id: str) -> str:
    return f"s3://results/{job_id}"


@continuum.workflow
def wait_for_job(poll: Poll) -> str:
    interval = min(seconds(poll.interval_seconds), minutes(10))
    for n in range(POLLS_PER_RUN):
        status = continuum.execute(job_status, poll.job_id)
        if status == "done":
            return continuum.execute(collect_output, poll.job_id)
        if status == "failed":
            raise RuntimeError(f"job {poll.job_id} failed after {poll.polls + n + 1} polls")
        continuum.sleep(interval)
    continuum.continue_as_new(
        Poll(
            job_id=poll.job_id,
            interval_seconds=poll.interval_seconds,
            polls=poll.polls + POLLS_PER_RUN,
        )
    )

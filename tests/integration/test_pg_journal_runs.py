"""The Postgres journal end to end: runs driven by RunDriver, reads, attributes, query."""

from __future__ import annotations

import time

from test_pg_journal_harness import CALLS, child_flow, greeting_flow, runtime

from continuum.engine import events as ev
from continuum.testing.replay import verify_run


def test_full_run_through_driver_completes_with_every_effect_journaled(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(greeting_flow, "ada", id="greet-1")
        rt.run_until_idle()
        assert rt.state(run_id) == "suspended"  # on the timer
        time.sleep(0.25)
        rt.run_until_idle()
        assert rt.state(run_id) == "suspended"  # on the signal
        rt.journal.send_signal(run_id, "decision", "approved")
        rt.run_until_idle()
        info = rt.journal.get_run(run_id)
        assert info.state.value == "completed", info.error
        assert info.result == {
            "first": "hello ada",
            "second": "ok ada",
            "decision": "approved",
            "child": "hello child ada",
        }
        history = rt.journal.history(run_id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        types = [e.type for e in history]
        assert types[0] == ev.RUN_STARTED and types[-1] == ev.RUN_COMPLETED
        assert ev.TIMER_FIRED in types and ev.CHILD_COMPLETED in types
        verify_run(greeting_flow, [e.to_json() for e in history])
        started = next(e for e in history if e.type == ev.CHILD_STARTED)
        kid = rt.journal.get_run(started.data["child_run_id"])
        assert kid.parent_run_id == run_id and kid.workflow == child_flow.name
        assert [c for c in CALLS if c[0] == "flaky"] == [("flaky", "ada"), ("flaky", "ada")]

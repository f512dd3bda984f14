"""Talking to a running workflow (SPEC §13): events it publishes, updates it answers.

- :func:`set_event` publishes a durable key/value on the run (last write wins), visible
  to ``Client.get_event`` / ``Client.events`` once the activation commits.
- :func:`wait_update` takes the next update request (``Client.update``) from the run's
  durable update mailbox; :func:`reply` / :func:`reject` answer it, at most once.

All three are journaled effects: replay returns what was journaled and never writes
an event or an answer twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from continuum import payloads
from continuum.engine import events as ev_types
from continuum.engine.context import RunContext, call_site, current_context
from continuum.engine.types import TimerSpec
from continuum.errors import PayloadError, SignalTimeout, UpdateAlreadyAnswered
from continuum.validation import check_name


@dataclass(frozen=True, slots=True)
class Update:
    """An accepted update request: answer it with ``reply`` or ``reject``."""

    id: int
    name: str
    payload: Any


def set_event(key: str, value: Any) -> None:
    """Publish ``value`` under ``key`` on this run (its continue_as_new chain).

    Clients read it with ``Client.get_event(run_id, key)`` / ``Client.events(run_id)``
    once this activation commits; a later ``set_event`` of the same key replaces it.
    """
    check_name(key, what="the event key", operation="continuum.set_event")
    ctx = current_context()
    site = call_site()
    encoded = payloads.encode(value, what=f"value of event {key!r}")
    ev, cmd = ctx.command("set_event", key, site)
    if ev is None:
        ev = ctx.record(ev_types.EVENT_SET, {"key": key, "value": encoded}, key=cmd, site=site)
        ctx.result.event_writes.append((key, encoded, ev.seq))
        ctx.emit("event.set", {"key": key})


def _update_of(ev: Any, name: str, type: Any) -> Update:
    payload = payloads.decode(ev.data.get("payload"), type, what=f"payload of update {name!r}")
    return Update(int(ev.data.get("update_id", 0)), name, payload)


def wait_update(name: str, timeout: timedelta | float | None = None, *, type: Any = None) -> Update:
    """Wait for the next update request called ``name`` and accept it.

    Requests that arrived before the wait are buffered, oldest first. Raises
    :class:`SignalTimeout` when ``timeout`` passes first. ``type=`` decodes the payload.
    Accepting is journaled: after a crash the run resumes holding the same request,
    and the caller of ``Client.update`` still gets exactly one answer.
    """
    check_name(name, what="the update name", operation="continuum.wait_update")
    ctx = current_context()
    site = call_site()
    ev, key = ctx.command("update", name, site)
    if ev is None:
        upd = ctx.take_update(name)
        if upd is not None:
            got = ctx.record(
                ev_types.UPDATE_RECEIVED,
                {"name": name, "payload": upd.payload, "update_id": upd.id},
                key=key,
                site=site,
            )
            ctx.result.accepted_updates.append((upd.id, got.seq))
            ctx.emit("update.accepted", {"update": name})
            return _update_of(got, name, type)
        data: dict[str, Any] = {"name": name, "timeout_at": None}
        if timeout is not None:
            delta = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
            data["timeout_at"] = (ctx.now + delta).isoformat()
        ev = ctx.record(ev_types.UPDATE_AWAITED, data, key=key, site=site)
        if data["timeout_at"] is not None:
            ctx.result.new_timers.append(TimerSpec(ev.seq, ctx.now + delta))
    if ev.type == ev_types.UPDATE_RECEIVED:
        return _update_of(ev, name, type)
    return _update_of(_await_update(ctx, ev, name), name, type)


def _await_update(ctx: RunContext, ev: Any, name: str) -> Any:
    res = ctx.journaled(ev.seq)
    while res is None:  # block() returns only on the sticky path, with newer input
        raw = ev.data.get("timeout_at")
        deadline = None if raw is None else _parse(raw)
        upd = ctx.take_update(name)
        if upd is not None:
            res = ctx.record(
                ev_types.UPDATE_RECEIVED,
                {"name": name, "payload": upd.payload, "update_id": upd.id},
                ref_seq=ev.seq,
            )
            ctx.result.accepted_updates.append((upd.id, res.seq))
            ctx.emit("update.accepted", {"update": name})
            if deadline is not None:
                ctx.result.fired_timers.append(ev.seq)
        elif deadline is not None and deadline <= ctx.now:
            res = ctx.record(ev_types.UPDATE_TIMED_OUT, {"name": name}, ref_seq=ev.seq)
            ctx.result.fired_timers.append(ev.seq)
        else:
            ctx.block(f"update {name!r}")
            res = ctx.journaled(ev.seq)
    if res.type == ev_types.UPDATE_TIMED_OUT:
        raise SignalTimeout(
            f"update {name!r} did not arrive before its timeout "
            f"({ev.data.get('timeout_at')}) in run {ctx.run_id}",
            signal=name,
        )
    return res


def _parse(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def _answer(upd: Update, kind: str, event_type: str, data: dict[str, Any], what: str) -> None:
    if not isinstance(upd, Update):
        raise PayloadError(
            f"continuum.{what} expects the Update that wait_update returned, "
            f"got {type(upd).__name__}"
        )
    ctx = current_context()
    site = call_site()
    ev, key = ctx.command(kind, upd.name, site)
    if ev is not None:
        return  # journaled: the answer was written when this line first ran
    if upd.id in ctx.answered_updates:
        raise UpdateAlreadyAnswered(
            f"continuum.{what}: update {upd.name!r} (id {upd.id}) of run {ctx.run_id} was "
            "already answered; each update gets one reply or one rejection"
        )
    ctx.answered_updates.add(upd.id)
    ctx.record(event_type, {"update_id": upd.id, **data}, key=key, site=site)
    status = "replied" if event_type == ev_types.UPDATE_REPLIED else "rejected"
    answer = data["value"] if status == "replied" else data["reason"]
    ctx.result.update_answers.append((upd.id, status, answer))
    ctx.emit(f"update.{status}", {"update": upd.name})


def reply(upd: Update, value: Any = None) -> None:
    """Answer ``upd``: its ``Client.update`` call returns ``value`` (JSON-encoded)."""
    encoded = payloads.encode(value, what=f"reply to update {getattr(upd, 'name', '?')!r}")
    _answer(upd, "reply", ev_types.UPDATE_REPLIED, {"value": encoded}, "reply")


def reject(upd: Update, reason: str) -> None:
    """Refuse ``upd``: its ``Client.update`` call raises ``UpdateRejected(reason)``."""
    text = payloads.encode(str(reason), what="rejection reason")
    _answer(upd, "reject", ev_types.UPDATE_REJECTED, {"reason": text}, "reject")

"""Journals: where runs, events, mailboxes, timers and activity tasks are stored."""

from continuum.journal.memory import MemoryJournal
from continuum.journal.protocol import Journal
from continuum.journal.records import Lease, NewRun, TaskFinish, TaskLease

__all__ = ["Journal", "Lease", "MemoryJournal", "NewRun", "TaskFinish", "TaskLease"]

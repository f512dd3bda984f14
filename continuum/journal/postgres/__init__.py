"""The PostgreSQL journal: durable runs, events, mailboxes, timers and activity tasks."""

from continuum.journal.postgres.journal import PostgresJournal

__all__ = ["PostgresJournal"]

"""The client: start, signal, cancel, await and query runs (SPEC §4)."""

from continuum.client.client import Client

__all__ = ["Client"]

"""The replay engine: storage-agnostic, shared by every journal."""

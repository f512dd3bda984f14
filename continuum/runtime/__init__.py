"""Worker runtime: dispatchers, leases, activity execution, timers, signals."""

"""Cancel a workflow and still run its cleanup (a port of Temporal's hello_cancellation)."""

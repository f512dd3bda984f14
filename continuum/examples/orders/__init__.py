"""The orders example: a payment saga with a fraud-review signal, a parent/child batch,
and a ``continue_as_new`` subscription loop."""

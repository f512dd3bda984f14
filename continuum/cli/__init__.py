"""The ``continuum`` command line."""

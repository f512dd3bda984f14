"""``python -m continuum.cli ...``: the ``continuum`` command (supervised workers use it)."""

from continuum.cli.main import main

main()

"""``python -m continuum_lint PATH...`` runs the same command as ``continuum lint``."""

from continuum_lint.cli import main

main()

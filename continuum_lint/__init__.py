"""continuum_lint: the static determinism scanner for Continuum workflows.

Use it as a flake8 plugin (codes ``CNT``), as ``continuum lint PATH...``, as a
pre-commit hook, or from Python::

    from continuum_lint import scan_source
    for finding in scan_source(text, "flows.py"):
        print(finding.format())
"""

from __future__ import annotations

from continuum_lint.config import Config, ConfigError, load_config
from continuum_lint.findings import Finding
from continuum_lint.scanner import Scanner, scan_source, suppressed

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "Scanner",
    "__version__",
    "load_config",
    "scan_source",
    "suppressed",
]

from __future__ import annotations

from collections.abc import Iterator

import pytest

from continuum.testing import WorkflowEnvironment
from tests.unit import flows


@pytest.fixture
def env() -> Iterator[WorkflowEnvironment]:
    flows.LEDGER.clear()
    flows.FAILURES.clear()
    yield WorkflowEnvironment(paranoid=True)

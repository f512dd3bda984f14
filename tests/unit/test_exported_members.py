from __future__ import annotations

import continuum


def test_all_lists_exactly_the_public_surface() -> None:
    public = {
        name
        for name, value in vars(continuum).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "continuum").startswith("continuum")
        and not (isinstance(value, type(continuum)) and name not in continuum.__all__)
    }
    public |= {"__version__"}
    assert set(continuum.__all__) == public


def test_every_error_class_is_importable_from_the_package() -> None:
    for name in (
        "ContinuumError",
        "ActivityFailed",
        "SignalTimeout",
        "ReplayDriftError",
        "SuspendLeakError",
        "RunNotFound",
        "RunTerminal",
        "RunFailed",
        "RunCancelled",
    ):
        cls = getattr(continuum, name)
        assert issubclass(cls, continuum.ContinuumError)
        assert cls.__module__ == "continuum.errors"
    assert issubclass(continuum.ResultTimeout, TimeoutError)

"""pytest plugin of soundstage: audio regression tests against golden renders.

Registered through the ``pytest11`` entry point ``soundstage``, so once soundstage is installed
pytest loads it in every run; it therefore imports only pytest at import time and defers
numpy, soundfile, pyloudnorm, matplotlib and the processor to the first check. It adds

* the fixture ``audio_regression`` (:class:`~soundstage.testing.regression.AudioRegression`);
* the options ``--audio-regen`` (rewrite goldens, fail) and ``--audio-regen-all`` (rewrite
  goldens, pass).

Without installing, load it with ``pytest -p soundstage.testing.plugin``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: Name of the ``pytest11`` entry point (setup.py) under which pytest registers this module.
ENTRY_POINT_NAME = "soundstage"


def pytest_addhooks(pluginmanager) -> None:
    """Block this module's other name so it is registered once, however it was requested.

    The module can arrive under the entry-point name (``soundstage``) and under its module
    name (``-p soundstage.testing.plugin``, ``pytest_plugins``); pluggy refuses a second
    registration of one module object. ``pytest_addhooks`` is a historic hook, called as soon
    as the module is registered, so blocking the other name here turns the later request into
    a no-op instead of an error.
    """
    for alias in (ENTRY_POINT_NAME, __name__):
        if not pluginmanager.has_plugin(alias) and not pluginmanager.is_blocked(alias):
            pluginmanager.set_blocked(alias)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("soundstage", "soundstage audio regression")
    group.addoption(
        "--audio-regen", action="store_true", default=False,
        help="rewrite the golden of every audio_regression check that runs, and fail those tests",
    )
    group.addoption(
        "--audio-regen-all", action="store_true", default=False,
        help="rewrite the golden of every audio_regression check that runs, and let them pass",
    )


@pytest.fixture
def audio_regression(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Compare renders with golden files beside the test module; see ``AudioRegression.check``.

    Goldens of ``tests/test_foo.py`` live in ``tests/test_foo/``; the default file stem is
    the test's name with its parametrisation id.
    """
    from .regression import AudioRegression

    module_path = Path(request.node.path)
    fallback = None

    def fallback_directory() -> Path:
        nonlocal fallback
        if fallback is None:
            fallback = tmp_path_factory.mktemp("audio-regression-artefacts")
        return fallback

    return AudioRegression(
        module_path.parent / module_path.stem,
        request.node.name,
        regen=request.config.getoption("audio_regen"),
        regen_all=request.config.getoption("audio_regen_all"),
        fallback_directory=fallback_directory,
    )

"""Every exported name imports on its own, so a broken export fails with a clear name."""

import importlib

import pytest

import soundstage


@pytest.mark.parametrize("name", soundstage.__all__)
def test_every_exported_name_resolves(name):
    assert getattr(soundstage, name) is not None


@pytest.mark.parametrize("module", ["soundstage.acoustics", "soundstage.design", "soundstage.monitor.metrics",
                                    "soundstage.presets"])
def test_subpackage_exports_resolve(module):
    mod = importlib.import_module(module)
    for name in getattr(mod, "__all__", []):
        assert getattr(mod, name) is not None, f"{module}.{name}"


def test_errors_are_value_or_type_errors():
    assert issubclass(soundstage.ParameterError, ValueError)
    assert issubclass(soundstage.PresetError, ValueError)
    assert issubclass(soundstage.AudioFormatError, TypeError)
    assert issubclass(soundstage.ParameterError, soundstage.SoundstageError)

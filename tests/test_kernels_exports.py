"""Every name soundstage._kernels exports imports on its own and is the module's object."""

import importlib

import pytest

import soundstage._kernels as kernels

MODULES = {
    "BiquadCascade": "biquad",
    "PartitionedConvolver": "convolver",
    "BlockConvolver": "block_convolver",
    "DelayLine": "delay",
    "lagrange_taps": "delay",
    "GainMatrix": "mix_matrix",
    "mix_into": "mix_matrix",
    "TapMatrix": "tap_matrix",
    "CentreExtractor": "upmix",
}


@pytest.mark.parametrize("name", kernels.__all__)
def test_export(name):
    module = importlib.import_module(f"soundstage._kernels.{MODULES[name]}")
    assert getattr(kernels, name) is getattr(module, name)


def test_all_is_complete():
    assert sorted(kernels.__all__) == sorted(MODULES)

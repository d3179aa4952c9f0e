"""State of processors and Boards: copies, pickling, get/set_state, the current preset, TOML export."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pedalboard
import pytest

from soundstage import Board, ParameterError, PresetError, presets
from soundstage.cli.main import main as cli_main
from soundstage.design.parameters import PARAMETER_RANGES
from soundstage.monitor import BinauralProcessor
from soundstage.processor import SpatialProcessor

SR = 48000.0


@pytest.fixture(scope="module")
def noise():
    return (np.random.default_rng(3).standard_normal((2, 6000)) * 0.1).astype(np.float32)


@pytest.mark.parametrize("make_copy", [copy.copy, copy.deepcopy, lambda p: pickle.loads(pickle.dumps(p))],
                         ids=["copy", "deepcopy", "pickle"])
def test_copies_are_independent_and_render_the_same(noise, make_copy):
    original = SpatialProcessor("laptop", width_deg=25.0)
    expected = original(noise, SR)
    twin = make_copy(original)
    assert np.array_equal(twin(noise, SR), expected)
    twin.width_deg = 60.0
    twin.wait_for_design()
    assert original.width_deg == 25.0
    assert np.array_equal(original(noise, SR), expected)
    assert not np.array_equal(twin(noise, SR), expected)


def test_interleaved_streams_of_a_copy_do_not_disturb_each_other(noise):
    a = SpatialProcessor("compact-speaker")
    expected = a(noise, SR)
    b = copy.copy(a)
    parts_a, parts_b = [], []
    for start in range(0, noise.shape[1], 1000):
        parts_a.append(a(noise[:, start:start + 1000], SR, reset=False))
        parts_b.append(b(noise[:, start:start + 1000], SR, reset=False))
    parts_a.append(a.flush())
    parts_b.append(b.flush())
    assert np.array_equal(np.concatenate(parts_a, axis=1), expected)
    assert np.array_equal(np.concatenate(parts_b, axis=1), expected)


def test_binaural_processor_and_board_pickle(noise):
    ears = BinauralProcessor("stereo-dipole", width_deg=20.0)
    assert np.array_equal(pickle.loads(pickle.dumps(ears))(noise, SR), ears(noise, SR))
    board = Board([SpatialProcessor("stereo-pair", centre_gain_db=-3.0)])
    assert np.array_equal(pickle.loads(pickle.dumps(board))(noise, SR), board(noise, SR))
    assert np.array_equal(copy.deepcopy(board)(noise, SR), board(noise, SR))
    with pytest.raises(TypeError, match=r"item 0 \(Gain\).*cannot pickle"):
        pickle.dumps(Board([pedalboard.Gain(3.0)]))


def test_set_state_restores_parameters_and_another_enclosure(noise):
    source = SpatialProcessor("soundbar", width_deg=40.0, bypass="beam", listener_offset_m=0.1)
    state = source.get_state()
    same = SpatialProcessor("soundbar")
    same(noise[:, :1000], SR)
    same.set_state(state)
    other = SpatialProcessor("headphones")
    other(noise[:, :1000], SR)
    other.set_state(state)
    expected = source(noise, SR)
    assert np.array_equal(same(noise, SR), expected)
    assert np.array_equal(other(noise, SR), expected)
    assert other.driver_names == source.driver_names
    with pytest.raises(TypeError, match="state must be a dict"):
        other.set_state("soundbar")


def test_preset_reflects_the_current_parameters():
    proc = SpatialProcessor("studio-speaker")
    original = proc.preset
    proc.width_deg = 45.0
    assert proc.preset.parameters.width_deg == 45.0
    assert proc.preset.content_hash != original.content_hash
    proc.width_deg = original.parameters.width_deg
    assert proc.preset.content_hash == original.content_hash


@pytest.mark.parametrize("name", presets.list())
def test_exported_toml_loads_back_to_bit_identical_audio(tmp_path, noise, name):
    out = tmp_path / f"{name}.toml"
    assert cli_main(["presets", "export", name, "--param", "width_deg=21", "-o", str(out)]) == 0
    exported = presets.load(out)
    proc = SpatialProcessor(name, width_deg=21.0)
    assert exported.content_hash == proc.preset.content_hash
    assert np.array_equal(SpatialProcessor(exported)(noise, SR), proc(noise, SR))


@pytest.mark.parametrize("name", presets.list())
def test_every_preset_parameter_can_be_set_back_through_its_property(name):
    proc = SpatialProcessor(name)
    before = proc.preset.content_hash
    for parameter in proc._PARAMETERS:
        value = getattr(proc, parameter)
        setattr(proc, parameter, value)  # no value of a preset is out of range
        assert getattr(proc, parameter) == value, parameter
    assert proc.preset.content_hash == before  # setting every value back changes nothing


def test_one_range_table_for_presets_and_properties():
    low, high = PARAMETER_RANGES["listener_distance_m"]
    proc = SpatialProcessor("studio-speaker")
    with pytest.raises(ParameterError, match=rf"\[{low:g}, {high:g}\]"):
        proc.listener_distance_m = high * 2
    data = presets.load("studio-speaker").to_dict()
    data["listener"]["distance_m"] = high * 2
    with pytest.raises(PresetError, match="listener.distance_m"):
        presets.load_dict(data)

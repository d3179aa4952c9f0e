"""What a careless host or script throws at a processor, a Board or the preset loader."""

from __future__ import annotations

import numpy as np
import pedalboard
import pytest

from soundstage import Board, ParameterError, PresetError, SoundstageError, presets
from soundstage.processor import SpatialProcessor

SR = 48000.0


@pytest.fixture(scope="module")
def noise():
    return (np.random.default_rng(11).standard_normal((2, 4000)) * 0.1).astype(np.float32)


# ---------------------------------------------------------------- samples
@pytest.mark.parametrize("value", [np.finfo(np.float32).max, 1e30, -1e20])
def test_huge_finite_samples_are_refused_with_their_index(value):
    x = np.zeros((2, 500), np.float32)
    x[1, 123] = value
    with pytest.raises(ParameterError, match=r"channel 1, sample 123"):
        SpatialProcessor("studio-speaker")(x, SR)


def test_the_largest_accepted_sample_gives_finite_output():
    from soundstage._convention import MAX_ABS_SAMPLE

    x = np.zeros((2, 9600), np.float32)
    x[:, 100] = MAX_ABS_SAMPLE
    x[0, 5000] = -MAX_ABS_SAMPLE
    for name in presets.list():
        assert np.isfinite(SpatialProcessor(name)(x, SR)).all()


# ---------------------------------------------------------------- empty arrays mid-stream
def test_empty_arrays_mid_stream_leave_the_stream_intact(noise):
    proc = SpatialProcessor("compact-speaker")
    expected = proc(noise, SR)
    parts = [proc(noise[:, :1500], SR, reset=False)]
    with pytest.raises(SoundstageError, match=r"shape \(0, 0\)"):
        proc(np.zeros((0, 0), np.float32), SR, reset=False)
    parts.append(proc(np.zeros((2, 0), np.float32), SR, reset=False))
    assert parts[-1].shape == (proc.num_output_channels, 0)
    parts.append(proc(noise[:, 1500:], SR, reset=False))
    parts.append(proc.flush())
    assert np.array_equal(np.concatenate(parts, axis=1), expected)


def test_an_empty_array_with_many_channels_says_so():
    with pytest.raises(ParameterError, match=r"shape \(0, 4800\), read as 4800 channel\(s\) of 0 samples"):
        SpatialProcessor("compact-speaker")(np.zeros((0, 4800), np.float32), SR, reset=False)


# ---------------------------------------------------------------- pedalboard's exception types
@pytest.mark.parametrize("call", [
    lambda p, x: p(x, "48000"),
    lambda p, x: p(x, SR, reset="False"),
    lambda p, x: p(x, SR, buffer_size=512.0),
    lambda p, x: p(x, None),
], ids=["sample_rate-str", "reset-str", "buffer_size-float", "sample_rate-None"])
def test_wrong_types_raise_type_error(noise, call):
    with pytest.raises(TypeError):
        call(SpatialProcessor("stereo-pair"), noise)
    with pytest.raises(TypeError):
        call(Board([pedalboard.Gain(1.0)]), noise)


def test_board_sample_rate_as_text_raises_type_error_like_pedalboard(noise):
    # pedalboard's own test suite: Pedalboard().process(x, "forty four one hundred") -> TypeError
    with pytest.raises(TypeError):
        pedalboard.Pedalboard([])(noise, "forty four one hundred")
    with pytest.raises(TypeError):
        Board().process(noise, "forty four one hundred")


def test_same_instance_twice_raises_runtime_error_like_pedalboard(noise):
    gain = pedalboard.Gain(2.0)
    with pytest.raises(RuntimeError):
        pedalboard.Pedalboard([gain, gain])(noise, SR)
    with pytest.raises(RuntimeError, match="same instance"):
        Board([gain, gain])
    proc = SpatialProcessor("stereo-pair")
    with pytest.raises(RuntimeError, match="same instance"):
        Board([proc, proc])


@pytest.mark.parametrize("value", [{1, "a"}, [3], 7])
def test_bypass_with_non_names_gives_a_clear_type_error(value):
    with pytest.raises(TypeError, match="bypass must be a stage name"):
        SpatialProcessor("studio-speaker").bypass = value


# ---------------------------------------------------------------- native Boards = pedalboard
@pytest.mark.parametrize("buffer_size", [1, 7, 64, 8192])
def test_native_board_is_bit_identical_to_pedalboard_at_every_buffer_size(buffer_size):
    rng = np.random.default_rng(5)
    ir = (rng.standard_normal(24000) * np.exp(-np.arange(24000) / 2400) * 0.05).astype(np.float32)
    x = (rng.standard_normal((2, 2000)) * 0.1).astype(np.float32)

    def plugins():
        return [pedalboard.Convolution(ir, sample_rate=SR), pedalboard.LowpassFilter(4000.0), pedalboard.Gain(-3.0)]

    expected = pedalboard.Pedalboard(plugins())(x, SR, buffer_size=buffer_size)
    board = Board(plugins())
    assert np.array_equal(board(x, SR, buffer_size=buffer_size), expected)
    assert np.array_equal(board(x, SR, buffer_size=buffer_size), expected)  # and again


# ---------------------------------------------------------------- presets: found at load time
def _preset(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


_DRIVER = '[[enclosure.drivers]]\nname = "{name}"\nposition_m = {pos}\naxis = [-1, 0, 0]\nradius_m = {r}\n' \
          'directivity = "{kind}"\nplain_feed = {feed}\n'


def _enclosure(drivers, body='body = "sphere"\nbody_radius_m = 0.1\n'):
    text = 'schema_version = 1\n[listener]\ndistance_m = 2.0\n[design]\nbeam = { enabled = false }\n[enclosure]\n' + body
    for d in drivers:
        text += _DRIVER.format(**{"kind": "piston", "r": 0.02, "feed": "[0.5, 0.5]", **d})
    return text


@pytest.mark.parametrize("drivers, key, words", [
    ([{"name": "a", "pos": "[-0.0866, 0.05, 0]", "kind": "cap", "r": 0.2}, {"name": "b", "pos": "[-0.0866, -0.05, 0]"}],
     r"enclosure\.drivers\[0\]\.radius_m", "larger than the body"),
    ([{"name": "a", "pos": "[-0.02, 0.0, 0]"}, {"name": "b", "pos": "[-0.1, 0.0, 0.0]"}],
     r"enclosure\.drivers\[0\]\.position_m", "inside the sphere body"),
    ([{"name": "a", "pos": "[-0.1, 0, 0]"}, {"name": "b", "pos": "[-0.1, 0, 0]"}],
     r"enclosure\.drivers\[1\]\.position_m", "coincident"),
    ([{"name": "a", "pos": "[-0.1, 0.01, 0]", "feed": "[0, 0]"}, {"name": "b", "pos": "[-0.1, -0.01, 0]", "feed": "[0, 0]"}],
     r"enclosure\.drivers\[\*\]\.plain_feed", "no driver plays the left input"),
])
def test_nonsense_geometry_is_refused_at_load_time(tmp_path, drivers, key, words):
    path = _preset(tmp_path, _enclosure(drivers))
    with pytest.raises(PresetError, match=rf"p\.toml: {key}: .*{words}"):
        presets.load(path)


def test_headphones_extended_as_loudspeakers_is_refused_at_load_time(tmp_path):
    path = _preset(tmp_path, 'schema_version = 1\nextends = "headphones"\nkind = "loudspeakers"\n')
    with pytest.raises(PresetError, match=r"p\.toml: listener\.distance_m: .*loudspeakers"):
        presets.load(path)


def test_unreadable_sofa_head_is_refused_at_load_time(tmp_path):
    (tmp_path / "broken.sofa").write_bytes(b"not an HDF5 file")
    path = _preset(tmp_path, 'schema_version = 1\nextends = "studio-speaker"\n[listener]\ndistance_m = 2.5\n'
                             'head = "broken.sofa"\n')
    with pytest.raises(PresetError, match=r"p\.toml: listener\.head: cannot read the SOFA head"):
        presets.load(path)


def test_non_utf8_file_names_the_file_and_byte(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('schema_version = 1\ndescription = "Lautsprecher für Küche"\n'.encode("latin-1"))
    with pytest.raises(PresetError, match=r"latin1\.toml: not UTF-8 text \(byte \d+"):
        presets.load(path)


def test_a_very_deep_extends_chain_is_reported_not_recursed(tmp_path):
    _preset(tmp_path, 'schema_version = 1\nextends = "studio-speaker"\n', "c0.toml")
    for i in range(1, 1000):
        _preset(tmp_path, f'schema_version = 1\nextends = "c{i - 1}.toml"\n', f"c{i}.toml")
    with pytest.raises(PresetError, match=r"c\d+\.toml: extends: the chain of extends is deeper than 32 files \(from .*c999\.toml\)"):
        presets.load(tmp_path / "c999.toml")


def test_one_spike_does_not_bias_the_upmix_beyond_a_few_time_constants():
    # A finite spike (accepted: below MAX_ABS_SAMPLE) in a panned tone plus noise: five upmix
    # time constants (5 x 40 ms) later the output is back to the spike-free render.
    rng = np.random.default_rng(1)
    n = int(1.0 * SR)
    t = np.arange(n) / SR
    x = np.stack([0.3 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(n),
                  0.2 * np.sin(2 * np.pi * 300 * t + 0.5) + 0.05 * rng.standard_normal(n)]).astype(np.float32)
    spiked = x.copy()
    at = int(0.4 * SR)
    spiked[0, at] = 1e4
    clean, hit = SpatialProcessor("studio-speaker")(x, SR), SpatialProcessor("studio-speaker")(spiked, SR)
    window = slice(at + int(0.2 * SR), at + int(0.3 * SR))
    error_db = 20 * np.log10(np.abs(hit[:, window] - clean[:, window]).max() / np.abs(clean[:, window]).max())
    assert error_db < -40.0

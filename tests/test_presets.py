"""Enclosure presets: the built-in files, the schema, ``extends`` and every validation branch."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from soundstage import PresetError, presets

BUILTINS = ("compact-speaker", "headphones", "laptop", "soundbar", "stereo-dipole", "stereo-pair",
            "studio-speaker")


def listener_frame(preset) -> np.ndarray:
    """Driver positions seen from the listener's head centre, shape (n_drivers, 3)."""
    return preset.listener.enclosure_position_m + preset.enclosure.positions_m()


def azimuth_deg(xyz) -> np.ndarray:
    xyz = np.asarray(xyz)
    return np.rad2deg(np.arctan2(xyz[..., 1], xyz[..., 0]))


# ---------------------------------------------------------------------------------------------
# the built-in presets
# ---------------------------------------------------------------------------------------------

def test_list_names_the_seven_builtins_from_wherever_the_package_lives():
    assert presets.list() == sorted(BUILTINS)
    assert presets.list is presets.list_presets
    assert "list" in presets.__all__


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_to_dict(name):
    preset = presets.load(name)
    assert preset.name == name and preset.schema_version == 1
    assert Path(preset.source).name == f"{name}.toml"
    assert preset.parameters.head_model == preset.head == "sphere"
    again = presets.load_dict(preset.to_dict())
    assert again.content_hash == preset.content_hash
    assert again.parameters == preset.parameters and again.listener == preset.listener
    np.testing.assert_allclose(again.enclosure.positions_m(), preset.enclosure.positions_m(), atol=0)
    np.testing.assert_allclose(again.enclosure.axes(), preset.enclosure.axes(), rtol=1e-15, atol=1e-15)
    assert len(preset.content_hash) == 64 and int(preset.content_hash, 16) >= 0


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_bands_tile_the_spectrum_per_direction(name):
    """Every driver lies on a chain of contiguous bands from 0 Hz to inf (shared crossovers)."""
    bands = [d.band_hz for d in presets.load(name).enclosure.drivers]
    from_zero, to_inf = {0.0}, {math.inf}
    for _ in bands:
        from_zero |= {high for low, high in bands if low in from_zero}
        to_inf |= {low for low, high in bands if high in to_inf}
    for low, high in bands:
        assert low in from_zero and high in to_inf, (name, (low, high), bands)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_is_mirror_symmetric(name):
    """Each driver has a mirror twin across y = 0 with its axis mirrored and its feeds swapped."""
    enclosure = presets.load(name).enclosure
    mirror = np.array([1.0, -1.0, 1.0])
    for d in enclosure.drivers:
        twins = [e for e in enclosure.drivers
                 if np.allclose(e.position_m, np.multiply(d.position_m, mirror), atol=1e-12)
                 and np.allclose(e.axis, np.multiply(d.axis, mirror), atol=1e-12)
                 and e.plain_feed == d.plain_feed[::-1] and e.band_hz == d.band_hz and e.radius_m == d.radius_m]
        assert len(twins) == 1, (name, d.name)
    mix = enclosure.plain_mix()
    assert mix[:, 0].sum() == mix[:, 1].sum()


def test_studio_speaker_geometry():
    preset = presets.load("studio-speaker")
    enc = preset.enclosure
    assert (enc.body, enc.body_radius_m, enc.body_height_m) == ("cylinder", 0.0875, 0.206)
    drivers = {d.name: d for d in enc.drivers}
    assert drivers["mid_left"].axis == (0.0, 1.0, 0.0) and drivers["mid_left"].position_m[1] == 0.0875
    assert drivers["mid_right"].axis == (0.0, -1.0, 0.0) and drivers["mid_right"].position_m[1] == -0.0875
    assert drivers["mid_top"].axis == (0.0, 0.0, 1.0)
    assert drivers["tweeter"].axis == (-1.0, 0.0, 0.0) and drivers["tweeter"].position_m[0] == -0.0875
    assert drivers["woofer"].axis == (0.0, 0.0, -1.0) and drivers["woofer"].radius_m == 0.066
    # plain feeds tile: left = woofer (L + R, bass management) + side mid + tweeter (L + R)
    assert drivers["mid_left"].plain_feed == (1.0, 0.0) and drivers["tweeter"].plain_feed == (1.0, 1.0)
    assert drivers["woofer"].plain_feed == (1.0, 1.0) and drivers["mid_top"].plain_feed == (0.0, 0.0)
    # and the extracted centre (outside the beam band) plays as L + R: no top mid
    assert enc.centre_mix().tolist() == [1.0, 1.0, 0.0, 2.0, 2.0]
    # every driver sits on the cylinder's surface, its axis along the surface normal
    for d in enc.drivers:
        radial, z = math.hypot(*d.position_m[:2]), d.position_m[2]
        on_wall = math.isclose(radial, 0.0875) and abs(z) <= 0.103
        on_cap = math.isclose(abs(z), 0.103) and radial <= 0.0875
        assert on_wall or on_cap, d.name
        normal = np.array([*d.position_m[:2], 0.0]) / radial if on_wall else np.array([0, 0, np.sign(z)])
        np.testing.assert_allclose(d.axis, normal, atol=1e-15)
    assert preset.listener.distance_m == 2.5
    p = preset.parameters
    assert (p.max_gain_db, p.null_region_m, p.beam, p.beam_band_hz) == (22.0, 0.05, True, (600.0, 5000.0))
    assert p.target.at(100.0) == 0.0 and 8.0 <= p.target.at(300.0) <= 12.0
    assert np.all((p.target.at([1000, 2000, 4000, 6000]) >= 20) & (p.target.at([1000, 2000, 4000, 6000]) <= 30))
    assert p.target.at(16000.0) < p.target.at(6000.0)


def test_stereo_pair_drivers_sit_at_plus_minus_30_degrees_2_m_away_aimed_at_the_listener():
    preset = presets.load("stereo-pair")
    xyz = listener_frame(preset)
    np.testing.assert_allclose(azimuth_deg(xyz), [30.0, -30.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), [2.0, 2.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(preset.enclosure.axes(), -xyz / 2.0, atol=1e-12)
    assert preset.enclosure.plain_mix().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert {d.directivity for d in preset.enclosure.drivers} == {"monopole"}
    assert preset.enclosure.body == "none" and preset.parameters.beam is False
    assert set(preset.parameters.target.cancellation_db) == {0.0}


def test_stereo_dipole_spans_10_degrees():
    preset = presets.load("stereo-dipole")
    az = azimuth_deg(listener_frame(preset))
    assert az[0] - az[1] == pytest.approx(10.0, abs=1e-12) and az[0] == pytest.approx(-az[1], abs=1e-12)
    assert preset.listener.distance_m == 2.0 and preset.parameters.beam is False
    assert max(preset.parameters.target.cancellation_db) == 20.0 and preset.parameters.max_gain_db == 20.0


def test_compact_speaker_laptop_and_soundbar_geometry():
    compact = presets.load("compact-speaker")
    spacing = np.ptp(compact.enclosure.positions_m()[:, 1])
    assert 0.08 <= spacing <= 0.10 and compact.listener.distance_m == 1.5
    np.testing.assert_allclose(np.linalg.norm(compact.enclosure.positions_m(), axis=1), 0.05, atol=1e-15)
    assert compact.parameters.beam is False and "beam is disabled" in compact.description
    laptop = presets.load("laptop")
    assert np.ptp(laptop.enclosure.positions_m()[:, 1]) == pytest.approx(0.3)
    assert laptop.listener.distance_m == 0.5 and max(laptop.parameters.target.cancellation_db) == 12.0
    assert np.all(laptop.enclosure.axes()[:, 0] < 0) and np.all(laptop.enclosure.axes()[:, 2] > 0)
    bar = presets.load("soundbar")
    assert np.ptp(bar.enclosure.positions_m()[:, 1]) == pytest.approx(0.9) and bar.listener.distance_m == 3.0
    sides = {d.name: d.axis for d in bar.enclosure.drivers if d.name.startswith("side")}
    assert sides == {"side_left": (0.0, 1.0, 0.0), "side_right": (0.0, -1.0, 0.0)}


def test_headphones_put_one_driver_at_each_ear_outside_the_head():
    preset = presets.load("headphones")
    assert preset.kind == "headphones" and preset.enclosure.num_drivers == 2
    xyz = listener_frame(preset)
    np.testing.assert_allclose(xyz, [[0.0, 0.095, 0.0], [0.0, -0.095, 0.0]], atol=1e-15)
    assert np.all(np.linalg.norm(xyz, axis=1) > preset.listener.head_radius_m)
    assert preset.enclosure.axes()[:, 1].tolist() == [-1.0, 1.0]  # each fires into its ear
    assert preset.enclosure.plain_mix().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert set(preset.parameters.target.cancellation_db) == {0.0} and preset.parameters.beam is False


def test_load_by_path_equals_load_by_name(tmp_path):
    builtin = presets.load("soundbar")
    assert presets.load(Path(builtin.source)).content_hash == builtin.content_hash
    assert presets.load(builtin.source).content_hash == builtin.content_hash


def test_hash_ignores_spelling_and_follows_content():
    data = presets.load("studio-speaker").to_dict()
    reference = presets.load_dict(data).content_hash
    for driver in data["enclosure"]["drivers"]:  # defaults omitted, axes unnormalised
        if driver["directivity"] == "piston":
            del driver["directivity"]
        driver["axis"] = [3.0 * a for a in driver["axis"]]
    del data["listener"]["yaw_deg"], data["design"]["upmix"]
    assert presets.load_dict(data).content_hash == reference
    data["listener"]["distance_m"] = 2.6
    assert presets.load_dict(data).content_hash != reference


# ---------------------------------------------------------------------------------------------
# extends
# ---------------------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_overrides_one_key_and_inherits_the_rest(tmp_path):
    base = presets.load("studio-speaker")
    user = presets.load(write(tmp_path / "far.toml", 'schema_version = 1\nextends = "studio-speaker"\n'
                                                      "[listener]\ndistance_m = 3.5\n"))
    assert user.name == "far"  # names are not inherited
    assert user.listener.distance_m == 3.5 and user.listener.head_radius_m == base.listener.head_radius_m
    assert user.enclosure.drivers == base.enclosure.drivers and user.parameters == base.parameters
    assert user.description == base.description and user.content_hash != base.content_hash
    # a table merges key by key: only the beam's switch changes
    quiet = presets.load(write(tmp_path / "sub" / "quiet.toml", 'schema_version = 1\nextends = "../far.toml"\n'
                                                                "[design.beam]\nenabled = false\n"))
    assert quiet.parameters.beam is False and quiet.parameters.beam_band_hz == (600.0, 5000.0)
    assert quiet.listener.distance_m == 3.5
    # the same effective preset under the same name hashes alike
    same = presets.load(write(tmp_path / "same.toml", 'schema_version = 1\nname = "studio-speaker"\n'
                                                       'extends = "studio-speaker"\n'))
    assert same.content_hash == base.content_hash


def test_extends_replaces_arrays_whole(tmp_path):
    text = ('schema_version = 1\nextends = "studio-speaker"\n[design.beam]\nenabled = false\n'
            '[[enclosure.drivers]]\nname = "only"\nposition_m = [-0.0875, 0, 0]\naxis = [-1, 0, 0]\n'
            'radius_m = 0.02\n')
    user = presets.load(write(tmp_path / "one.toml", text))
    assert user.enclosure.driver_names == ("only",) and user.enclosure.body == "cylinder"


def test_extends_cycle_is_reported(tmp_path):
    loop = write(tmp_path / "loop.toml", 'schema_version = 1\nextends = "loop.toml"\n')
    with pytest.raises(PresetError, match=r"loop\.toml: extends: extends cycle"):
        presets.load(loop)


# ---------------------------------------------------------------------------------------------
# bad presets: every message names the file and the key path
# ---------------------------------------------------------------------------------------------

MINIMAL = """\
schema_version = 1
name = "mini"
[enclosure]
body = "none"
[[enclosure.drivers]]
name = "a"
position_m = [0.0, 0.1, 0.0]
axis = [-1, 0, 0]
radius_m = 0.02
[[enclosure.drivers]]
name = "b"
position_m = [0.0, -0.1, 0.0]
axis = [-1, 0, 0]
radius_m = 0.02
[[enclosure.drivers]]
name = "c"
position_m = [0.0, 0.0, 0.0]
axis = [-1, 0, 0]
radius_m = 0.03
[listener]
distance_m = 2.0
[design]
max_gain_db = 12
[design.target]
frequencies_hz = [100, 1000]
cancellation_db = [0, 10]
[design.beam]
enabled = false
band_hz = [700, 5000]
"""

BAD = [  # (id, [(old, new), ...], extra files, key path, what the message says)
    ("unknown key", [("max_gain_db", "max_gian_db")], {}, "design.max_gian_db", "did you mean 'max_gain_db'"),
    ("unknown driver key", [("radius_m = 0.03", "radius = 0.03")], {}, r"enclosure.drivers[2].radius",
     "did you mean 'radius_m'"),
    ("wrong type", [("distance_m = 2.0", 'distance_m = "far"')], {}, "listener.distance_m", "expected a number"),
    ("wrong bool", [("enabled = false", 'enabled = "no"')], {}, "design.beam.enabled", "true or false"),
    ("out of range", [("radius_m = 0.03", "radius_m = -0.03")], {}, "enclosure.drivers[2].radius_m", "(0, 0.5] m"),
    ("gain out of range", [("max_gain_db = 12", "max_gain_db = 31")], {}, "design.max_gain_db", "[0, 30] dB"),
    ("missing schema_version", [("schema_version = 1\n", "")], {}, "schema_version", "missing"),
    ("wrong version", [("schema_version = 1", "schema_version = 2")], {}, "schema_version",
     "reads schema_version = 1"),
    ("missing required", [("distance_m = 2.0", "head_radius_m = 0.09")], {}, "listener.distance_m", "missing"),
    ("short vector", [("[0.0, 0.1, 0.0]", "[0.0, 0.1]")], {}, "enclosure.drivers[0].position_m", "3 numbers"),
    ("zero axis", [("axis = [-1, 0, 0]\nradius_m = 0.03", "axis = [0, 0, 0]\nradius_m = 0.03")], {},
     "enclosure.drivers[2].axis", "non-zero"),
    ("duplicate names", [('name = "c"', 'name = "a"')], {}, "enclosure.drivers[2].name", "duplicate"),
    ("bad directivity", [("radius_m = 0.03", 'radius_m = 0.03\ndirectivity = "cone"')], {},
     "enclosure.drivers[2].directivity", "'monopole'"),
    ("driver outside body", [('body = "none"', 'body = "sphere"\nbody_radius_m = 0.05')], {},
     "enclosure.drivers[0].position_m", "outside the sphere"),
    ("driver inside head", [("distance_m = 2.0", "distance_m = 0.05")], {}, "enclosure.drivers[2].position_m",
     "inside the head"),
    ("TOML syntax", [("distance_m = 2.0", "distance_m = = 2.0")], {}, "TOML syntax error", "line 21"),
    ("unknown extends", [("name = ", 'extends = "studio-speakr"\nname = ')], {}, "extends",
     "did you mean 'studio-speaker'"),
    ("extends cycle", [("name = ", 'extends = "other.toml"\nname = ')],
     {"other.toml": 'schema_version = 1\nextends = "bad.toml"\n'}, "extends", "bad.toml -> "),
    ("headphones with 3 drivers", [("name = ", 'kind = "headphones"\nname = ')], {}, "enclosure.drivers",
     "exactly two drivers"),
    ("frequencies not increasing", [("[100, 1000]", "[1000, 100]")], {}, "design.target.frequencies_hz",
     "strictly increasing"),
    ("target rising toward low frequencies", [("[0, 10]", "[10, 0]")], {}, "design.target.cancellation_db",
     "fall toward low frequencies"),
    ("target lengths differ", [("[0, 10]", "[0, 10, 12]")], {}, "design.target.cancellation_db", "as many values"),
    ("beam without drivers in band", [("enabled = false", "enabled = true"),
                                      ("radius_m = 0.03", "radius_m = 0.03\nband_hz = [0, 100]")], {},
     "design.beam.enabled", "at least three drivers"),
    ("beam band reversed", [("band_hz = [700, 5000]", "band_hz = [5000, 700]")], {}, "design.beam.band_hz",
     "low < high"),
    ("unknown head", [("distance_m = 2.0", 'distance_m = 2.0\nhead = "kemar-large-pinna"')], {}, "listener.head",
     "'kemar' or a path to an existing .sofa"),
    ("bad bypass stage", [("max_gain_db = 12", 'max_gain_db = 12\nbypass = ["ctc", "eq"]')], {}, "design.bypass",
     "'virtualizer'"),
]


def test_minimal_preset_is_valid(tmp_path):
    preset = presets.load(write(tmp_path / "mini.toml", MINIMAL))
    assert preset.enclosure.driver_names == ("a", "b", "c") and preset.listener.distance_m == 2.0
    assert preset.description == "" and preset.enclosure.drivers[0].band_hz == (0.0, math.inf)
    assert presets.load_dict(preset.to_dict()).content_hash == preset.content_hash


@pytest.mark.parametrize("changes, extra, key_path, says", [case[1:] for case in BAD], ids=[c[0] for c in BAD])
def test_bad_preset_message_names_file_and_key_path(tmp_path, changes, extra, key_path, says):
    text = MINIMAL
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    for name, content in extra.items():
        write(tmp_path / name, content)
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(PresetError) as info:
        presets.load(path)
    message = str(info.value)
    assert str(tmp_path) in message and (("bad.toml" in message) or ("other.toml" in message)), message
    assert key_path in message and says in message, message
    assert isinstance(info.value, ValueError)


def test_bad_dict_names_the_source_and_constructor_errors_keep_the_key_path():
    data = presets.load("stereo-pair").to_dict()
    data["enclosure"]["drivers"][1]["band_hz"] = [100.0, 100.0]
    with pytest.raises(PresetError, match=r"^mine: enclosure\.drivers\[1\]\.band_hz: .*low < high"):
        presets.load_dict(data, source="mine")
    with pytest.raises(PresetError, match=r"^<dict>: <top level>: expected a table"):
        presets.load_dict(["not", "a", "table"])


def test_unknown_builtin_name_suggests_the_closest(tmp_path):
    with pytest.raises(PresetError, match=r"studio-speakr.*did you mean 'studio-speaker'"):
        presets.load("studio-speakr")
    with pytest.raises(PresetError, match=r"nothing\.toml: no built-in preset or file"):
        presets.load(tmp_path / "nothing.toml")


def test_a_builtin_preset_is_parsed_once_and_reloaded_when_its_file_changes(tmp_path, monkeypatch):
    """Built-in presets are cached (every render builds a processor from one), keyed by the
    files' modification times: an edited file is read again."""
    import os
    import shutil

    from soundstage.presets import builtin_files

    for path in builtin_files.builtin_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(builtin_files, "builtin_dir", lambda: tmp_path)
    first = presets.load("studio-speaker")
    assert presets.load("studio-speaker") is first
    edited = tmp_path / "studio-speaker.toml"
    edited.write_text(edited.read_text(encoding="utf-8").replace('description = """\\', 'description = """edited \\', 1),
                      encoding="utf-8")
    stamp = edited.stat().st_mtime_ns + 1_000_000_000
    os.utime(edited, ns=(stamp, stamp))
    again = presets.load("studio-speaker")
    assert again is not first and again.description.startswith("edited")
    assert again.content_hash != first.content_hash

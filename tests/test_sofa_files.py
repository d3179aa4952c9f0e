"""SOFA files as they come: units, delays, conventions, the old-API receiver swap, and damaged files.

Every damaged file must load or fail with a SofaError naming the file: mutated variables
(written with h5py) and a seeded fuzz of corrupt bytes, run in a subprocess so a crash of the
HDF5 library would show as a failed case instead of taking the test run down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from soundstage import SofaError, SofaWarning
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import SofaHead, make_head, read_sofa

from kemar_data import kemar_path
from test_heads_sofa import FS, synthetic_irs, write_sofa

AZ = np.arange(36) * 10.0


def positions(distance_m=1.5):
    return np.stack([AZ, np.zeros_like(AZ), np.full_like(AZ, distance_m)], axis=-1)


@pytest.fixture
def reference(tmp_path):
    return read_sofa(write_sofa(tmp_path / "reference.sofa"))


# --- units and shapes a valid file may have -------------------------------------------------

def test_radian_and_centimetre_positions_equal_degree_and_metre(tmp_path, reference):
    p = positions(150.0)
    p[:, 0] = np.deg2rad(p[:, 0])
    data = read_sofa(write_sofa(tmp_path / "rad.sofa", positions=p, ir=synthetic_irs(AZ),
                                units="radian, radian, centimetre"))
    np.testing.assert_allclose(data.source_positions_m, reference.source_positions_m, atol=1e-12)


def test_any_radius_gives_the_same_directions(tmp_path, reference):
    data = read_sofa(write_sofa(tmp_path / "far.sofa", positions=positions(3.0), ir=synthetic_irs(AZ)))
    np.testing.assert_allclose(data.directions, reference.directions, atol=1e-12)
    np.testing.assert_allclose(data.distances_m, 3.0)


@pytest.mark.parametrize("shape", ["1R", "MR", "IR3"])
@pytest.mark.parametrize("unit", ["samples", "second"])
def test_data_delay_shapes_and_units(tmp_path, reference, shape, unit):
    m = AZ.size
    samples = {"1R": np.array([[3.0, 5.0]]), "MR": np.stack([np.arange(m) % 4, np.full(m, 2.0)], axis=-1),
               "IR3": np.array([[[3.0], [5.0]]])}[shape]
    delay = samples / FS if unit == "second" else samples
    data = read_sofa(write_sofa(tmp_path / "delay.sofa", extra={"Data.Delay": (delay, {"Units": unit})}))
    d = np.broadcast_to(samples.reshape(-1, 2), (m, 2)).astype(int)
    ir = reference.impulse_responses
    for i in (0, 7, 18):
        for r in (0, 1):
            got = data.impulse_responses[i, r]
            np.testing.assert_allclose(got[d[i, r]:d[i, r] + ir.shape[-1]], ir[i, r], atol=1e-12)


def test_simple_free_field_hrtf_equals_the_hrir_file(tmp_path, reference):
    spectrum = np.fft.rfft(reference.impulse_responses, axis=-1)
    freqs = np.fft.rfftfreq(reference.impulse_responses.shape[-1], 1 / FS)
    path = tmp_path / "hrtf.sofa"
    write_sofa(path, skip=("Data.IR", "Data.SamplingRate"), extra={
        "Data.Real": (spectrum.real, {}), "Data.Imag": (spectrum.imag, {}), "N": (freqs, {"Units": "hertz"})})
    with h5py.File(path, "a") as f:
        f.attrs["SOFAConventions"] = np.bytes_("SimpleFreeFieldHRTF")
    data = read_sofa(path)
    assert data.sample_rate == FS and data.convention == "SimpleFreeFieldHRTF"
    np.testing.assert_allclose(data.impulse_responses, reference.impulse_responses, atol=1e-12)


@pytest.mark.parametrize("convention", ["SingleRoomDRIR", "FreeFieldDirectivityTF", "AmbisonicsDRIR"])
def test_other_conventions_are_refused_naming_the_supported_ones(tmp_path, convention):
    path = write_sofa(tmp_path / "other.sofa")
    with h5py.File(path, "a") as f:
        f.attrs["SOFAConventions"] = np.bytes_(convention)
    with pytest.raises(SofaError, match=f"other.sofa: SOFA convention '{convention}' is not supported; "
                                        "soundstage reads SimpleFreeFieldHRIR, SimpleFreeFieldHRTF"):
        read_sofa(path)


# --- the old-API receiver swap on the measured KEMAR -----------------------------------------

@pytest.fixture(scope="module")
def swapped_kemar(tmp_path_factory) -> Path:
    """A copy of the built-in KEMAR with only the ReceiverPosition rows swapped (old SOFA API)."""
    path = tmp_path_factory.mktemp("kemar") / "kemar_swapped_receivers.sofa"
    path.write_bytes(kemar_path().read_bytes())
    with h5py.File(path, "a") as f:
        f["ReceiverPosition"][...] = f["ReceiverPosition"][()][::-1]
    return path


def test_swapped_receiver_kemar_has_its_ears_the_right_way_round(swapped_kemar):
    with pytest.warns(SofaWarning, match="kemar_swapped_receivers.sofa: ReceiverPosition puts receiver 0 on the right"):
        head = SofaHead(swapped_kemar)
    h = head.response(spherical_to_cartesian(30.0, 0.0, 1.4), np.linspace(200.0, 16000.0, 400))
    advantage_db = 10 * np.log10(np.sum(np.abs(h[0]) ** 2) / np.sum(np.abs(h[1]) ** 2))
    assert 8.0 < advantage_db < 12.0  # a source at +30° (left) is louder at the left ear, +9.7 dB


def test_a_design_from_the_swapped_kemar_equals_the_design_from_the_original(swapped_kemar):
    from soundstage import presets
    from soundstage.design import design_filterset

    preset = presets.load("studio-speaker")
    original = design_filterset(preset.enclosure, preset.listener, preset.parameters, 48000.0, head=str(kemar_path()))
    with pytest.warns(SofaWarning):
        swapped = design_filterset(preset.enclosure, preset.listener, preset.parameters, 48000.0,
                                   head=str(swapped_kemar))
    np.testing.assert_array_equal(swapped.fir, original.fir)


# --- damaged files: every one loads or fails with a SofaError naming it ----------------------

def _mutate(name: str, action):
    def apply(f):
        if isinstance(action, str):
            del f[name]
        else:
            data = action(f[name][()]) if callable(action) else action
            attrs = dict(f[name].attrs)
            del f[name]
            ds = f.create_dataset(name, data=data)
            for key, value in attrs.items():
                if key not in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
                    ds.attrs[key] = value
    return apply


def _set_attr(name, key, value):
    def apply(f):
        (f if name is None else f[name]).attrs[key] = value
    return apply


MUTATIONS = {
    "no IR": _mutate("Data.IR", "delete"),
    "no rate": _mutate("Data.SamplingRate", "delete"),
    "no positions": _mutate("SourcePosition", "delete"),
    "IR one receiver": _mutate("Data.IR", lambda a: a[:, :1]),
    "IR 2-D": _mutate("Data.IR", lambda a: a[:, 0]),
    "IR zero length": _mutate("Data.IR", lambda a: a[:, :, :0]),
    "IR one tap": _mutate("Data.IR", lambda a: a[:, :, :1]),
    "IR NaN": _mutate("Data.IR", lambda a: np.where(np.arange(a.shape[-1]) == 3, np.nan, a)),
    "IR inf": _mutate("Data.IR", lambda a: np.where(a != 0, np.inf, 0.0)),
    "IR all zero": _mutate("Data.IR", lambda a: np.zeros_like(a)),
    "IR strings": _mutate("Data.IR", np.array([b"abc", b"def"])),
    "IR scalar": _mutate("Data.IR", 3.0),
    "rate zero": _mutate("Data.SamplingRate", np.array([0.0])),
    "rate negative": _mutate("Data.SamplingRate", np.array([-44100.0])),
    "rate absurd": _mutate("Data.SamplingRate", np.array([1e12])),
    "rate NaN": _mutate("Data.SamplingRate", np.array([np.nan])),
    "rate tiny": _mutate("Data.SamplingRate", np.array([1.0])),
    "rates differ": _mutate("Data.SamplingRate", np.arange(36) + 44100.0),
    "positions short": _mutate("SourcePosition", lambda a: a[:5]),
    "positions 2 cols": _mutate("SourcePosition", lambda a: a[:, :2]),
    "positions NaN": _mutate("SourcePosition", lambda a: a * np.nan),
    "positions zero": _mutate("SourcePosition", lambda a: np.zeros_like(a)),
    "positions one direction": _mutate("SourcePosition", lambda a: np.tile([0.0, 0.0, 1.5], (len(a), 1))),
    "positions type int": _set_attr("SourcePosition", "Type", 7),
    "positions units odd": _set_attr("SourcePosition", "Units", np.bytes_("parsec")),
    "delay negative": _mutate("Data.Delay", np.array([[-1.0, 0.0]])),
    "delay wrong shape": _mutate("Data.Delay", np.zeros((3, 2))),
    "delay huge": _mutate("Data.Delay", np.array([[1e30, 0.0]])),
    "delay units odd": _set_attr("Data.Delay", "Units", np.bytes_("fortnight")),
    "view zero": _mutate("ListenerView", np.zeros((1, 3))),
    "view parallel up": _mutate("ListenerView", np.array([[0.0, 0.0, 1.0]])),
    "receivers 3": _mutate("ReceiverPosition", np.zeros((3, 3, 1))),
    "conventions int": _set_attr(None, "SOFAConventions", 5),
    "conventions odd": _set_attr(None, "SOFAConventions", np.bytes_("MultiSpeakerBRIR")),
    "IR is a group": lambda f: (f.__delitem__("Data.IR"), f.create_group("Data.IR")),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutated_variables_load_or_fail_with_a_sofa_error_naming_the_file(tmp_path, mutation):
    path = write_sofa(tmp_path / "mutated.sofa", extra={"Data.Delay": (np.zeros((1, 2)), {})})
    with h5py.File(path, "a") as f:
        MUTATIONS[mutation](f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SofaWarning)
        try:
            head = make_head(path)
            h = head.response(spherical_to_cartesian(30.0, 0.0, 1.5), [500.0, 4000.0])
            assert np.all(np.isfinite(h))
        except SofaError as exc:
            assert str(exc).startswith(f"{path}: ")


FUZZ_WORKER = r"""
import json, sys, warnings
import numpy as np
from soundstage import SofaError
from soundstage.acoustics.heads import make_head
from soundstage.acoustics.frame import spherical_to_cartesian
warnings.simplefilter("ignore")
for line in sys.stdin:
    path = line.strip()
    print(json.dumps({"start": path}), flush=True)
    try:
        h = make_head(path).response(spherical_to_cartesian(30.0, 0.0, 1.5), [500.0, 4000.0])
        result = "ok" if np.all(np.isfinite(h)) else "non-finite"
    except SofaError as exc:
        result = "SofaError" if str(exc).startswith(path + ": ") else "unnamed: " + str(exc)[:200]
    except BaseException as exc:
        result = "raw " + type(exc).__name__ + ": " + str(exc)[:200]
    print(json.dumps({"path": path, "result": result}), flush=True)
"""


def test_fuzzed_bytes_load_or_fail_with_a_sofa_error(tmp_path):
    """300 copies of a valid file with 1–16 bytes changed at seeded random offsets (half of them
    in the first 4 kB, where HDF5 keeps its superblock and object headers), truncations included."""
    rng = np.random.default_rng(20261203)
    small = write_sofa(tmp_path / "valid.sofa", ir=synthetic_irs(AZ)[:, :, :64],
                       extra={"Data.Delay": (np.zeros((1, 2)), {})})
    raw = np.frombuffer(small.read_bytes(), dtype=np.uint8)
    paths = []
    for case in range(300):
        data = raw.copy()
        if case % 25 == 0:
            data = data[: rng.integers(1, raw.size)]
        else:
            span = 4096 if case % 2 else raw.size
            offsets = rng.integers(0, min(span, raw.size), rng.integers(1, 17))
            data[offsets] = rng.integers(0, 256, offsets.size)
        path = tmp_path / f"fuzz{case:03d}.sofa"
        path.write_bytes(data.tobytes())
        paths.append(str(path))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    remaining, bad, crashes = list(paths), [], []
    while remaining:  # a crashed worker is restarted after the file that killed it
        proc = subprocess.run([sys.executable, "-c", FUZZ_WORKER], input="\n".join(remaining) + "\n",
                              capture_output=True, text=True, timeout=240, env=env)
        lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        done = {x["path"]: x["result"] for x in lines if "result" in x}
        bad += [f"{Path(p).name}: {r}" for p, r in done.items() if r not in ("ok", "SofaError")]
        if proc.returncode == 0:
            break
        started = [x["start"] for x in lines if "start" in x]
        crashes.append(f"{Path(started[-1]).name if started else '?'}: exit {proc.returncode} {proc.stderr[-300:]}")
        remaining = remaining[remaining.index(started[-1]) + 1:] if started else []
    assert not bad and not crashes, (bad, crashes)

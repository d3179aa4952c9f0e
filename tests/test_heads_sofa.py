"""Measured heads from SOFA files: a synthetic file written here, and the MIT KEMAR file."""

from __future__ import annotations

from pathlib import Path

import warnings

import h5py
import numpy as np
import pytest

from soundstage import ParameterError, SofaError, SofaWarning
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import SofaHead, make_head, read_sofa

from kemar_data import kemar_path

FS = 44100.0
N_TAPS = 128
BASE_DELAY = 40  # samples
ITD_SAMPLES = 8  # interaural half-delay at ±90°, samples
ILD_DB = 3.0  # interaural half-level difference at ±90°, dB


def synthetic_irs(azimuth_deg: np.ndarray) -> np.ndarray:
    """Pure delays: left ear d = 40 − round(8 sin φ) samples, gain +3 sin φ dB; right mirrored."""
    s = np.sin(np.deg2rad(azimuth_deg))
    ir = np.zeros((len(s), 2, N_TAPS))
    for i, si in enumerate(s):
        shift = int(round(ITD_SAMPLES * si))
        ir[i, 0, BASE_DELAY - shift] = 10 ** (ILD_DB * si / 20)
        ir[i, 1, BASE_DELAY + shift] = 10 ** (-ILD_DB * si / 20)
    return ir


def write_sofa(path: Path, ir=None, positions=None, *, position_type="spherical",
               units="degree, degree, metre", skip=(), extra=None) -> Path:
    """Write a minimal SimpleFreeFieldHRIR file with h5py (36 horizontal directions by default)."""
    if positions is None:
        az = np.arange(36) * 10.0
        positions = np.stack([az, np.zeros_like(az), np.full_like(az, 1.5)], axis=-1)
    if ir is None:
        ir = synthetic_irs(positions[:, 0])
    variables = {"Data.IR": (ir, {}), "Data.SamplingRate": (np.array([FS]), {"Units": "hertz"}),
                 "SourcePosition": (positions, {"Type": position_type, "Units": units}),
                 "ListenerView": (np.array([[1.0, 0.0, 0.0]]), {"Type": "cartesian", "Units": "metre"}),
                 "ReceiverPosition": (np.array([[[0.0], [0.09], [0.0]], [[0.0], [-0.09], [0.0]]]),
                                      {"Type": "cartesian", "Units": "metre"})}
    variables.update(extra or {})
    with h5py.File(path, "w") as f:
        f.attrs["Conventions"] = np.bytes_("SOFA")
        f.attrs["SOFAConventions"] = np.bytes_("SimpleFreeFieldHRIR")
        for name, (data, attrs) in variables.items():
            if name in skip:
                continue
            ds = f.create_dataset(name, data=data)
            for key, value in attrs.items():
                ds.attrs[key] = np.bytes_(value)
    return path


@pytest.fixture
def sofa_path(tmp_path) -> Path:
    return write_sofa(tmp_path / "synthetic.sofa")


def at(azimuth_deg, elevation_deg=0.0, distance_m=1.5):
    return spherical_to_cartesian(np.asarray(azimuth_deg, dtype=float), elevation_deg, distance_m)


F = np.array([100.0, 1000.0, 5000.0, 15000.0])


def expected_ratio(azimuth_deg):
    """Left/right transfer-function ratio of the synthetic file at a measured azimuth."""
    s = np.sin(np.deg2rad(azimuth_deg))
    lag = 2 * int(round(ITD_SAMPLES * s)) / FS  # right arrives later by this
    return 10 ** (2 * ILD_DB * s / 20) * np.exp(2j * np.pi * F * lag)


# --- synthetic file -----------------------------------------------------------------------

def test_read_sofa_converts_positions_to_the_head_frame(sofa_path):
    data = read_sofa(sofa_path)
    assert data.impulse_responses.shape == (36, 2, N_TAPS)
    assert data.sample_rate == FS
    np.testing.assert_allclose(data.source_positions_m[9], [0.0, 1.5, 0.0], atol=1e-12)  # 90° = +y
    np.testing.assert_allclose(data.distances_m, 1.5)


@pytest.mark.parametrize("azimuth_deg", [30.0, -50.0, 90.0, 180.0])
def test_nearest_lookup_recovers_delay_and_level_exactly(sofa_path, azimuth_deg):
    head = SofaHead(sofa_path)
    h = head.response(at([azimuth_deg + 3.0]), F)[0]  # 3° off: the nearest measured direction
    np.testing.assert_allclose(h[0] / h[1], expected_ratio(azimuth_deg), rtol=1e-9)


def test_frontal_calibration_and_distance_calibration(sofa_path):
    h = SofaHead(sofa_path).response(at([0.0]), F)[0]
    np.testing.assert_allclose(np.abs(h), 1.0, rtol=1e-12)  # frontal source: 0 dB
    np.testing.assert_allclose(h[0], h[1], rtol=1e-12)
    # the phase is referred to the head centre: the frontal onset is removed, so it is ~flat
    assert np.max(np.abs(np.angle(h[0]))) < 2 * np.pi * F[-1] / FS
    h90 = SofaHead(sofa_path, calibration="distance").response(at([90.0]), F)[0]
    np.testing.assert_allclose(np.abs(h90[0]), 1.5 * 10 ** (ILD_DB / 20), rtol=1e-12)


def test_linear_interpolation_between_two_directions(sofa_path):
    head = SofaHead(sofa_path, interpolation="linear")
    front = head.response(at([0.0]), F)[0]
    for weight_20 in (0.0, 0.25, 0.5):
        h = head.response(at([10.0 + 10.0 * weight_20]), F)[0]
        for ear, sign in ((0, 1), (1, -1)):
            d10, d20 = (BASE_DELAY - sign * round(ITD_SAMPLES * np.sin(np.deg2rad(a))) for a in (10.0, 20.0))
            g10, g20 = (10 ** (sign * ILD_DB * np.sin(np.deg2rad(a)) / 20) for a in (10.0, 20.0))
            delay = (1 - weight_20) * d10 + weight_20 * d20 - BASE_DELAY  # samples re the front
            level = (1 - weight_20) * g10 + weight_20 * g20  # no comb: levels add after alignment
            np.testing.assert_allclose(h[ear] / front[ear], level * np.exp(-2j * np.pi * F * delay / FS),
                                       rtol=1e-9)


def test_barycentric_interpolation_on_a_sphere_of_directions(tmp_path):
    az, el = np.meshgrid(np.arange(0, 360, 30.0), [-60.0, -30.0, 0.0, 30.0, 60.0])
    pos = np.stack([az.ravel(), el.ravel(), np.full(az.size, 2.0)], axis=-1)
    pos = np.concatenate([pos, [[0.0, 90.0, 2.0], [0.0, -90.0, 2.0]]])
    path = write_sofa(tmp_path / "sphere.sofa", synthetic_irs(pos[:, 0]), pos)
    nearest, linear = SofaHead(path), SofaHead(path, interpolation="linear")
    measured = at([60.0], 30.0, 2.0)
    np.testing.assert_allclose(linear.response(measured, F), nearest.response(measured, F), rtol=1e-9)
    # between 30° and 60° azimuth on the equator the ILD lies between the neighbours'
    ild = [20 * np.log10(np.abs(h[0, 0] / h[0, 1])) for h in
           (linear.response(at([a]), [1000.0]) for a in (30.0, 45.0, 60.0))]
    assert ild[0] < ild[1] < ild[2]


def test_impulse_responses_resampled_to_48k_keep_delay_and_gain(sofa_path):
    for interpolation in ("nearest", "linear"):
        head = SofaHead(sofa_path, interpolation=interpolation)
        n = 512
        ir = head.impulse_responses(at([30.0, 15.0]), 48000, n)
        f = np.fft.rfftfreq(n, 1 / 48000)[1:]
        band = f < 16000
        got = np.fft.rfft(ir, axis=-1)[..., 1:][..., band]
        want = head.response(at([30.0, 15.0]), f[band]) * np.exp(-2j * np.pi * f[band] * head.bulk_delay_s())
        np.testing.assert_allclose(got, want, atol=5e-3)  # resample_poly passband ripple


def test_impulse_responses_at_the_file_rate_are_the_measured_ones(sofa_path):
    head = SofaHead(sofa_path)
    ir = head.impulse_responses(at([30.0]), FS, 64)[0]
    raw = read_sofa(sofa_path).impulse_responses[3]  # 30°
    shift = int(round((head.reference_time_s - head.bulk_delay_s()) * FS))
    np.testing.assert_array_equal(ir, raw[:, shift:shift + 64])  # frontal calibration gain is 1
    # the earliest arrival in the file (left ear at 90°, 32 samples) is kept, causal
    ir90 = head.impulse_responses(at([90.0]), FS, 64)[0]
    assert 0 < np.argmax(ir90[0]) == BASE_DELAY - ITD_SAMPLES - shift


def test_receiver_zero_is_the_left_ear_whatever_receiver_position_says(sofa_path, tmp_path):
    """Old-API files store receiver 0 at y < 0 although it is the left ear: read by the convention."""
    swapped = write_sofa(tmp_path / "old_api.sofa", extra={
        "ReceiverPosition": (np.array([[0.0, -0.09, 0.0], [0.0, 0.09, 0.0]]), {"Type": "cartesian"})})
    with pytest.warns(SofaWarning, match=r"old_api.sofa: ReceiverPosition puts receiver 0 on the right"):
        data = read_sofa(swapped)
    np.testing.assert_array_equal(data.impulse_responses, read_sofa(sofa_path).impulse_responses)
    with pytest.warns(SofaWarning):
        h = SofaHead(swapped).response(at([30.0]), F)[0]
    np.testing.assert_allclose(h[0] / h[1], expected_ratio(30.0), rtol=1e-9)  # left ear louder, earlier


def test_data_that_contradict_receiver_zero_left_warn(tmp_path):
    mirrored = write_sofa(tmp_path / "mirrored.sofa", synthetic_irs(np.arange(36) * 10.0)[:, ::-1])
    with pytest.warns(SofaWarning, match=r"mirrored.sofa: the data contradict receiver 0 = left ear.*"
                                         r"6.0 dB quieter and 0.36 ms later"):
        read_sofa(mirrored)


def test_a_consistent_file_loads_without_warnings(sofa_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_sofa(sofa_path)
        read_sofa(kemar_path())


def test_listener_view_is_honoured(tmp_path):
    turned = write_sofa(tmp_path / "turned.sofa", extra={
        "ListenerView": (np.array([[90.0, 0.0, 1.0]]), {"Type": "spherical", "Units": "degree, degree, metre"})})
    data = read_sofa(turned, check_ears=False)
    np.testing.assert_allclose(data.source_positions_m[9], [1.5, 0.0, 0.0], atol=1e-12)  # file 90° is ahead


def test_cartesian_positions(tmp_path):
    xyz = at(np.arange(36) * 10.0)
    path = write_sofa(tmp_path / "cart.sofa", synthetic_irs(np.arange(36) * 10.0), xyz,
                      position_type="cartesian", units="metre")
    np.testing.assert_allclose(read_sofa(path).source_positions_m, xyz, atol=1e-12)


def test_make_head_opens_sofa_paths(sofa_path):
    assert isinstance(make_head(sofa_path), SofaHead)
    assert isinstance(make_head(str(sofa_path)), SofaHead)


# --- bad files ----------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(SofaError, match="not found"):
        read_sofa(tmp_path / "nothing.sofa")


def test_not_hdf5(tmp_path):
    path = tmp_path / "text.sofa"
    path.write_text("this is not a SOFA file\n")
    with pytest.raises(SofaError, match="text.sofa.*not a readable SOFA"):
        read_sofa(path)


def test_truncated_file(sofa_path):
    raw = sofa_path.read_bytes()
    sofa_path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SofaError, match="synthetic.sofa"):
        SofaHead(sofa_path)


@pytest.mark.parametrize("variable", ["Data.IR", "Data.SamplingRate", "SourcePosition"])
def test_missing_variable(tmp_path, variable):
    path = write_sofa(tmp_path / "partial.sofa", skip=(variable,))
    with pytest.raises(SofaError, match=f"partial.sofa: SOFA variable '{variable}' is missing"):
        read_sofa(path)


def test_wrong_shapes_and_values(tmp_path):
    with pytest.raises(SofaError, match="'Data.IR' must have shape"):
        read_sofa(write_sofa(tmp_path / "a.sofa", ir=np.zeros((36, 3, 16))))
    with pytest.raises(SofaError, match="'SourcePosition' must have shape"):
        read_sofa(write_sofa(tmp_path / "b.sofa", positions=np.ones((5, 3)), ir=np.ones((36, 2, 16))))
    bad = synthetic_irs(np.arange(36) * 10.0)
    bad[3, 0, 7] = np.nan
    with pytest.raises(SofaError, match="'Data.IR' contains NaN"):
        read_sofa(write_sofa(tmp_path / "c.sofa", ir=bad))
    with pytest.raises(SofaError, match="unknown coordinate Type 'polar'"):
        read_sofa(write_sofa(tmp_path / "d.sofa", position_type="polar"))
    with pytest.raises(SofaError, match="e.sofa: SOFA variable 'SourcePosition' is spherical with units"):
        read_sofa(write_sofa(tmp_path / "e.sofa", units="grad, grad, metre"))


def test_bad_arguments(sofa_path):
    with pytest.raises(ParameterError, match="interpolation"):
        SofaHead(sofa_path, interpolation="cubic")
    head = SofaHead(sofa_path)
    with pytest.raises(ParameterError, match="frequencies_hz"):
        head.response(at([0.0]), [0.0])


def test_uniform_grid_fast_path_equals_pointwise_evaluation(sofa_path):
    head = SofaHead(sofa_path, interpolation="linear")
    grid = np.r_[1.0, np.linspace(50.0, 20000.0, 300)]  # the chirp-z path
    pos = at([25.0, -140.0])
    pointwise = np.stack([head.response(pos, [f])[..., 0] for f in grid[::37]], axis=-1)
    np.testing.assert_allclose(head.response(pos, grid)[..., ::37], pointwise, rtol=1e-7, atol=1e-9)


def test_zero_above_the_files_nyquist(sofa_path):
    h = SofaHead(sofa_path).response(at([20.0]), [1000.0, 23000.0])
    assert np.all(h[..., 1] == 0) and np.all(np.abs(h[..., 0]) > 0.5)


# --- measured KEMAR -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def kemar():
    return SofaHead(kemar_path())


FINE_HZ = np.linspace(20.0, 20000.0, 8000)


def third_octave_ild_db(head, azimuth_deg, centres_hz):
    h = head.response(at([azimuth_deg], 0.0, 1.4), FINE_HZ)[0]
    out = []
    for fc in centres_hz:
        band = (FINE_HZ >= fc * 2 ** (-1 / 6)) & (FINE_HZ < fc * 2 ** (1 / 6))
        out.append(10 * np.log10(np.sum(np.abs(h[0, band]) ** 2) / np.sum(np.abs(h[1, band]) ** 2)))
    return np.array(out)


def test_kemar_ild_at_30_degrees(kemar):
    ild = third_octave_ild_db(kemar, 30.0, [500.0, 1000.0, 2000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(ild, [2.8, 8.0, 7.8, 10.6, 13.7], atol=1.5)


def test_kemar_ild_symmetry(kemar):
    centres = [500.0, 1000.0, 4000.0, 8000.0]
    # the MIT "normal pinna" set is one ear measured and mirrored, so 0° is symmetric to 0.1 dB
    np.testing.assert_allclose(third_octave_ild_db(kemar, 0.0, centres), 0.0, atol=0.1)
    np.testing.assert_allclose(third_octave_ild_db(kemar, -30.0, centres),
                               -third_octave_ild_db(kemar, 30.0, centres), atol=1.0)


def test_kemar_itd_at_30_degrees_by_cross_correlation(kemar):
    n = 1 << 14
    f = np.fft.rfftfreq(n, 1 / 44100.0)[1:]
    h = kemar.response(at([30.0], 0.0, 1.4), f)[0]
    cross = np.where(f < 1500.0, h[0] * np.conj(h[1]), 0.0)
    up = 16  # sub-sample lag resolution: zero-pad the cross-spectrum
    cc = np.fft.irfft(np.concatenate([[0.0], cross]), n * up)
    lag = np.argmax(np.fft.fftshift(cc)) - n * up // 2
    itd_s = -lag / (44100.0 * up)  # right ear later than the left: positive ITD
    assert itd_s * 1e6 == pytest.approx(275.0, abs=30.0)


def test_kemar_frontal_low_frequency_level_is_0_db(kemar):
    pos = np.concatenate([at([0.0, 10.0, -10.0], 0.0, 1.4), at([0.0, 0.0], np.array([10.0, -10.0]), 1.4)])
    level = 20 * np.log10(np.abs(kemar.response(pos, [200.0])))
    np.testing.assert_allclose(level, 0.0, atol=2.0)

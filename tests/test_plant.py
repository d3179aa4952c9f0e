"""The driver→ear plant: symmetry, free-field analytics, impulse responses, conditioning oracles."""

import numpy as np
import pytest

from soundstage import GeometryError, ParameterError
from soundstage.acoustics.directivity import driver_directivity
from soundstage.acoustics.geometry import Driver, Enclosure, Listener
from soundstage.acoustics.heads.base import FreeFieldEars
from soundstage.acoustics.plant import enclosure_far_field, plant_impulse_responses, plant_response

C = 343.0
A_HEAD = 0.0875


def _pair(model="monopole", axes=((-1.0, 0, 0), (-1.0, 0, 0)), body="none", body_radius_m=0.0):
    drivers = (
        Driver("left", (0.0, 0.085, 0.0), axes[0], 0.02, model),
        Driver("right", (0.0, -0.085, 0.0), axes[1], 0.02, model),
    )
    return Enclosure("pair", drivers, body=body, body_radius_m=body_radius_m)


def _cond_db(h):
    s = np.linalg.svd(np.moveaxis(h, -1, 0), compute_uv=False)
    return 20 * np.log10(s[:, 0] / s[:, -1])


def _free_field_reference(enclosure, listener, f, ear_positions_m):
    """exp(−jkr)/r from each driver to each ear point (monopoles, no head)."""
    sources = listener.enclosure_position_m + enclosure.positions_m()
    r = np.linalg.norm(ear_positions_m[:, None, :] - sources[None, :, :], axis=-1)  # (2, D)
    k = 2 * np.pi * np.asarray(f) / C
    return np.exp(-1j * k * r[..., None]) / r[..., None]


def test_symmetric_enclosure_and_centred_listener_give_a_symmetric_plant():
    enc = _pair("cap", axes=((0, 1.0, 0), (0, -1.0, 0)), body="sphere", body_radius_m=0.085)
    f = np.geomspace(50, 16000, 40)
    h = plant_response(enc, Listener(distance_m=2.5), f)
    np.testing.assert_allclose(h[0, 0], h[1, 1], rtol=1e-12)
    np.testing.assert_allclose(h[0, 1], h[1, 0], rtol=1e-12)
    assert np.max(np.abs(h[0, 0] - h[0, 1]) / np.abs(h[0, 0])) > 0.05  # not trivially symmetric


def test_lateral_offset_to_the_left_favours_the_left_driver_at_the_left_ear():
    # Drivers firing ±y: a listener moving left moves into the left driver's beam and out of the
    # right one's. With free-field ears that holds at every frequency; with a rigid sphere the
    # head shadow (the sources now sit slightly to the right) cancels it below a few kHz, and the
    # driver beaming wins above.
    enc = _pair("cap", axes=((0, 1.0, 0), (0, -1.0, 0)), body="sphere", body_radius_m=0.085)
    f = np.array([500.0, 1000.0, 2000.0, 4000.0, 8000.0])
    moved = Listener(distance_m=2.5, lateral_offset_m=0.3)
    h = plant_response(enc, moved, f, head=FreeFieldEars())
    assert np.all(20 * np.log10(np.abs(h[0, 0]) / np.abs(h[1, 1])) > 0.3)
    h = plant_response(enc, moved, f[-2:], head="sphere")
    assert np.all(20 * np.log10(np.abs(h[0, 0]) / np.abs(h[1, 1])) > 0.1)


def test_free_field_ears_match_the_analytic_point_source_field():
    enc = _pair()
    f = np.geomspace(20, 20000, 30)
    listener = Listener(distance_m=2.5, lateral_offset_m=0.07, fore_aft_offset_m=-0.2)
    h = plant_response(enc, listener, f, head=FreeFieldEars())
    ears = listener.head_position_m + np.array([[0, A_HEAD, 0], [0, -A_HEAD, 0]])
    np.testing.assert_allclose(h, _free_field_reference(enc, listener, f, ears), rtol=1e-12)


def test_yaw_turns_the_ears_to_the_left():
    enc = _pair()
    f = np.array([300.0, 3000.0])
    listener = Listener(distance_m=2.0, yaw_deg=90.0)  # now facing +y: the left ear is behind (−x)
    h = plant_response(enc, listener, f, head=FreeFieldEars())
    ears = np.array([[-A_HEAD, 0, 0], [A_HEAD, 0, 0]])
    np.testing.assert_allclose(h, _free_field_reference(enc, listener, f, ears), rtol=1e-12, atol=1e-15)


def test_directivity_is_taken_toward_each_ear():
    # A piston firing to the listener's left, close by: each ear sees a different angle.
    enc = Enclosure("one", (Driver("side", (0.0, 0.05, 0.0), (0.0, 1.0, 0.0), 0.03, "piston"),))
    listener = Listener(distance_m=0.6)
    f = np.array([2000.0, 9000.0])
    h = plant_response(enc, listener, f, head=FreeFieldEars())
    source = listener.enclosure_position_m + np.array([0.0, 0.05, 0.0])
    ears = np.array([[0, A_HEAD, 0], [0, -A_HEAD, 0]])
    directivity = driver_directivity(enc.drivers[0], ears - source, f)
    expected = _free_field_reference(enc, listener, f, ears)[:, 0] * directivity
    np.testing.assert_allclose(h[:, 0], expected, rtol=1e-12)


def test_impulse_responses_invert_the_plant_on_the_rfft_grid_and_peak_at_the_delays():
    enc = _pair()
    listener = Listener(distance_m=2.5, lateral_offset_m=0.1)
    sample_rate, n_taps = 48000, 512
    ir, delay = plant_impulse_responses(enc, listener, sample_rate, n_taps, head=FreeFieldEars())
    assert ir.shape == (2, 2, n_taps) and ir.dtype == np.float64 and isinstance(delay, int)
    ears = listener.head_position_m + np.array([[0, A_HEAD, 0], [0, -A_HEAD, 0]])
    sources = listener.enclosure_position_m + enc.positions_m()
    delays = np.linalg.norm(ears[:, None] - sources[None], axis=-1) / C * sample_rate - delay
    np.testing.assert_array_equal(np.argmax(np.abs(ir), axis=-1), np.round(delays).astype(int))
    assert np.all(delays > 16)  # the margin keeps them causal
    f = np.fft.rfftfreq(n_taps, 1 / sample_rate)[1:-1]
    spectrum = np.fft.rfft(ir, axis=-1)[..., 1:-1] * np.exp(-2j * np.pi * f * delay / sample_rate)
    np.testing.assert_allclose(spectrum, plant_response(enc, listener, f, head=FreeFieldEars()), atol=1e-12)


def test_two_point_source_condition_number_tends_to_cot():
    # Free field, far listener: g = l1/l2 → 1 and cond(H) → |cot(ωτ_c/2)| (oracles.md).
    enc = _pair()
    listener = Listener(distance_m=30.0)
    f = np.array([50.0, 100.0, 200.0, 400.0])
    h = plant_response(enc, listener, f, head=FreeFieldEars())
    ears = np.array([[0, A_HEAD, 0], [0, -A_HEAD, 0]])
    sources = listener.enclosure_position_m + enc.positions_m()
    l1 = np.linalg.norm(ears[0] - sources[0])
    l2 = np.linalg.norm(ears[0] - sources[1])
    g, tau = l1 / l2, (l2 - l1) / C
    w = 2 * np.pi * f
    exact = np.abs(1 + g * np.exp(-1j * w * tau)) / np.abs(1 - g * np.exp(-1j * w * tau))
    np.testing.assert_allclose(_cond_db(h), 20 * np.log10(exact), rtol=1e-9)
    assert np.all(w * tau < np.pi / 2)
    np.testing.assert_allclose(_cond_db(h), 20 * np.log10(np.abs(1 / np.tan(w * tau / 2))), atol=0.01)


def test_rigid_sphere_conditioning_matches_the_oracle():
    # oracles.md: two drivers 0.17 m apart at 2.5 m, rigid sphere (point source, finite range).
    f = np.array([100, 200, 500, 1000, 2000, 4000, 8000.0])
    expected = np.array([41.5, 35.4, 27.1, 23.6, 17.8, 12.4, 6.1])
    h = plant_response(_pair(), Listener(distance_m=2.5), f, head="sphere")
    np.testing.assert_allclose(_cond_db(h), expected, atol=0.2)


def test_headphones_plant_is_the_identity():
    drivers = (Driver("l", (0, 0.09, 0), (0, -1.0, 0), 0.02), Driver("r", (0, -0.09, 0), (0, 1.0, 0), 0.02))
    phones = Enclosure("phones", drivers, kind="headphones")
    h = plant_response(phones, Listener(), [100.0, 1000.0])
    np.testing.assert_array_equal(h, np.eye(2)[:, :, None] * np.ones(2))
    ir, delay = plant_impulse_responses(phones, Listener(), 48000, 64)
    assert delay == 0 and ir[0, 0, 0] == ir[1, 1, 0] == 1.0 and np.count_nonzero(ir) == 2


def test_enclosure_far_field_phase_and_directivity():
    enc = Enclosure(
        "two",
        (
            Driver("front", (-0.1, 0.0, 0.0), (-1.0, 0, 0), 0.0125, "piston"),
            Driver("omni", (0.0, 0.2, 0.0), (0, 1.0, 0), 0.02, "monopole"),
        ),
    )
    f = np.array([1000.0, 10000.0])
    k = 2 * np.pi * f / C
    ff = enclosure_far_field(enc, [0.0, 90.0, 180.0], f)
    assert ff.shape == (3, 2, 2)
    np.testing.assert_allclose(ff[0, 0], np.exp(1j * k * 0.1), rtol=1e-12)  # on axis, 0.1 m closer
    np.testing.assert_allclose(ff[1, 1], np.exp(1j * k * 0.2), rtol=1e-12)  # +90° = toward +y
    np.testing.assert_allclose(ff[2, 1], np.ones(2), rtol=1e-12)
    assert abs(ff[2, 0, 1]) < 0.5 * abs(ff[0, 0, 1])  # a piston is quieter behind at 10 kHz


def test_bad_input():
    enc = _pair(body="sphere", body_radius_m=0.1)
    with pytest.raises(GeometryError, match="listener head .* overlaps enclosure 'pair'"):
        plant_response(enc, Listener(distance_m=0.15), [1000.0])
    lone = Enclosure("lone", (Driver("stray", (-2.45, 0.0, 0.0), (-1.0, 0, 0), 0.02),))
    with pytest.raises(GeometryError, match="driver 'stray' .* inside the listener's head"):
        plant_response(lone, Listener(distance_m=2.5), [1000.0])
    with pytest.raises(ParameterError, match="frequencies_hz"):
        plant_response(_pair(), Listener(), [-1.0, 1000.0])
    with pytest.raises(ParameterError, match="n_taps = 64 is too short"):
        plant_impulse_responses(_pair(), Listener(distance_m=2.5, lateral_offset_m=1.0), 48000, 64)
    with pytest.raises(ParameterError, match="sample_rate"):
        plant_impulse_responses(_pair(), Listener(), 0, 512)
    with pytest.raises(ParameterError, match="head must be one of"):
        plant_response(_pair(), Listener(), [1000.0], head="cardboard")


def test_every_public_acoustics_name_imports():
    import soundstage.acoustics as acoustics

    for name in acoustics.__all__:
        assert getattr(acoustics, name) is not None, name

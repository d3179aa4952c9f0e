"""Fast redesign: a parameter change recomputes only the stages it touches, and the result is
bitwise the from-scratch design."""

from dataclasses import replace

import numpy as np
import pytest

from soundstage import presets
from soundstage.design import design_filterset, designer, stage_cache
from soundstage.design.crosstalk import weighted_least_norm
from soundstage.design.regularised_inverse import RegularisedInverse

SR = 48000.0
#: Changes that leave the plant alone, and the stages each one has to recompute.
CHANGES = [
    ("width_deg", 23.7, {"relative_hrtf"}),
    ("target_cancellation_db", 14.5, set()),
    ("centre_gain_db", -4.5, set()),
    ("output_gain_db", -7.0, set()),
    ("beam", False, set()),
    ("beam_band_hz", (800.0, 4500.0), {"beam"}),
    ("beam_max_effort_db", 12.0, set()),
    ("max_gain_db", 10.5, {"nulls"}),  # the null regions' effort limit depends on the cap
]


def _fresh(enclosure, listener, parameters):
    designer._design_cached.cache_clear()
    stage_cache.clear()
    return design_filterset(enclosure, listener, parameters, SR)


def _assert_same_design(a, b):
    np.testing.assert_array_equal(a.fir, b.fir)
    np.testing.assert_array_equal(a.design_weights, b.design_weights)
    np.testing.assert_array_equal(a.headroom_db, b.headroom_db)
    np.testing.assert_array_equal(a.diagnostics["rho"], b.diagnostics["rho"])
    assert a.latency_samples == b.latency_samples


@pytest.mark.parametrize("name", ["studio-speaker", "soundbar"])
def test_a_cached_redesign_is_the_from_scratch_design_and_recomputes_only_its_stages(name):
    preset = presets.load(name)
    enclosure, listener, base = preset.enclosure, preset.listener, preset.parameters
    for parameter, value, recomputed in CHANGES:
        changed = replace(base, **{parameter: value})
        _fresh(enclosure, listener, base)  # every stage of the preset's design cached
        before = stage_cache.computations.copy()
        cached = design_filterset(enclosure, listener, changed, SR)
        done = {stage for stage, count in (stage_cache.computations - before).items() if count}
        # the plant, its CTC / null-steering inverse and the crossovers are not computed again
        assert done == recomputed, parameter
        _assert_same_design(cached, _fresh(enclosure, listener, changed))


def test_a_width_change_factorises_nothing(monkeypatch):
    # The plant's inverse and the beam are reused: a new width costs products, no solve or SVD.
    preset = presets.load("studio-speaker")
    design_filterset(preset.enclosure, preset.listener, preset.parameters, SR)
    calls = []
    for name in ("solve", "svd", "inv", "lstsq"):
        real = getattr(np.linalg, name)
        monkeypatch.setattr(np.linalg, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    design_filterset(preset.enclosure, preset.listener, replace(preset.parameters, width_deg=26.3), SR)
    assert calls == []


def test_a_new_listener_position_recomputes_the_plant_and_its_inverse():
    preset = presets.load("studio-speaker")
    design_filterset(preset.enclosure, preset.listener, preset.parameters, SR)
    before = stage_cache.computations.copy()
    moved = preset.listener.moved(lateral_offset_m=0.013)
    design_filterset(preset.enclosure, moved, preset.parameters, SR)
    done = stage_cache.computations - before
    assert done["plant"] == 3 and done["cancellation"] == 1  # the listener and its null region


@pytest.mark.parametrize("rows_count, drivers", [(4, 5), (2, 5), (2, 2), (6, 3)])
def test_the_regularised_inverse_solves_the_weighted_ridge_problem(rows_count, drivers):
    # Reference: the normal equations (AᴴVA + λI) w = AᴴVt (over-determined) or the weighted
    # minimum-norm form Aᴴ(AAᴴ + λV⁻¹)⁻¹t (under-determined), solved by weighted_least_norm.
    rng = np.random.default_rng(rows_count * 10 + drivers)
    rows = rng.standard_normal((rows_count, drivers, 64)) + 1j * rng.standard_normal((rows_count, drivers, 64))
    targets = rng.standard_normal((rows_count, 64)) + 1j * rng.standard_normal((rows_count, 64))
    weights = rng.uniform(0.5, 10.0, rows_count)
    inverse = RegularisedInverse(rows, weights)
    for reg in (1e-8, 1e-3, 1.0):
        expected = weighted_least_norm(rows, targets, weights, relative_regularization=reg)
        got = inverse.solve(targets, reg)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9 * np.abs(expected).max())
    # and a subset of frequencies is the same subset of the full solution, bit for bit
    columns = np.array([3, 17, 40])
    np.testing.assert_array_equal(inverse.apply(inverse.project(targets), 1e-3, columns),
                                  inverse.apply(inverse.project(targets), 1e-3)[:, columns])


def test_cache_hands_out_read_only_values_and_keeps_within_its_budget(monkeypatch):
    stage_cache.clear()
    calls = []
    first = stage_cache.cached("test", "a", lambda: calls.append(1) or np.ones(3))
    with pytest.raises(ValueError):
        first[:] = 5.0
    assert stage_cache.cached("test", "a", lambda: calls.append(1) or np.zeros(3)) is first
    assert len(calls) == 1
    monkeypatch.setattr(stage_cache, "MAX_BYTES", 10 * 8000)
    for k in range(20):
        stage_cache.cached("test", k, lambda: np.zeros(1000))
        assert stage_cache.cached_bytes() <= stage_cache.MAX_BYTES
    stage_cache.cached("test", "a", lambda: calls.append(1) or np.ones(3))  # least recently used: dropped
    assert len(calls) == 2
    # one stage filling up drops its own oldest entries, not another stage's
    monkeypatch.setattr(stage_cache, "MAX_BYTES", 2**30)
    stage_cache.cached("other", "kept", lambda: np.ones(1))
    for k in range(stage_cache.MAX_ENTRIES_PER_STAGE + 5):
        stage_cache.cached("test", ("many", k), lambda: np.zeros(1))
    assert stage_cache.cached("other", "kept", lambda: np.zeros(1))[0] == 1.0
    assert stage_cache.cached("test", ("many", 0), lambda: np.full(1, 7.0))[0] == 7.0  # recomputed
    stage_cache.clear()

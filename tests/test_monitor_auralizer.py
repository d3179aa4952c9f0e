"""The listening simulation: Auralizer against scipy, streaming, the reference pair, room depth."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from soundstage import ParameterError, presets
from soundstage.acoustics import Driver, Enclosure, Listener
from soundstage.acoustics.plant import plant_impulse_responses
from soundstage.acoustics.room import room_by_name
from soundstage.design import TargetCurve, design_filterset
from soundstage.monitor import Auralizer, StereoReference, stereo_pair
from soundstage.monitor.metrics import (
    AzimuthEstimator,
    channel_separation_db,
    diffuse_drr_db,
    direct_to_reverberant_db,
    third_octave_bands,
)

FS = 48000


@pytest.fixture(scope="module")
def studio():
    return presets.load("studio-speaker")


def test_single_driver_impulse_gives_the_plant_impulse_response(studio):
    aur = Auralizer(studio.enclosure, studio.listener, head="sphere")
    plant, _ = plant_impulse_responses(studio.enclosure, studio.listener, FS, 1024, head="sphere")
    for driver in (0, 3):
        feeds = np.zeros((5, 1100), dtype=np.float32)
        feeds[driver, 0] = 1.0
        ears = aur(feeds, FS)
        expected = plant[:, driver, :]
        assert np.max(np.abs(ears[:, :1024] - expected)) <= 1e-6 * np.max(np.abs(expected))
        assert np.max(np.abs(ears[:, 1024:])) <= 1e-6 * np.max(np.abs(expected))  # FFT round-off only


@pytest.mark.parametrize("room", [None, "living-room"])
def test_equals_scipy_oaconvolve_of_the_feeds(studio, room):
    aur = Auralizer(studio.enclosure, studio.listener, room=room, head="sphere", max_order=3)
    irs = aur.impulse_responses(FS)
    feeds = np.random.default_rng(1).standard_normal((5, 3000)).astype(np.float32)
    expected = np.stack([
        sum(scipy.signal.oaconvolve(feeds[d].astype(float), irs[e, d])[:3000] for d in range(5)) for e in range(2)
    ])
    ears = aur(feeds, FS)
    assert ears.dtype == np.float32 and ears.shape == (2, 3000)
    assert np.max(np.abs(ears - expected)) <= 2e-5 * np.max(np.abs(expected))


def test_streaming_in_random_chunks_equals_one_call_bitwise(studio):
    aur = Auralizer(studio.enclosure, studio.listener, room="living-room", head="sphere", max_order=2,
                    partition_size=256)
    feeds = np.random.default_rng(2).standard_normal((5, 9000)).astype(np.float32)
    one_shot = aur(feeds, FS)
    rng = np.random.default_rng(3)
    parts, start = [], 0
    while start < feeds.shape[1]:
        n = int(rng.integers(1, 1500))
        parts.append(aur(feeds[:, start:start + n], FS, reset=False))
        start += n
    parts.append(aur.flush())
    assert np.array_equal(np.concatenate(parts, axis=1), one_shot)


def test_latency_is_the_convolver_partition_and_the_bulk_delay_is_not_readded(studio):
    aur = Auralizer(studio.enclosure, studio.listener, head="sphere", partition_size=128)
    feeds = np.zeros((5, 2000), dtype=np.float32)
    feeds[0, 0] = 1.0
    aur.prepare(FS, 5, 2000)
    assert aur.latency_samples == 128
    raw = aur.process_block(feeds)  # raw stream: delayed by the partition only
    one_shot = aur(feeds, FS)
    assert np.array_equal(raw[:, 128:], one_shot[:, :-128])
    # The 2.5 m propagation (≈ 350 samples) is removed: the direct sound arrives within 40 samples + margin.
    assert 32 <= int(np.argmax(np.abs(one_shot[0]))) < 80


def test_stereo_reference_is_the_stereo_pair_preset_and_places_a_source_at_its_width():
    ref = StereoReference()
    preset = Auralizer.from_preset("stereo-pair")
    assert np.array_equal(ref.impulse_responses(FS), preset.impulse_responses(FS))
    wide = StereoReference(width_deg=45.0, distance_m=2.0)
    estimator = AzimuthEstimator(presets_head(), FS)
    left_only = np.zeros((2, 2048), dtype=np.float32)
    left_only[0, 0] = 1.0
    assert estimator.estimate(wide(left_only, FS)) == pytest.approx(45.0, abs=0.3)
    assert estimator.estimate(ref(left_only, FS)) == pytest.approx(30.0, abs=0.3)


def presets_head():
    from soundstage.acoustics.heads import make_head

    return make_head("sphere")


def test_omni_source_drr_in_the_living_room_follows_the_diffuse_field_estimate():
    room = room_by_name("living-room")
    omni = Enclosure("omni", (Driver("source", (0.0, 0.0, 0.0), (-1.0, 0.0, 0.0), 0.02, "monopole"),))
    drr = {}
    for distance in (1.0, 2.5):
        irs = Auralizer(omni, Listener(distance_m=distance), room=room, head="free-field").impulse_responses(FS)
        drr[distance] = direct_to_reverberant_db(irs[0, 0], FS)
    predicted = diffuse_drr_db(2.5, room.volume_m3, room.sabine_t60_s())
    assert predicted == pytest.approx(-11.5, abs=0.05)  # oracles.md: r_c = 0.662 m
    # Image-source model at 2.5 m: −11.85 dB, 0.3 dB below the diffuse-field estimate.
    assert drr[2.5] == pytest.approx(predicted, abs=1.5)
    # The reverberant level does not depend on distance: DRR falls by 20·log10(2.5) = 7.96 dB.
    assert drr[1.0] - drr[2.5] == pytest.approx(20 * np.log10(2.5), abs=1.5)


def test_a_perfect_inverse_cancels_by_40_db_on_its_own_plant():
    """Stereo dipole, virtualizer bypassed, flat 50 dB target, G_max 30 dB, 200 ms filters: χ ≥ 40 dB.

    (With the presets' 40 ms filters the truncation of the inverse limits χ to ≈ 34 dB.)
    """
    dipole = presets.load("stereo-dipole")
    parameters = dipole.parameters.replace(bypass=frozenset({"virtualizer"}), target=TargetCurve((100.0, 16000.0), (50.0, 50.0)),
                                           max_gain_db=30.0, filter_length_ms=200.0, modelling_delay_ms=20.0)
    filters = design_filterset(dipole.enclosure, dipole.listener, parameters, FS)
    aur = Auralizer(dipole.enclosure, dipole.listener, head="sphere")
    left, right = (aur(np.pad(filters.fir[side], ((0, 0), (0, 2048))), FS) for side in (0, 1))
    bands = third_octave_bands(300.0, 6000.0)
    chi = channel_separation_db(left, right, FS, bands)
    assert np.min(chi.left_db) >= 40.0 and np.min(chi.right_db) >= 40.0
    assert np.all(filters.headroom_db <= 30.0 + 0.1)


def test_binaural_processor_is_the_auralized_driver_feeds():
    from soundstage.monitor import BinauralProcessor
    from soundstage.processor import SpatialProcessor

    stereo = np.zeros((2, 4000), dtype=np.float32)
    stereo[0, 1000] = 1.0  # left only, after the filters' modelling delay (no acausal part is cut)
    drivers = SpatialProcessor("compact-speaker")(stereo, FS)
    ears = BinauralProcessor(SpatialProcessor("compact-speaker"))(stereo, FS)
    expected = Auralizer.from_preset("compact-speaker")(drivers, FS)
    assert np.max(np.abs(ears - expected)) <= 1e-5 * np.max(np.abs(expected))


def test_errors_name_the_argument(studio):
    with pytest.raises(ParameterError, match="room must be one of"):
        Auralizer(studio.enclosure, room="attic")
    with pytest.raises(ParameterError, match="partition_size must be a power of two"):
        Auralizer(studio.enclosure, partition_size=500)
    with pytest.raises(ParameterError, match="enclosure must be an Enclosure"):
        Auralizer("studio-speaker")
    with pytest.raises(ParameterError, match="takes 5 driver feeds"):
        Auralizer(studio.enclosure)(np.zeros((2, 100), dtype=np.float32), FS)
    with pytest.raises(ParameterError, match="width_deg must be in"):
        stereo_pair(2.0, 95.0)

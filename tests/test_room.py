"""The shoebox room: image sources, reverberation figures, binaural room responses."""

import itertools

import numpy as np
import pytest

from soundstage import GeometryError, ParameterError
from soundstage.acoustics.geometry import Driver, Enclosure, Listener
from soundstage.acoustics.heads.base import FreeFieldEars
from soundstage.acoustics.plant import plant_impulse_responses
from soundstage.acoustics.room import (
    ROOMS,
    Room,
    critical_distance_m,
    image_source_count,
    image_sources,
    room_by_name,
    sabine_t60_s,
)
from soundstage.acoustics.room_response import room_impulse_responses

FS = 48000
C = 343.0
LIVING = ROOMS["living-room"]


def _mono(axis=(-1.0, 0, 0), model="monopole", radius_m=0.02):
    return Enclosure("mono", (Driver("d", (0.0, 0.0, 0.0), axis, radius_m, model),))


def _edc_t60_s(h, sample_rate, low_db=-5.0, high_db=-25.0):
    """Schroeder backward integration; T60 from the slope between low_db and high_db."""
    edc = np.cumsum(h[::-1] ** 2)[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-300)
    t = np.arange(h.size) / sample_rate
    sel = (edc_db < low_db) & (edc_db > high_db)
    return -60.0 / np.polyfit(t[sel], edc_db[sel], 1)[0]


@pytest.mark.parametrize("order, count", [(0, 1), (1, 7), (2, 25), (3, 63), (10, 1561)])
def test_image_source_counts(order, count):
    assert image_source_count(order) == count
    positions, gains, orders = image_sources(LIVING, (1.0, 1.5, 0.5), order)
    assert positions.shape == (count, 3) and gains.shape == orders.shape == (count,)
    assert len({tuple(np.round(p, 9)) for p in positions}) == count  # all distinct
    assert np.all(np.diff(orders) >= 0) and orders[0] == 0


def test_first_order_images_of_a_known_room():
    absorption = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    room = Room((5.0, 4.0, 2.7), absorption, (2.0, 2.0, 1.2))
    positions, gains, orders = image_sources(room, (1.0, 1.5, 0.5), 1)
    np.testing.assert_array_equal(positions[0], [1.0, 1.5, 0.5])
    expected = {  # image position → wall it mirrors in
        (-1.0, 1.5, 0.5): 0, (9.0, 1.5, 0.5): 1, (1.0, -1.5, 0.5): 2,
        (1.0, 6.5, 0.5): 3, (1.0, 1.5, -0.5): 4, (1.0, 1.5, 4.9): 5,
    }
    got = {tuple(np.round(p, 12)): g for p, g in zip(positions[1:], gains[1:])}
    assert set(got) == set(expected)
    for position, wall in expected.items():
        assert got[position] == pytest.approx(np.sqrt(1 - absorption[wall]), rel=1e-12)


def test_images_match_recursive_mirroring():
    # Independent oracle: mirror the source in the six walls recursively (order ≤ 3), keeping the
    # product of the walls' β along each path; the distinct positions and gains must agree.
    absorption = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    dims = np.array([5.0, 4.0, 2.7])
    room = Room(tuple(dims), tuple(absorption), (2.0, 2.0, 1.2))
    beta = np.sqrt(1 - absorption)
    src = np.array([1.0, 1.5, 0.5])
    found = {tuple(src): 1.0}
    frontier = [(src, 1.0, None)]
    for _ in range(3):
        nxt = []
        for p, g, last in frontier:
            for wall, (axis, side) in enumerate(itertools.product(range(3), (0, 1))):
                if wall == last:
                    continue
                q = p.copy()
                q[axis] = -q[axis] if side == 0 else 2 * dims[axis] - q[axis]
                key = tuple(np.round(q, 9))
                if key not in found:
                    found[key] = g * beta[wall]
                    nxt.append((q, g * beta[wall], wall))
        frontier = nxt
    positions, gains, _ = image_sources(room, src, 3)
    got = {tuple(np.round(p, 9)): g for p, g in zip(positions, gains)}
    assert set(got) == set(found)
    for key, g in found.items():
        assert got[key] == pytest.approx(g, rel=1e-12)


def test_reverberation_figures():
    assert sabine_t60_s((5, 4, 2.7), 0.2) == pytest.approx(0.161 * 54 / (88.6 * 0.2), rel=1e-12)
    room = Room.from_t60((5, 4, 2.7), 0.4)
    assert room.sabine_t60_s() == pytest.approx(0.4, rel=1e-12)
    assert room.absorption[0] == pytest.approx(0.161 * 54 / (88.6 * 0.4), rel=1e-12)
    assert room.eyring_t60_s() < room.sabine_t60_s()
    assert critical_distance_m(54.0, 0.4) == pytest.approx(0.662, abs=5e-4)
    assert critical_distance_m(54.0, 0.4, directivity_index_db=4.77) == pytest.approx(1.147, abs=5e-4)


def test_built_in_rooms():
    assert room_by_name("anechoic") is None
    living, studio = room_by_name("living-room"), room_by_name("studio")
    assert living.dimensions_m == (5.0, 4.0, 2.7) and living.sabine_t60_s() == pytest.approx(0.4)
    assert studio.sabine_t60_s() == pytest.approx(0.25)
    for room in (living, studio):  # the default enclosure distance fits in front of the listener
        room.check_fits(_mono(), Listener(distance_m=2.5))


def test_direct_part_equals_the_plant_and_anechoic_has_no_reflections():
    enc = Enclosure("pair", (Driver("l", (0, 0.085, 0), (0, 1.0, 0), 0.025, "cap"),
                             Driver("r", (0, -0.085, 0), (0, -1.0, 0), 0.025, "cap")),
                    body="sphere", body_radius_m=0.0875)
    listener = Listener(distance_m=2.0, lateral_offset_m=0.05)
    rr = room_impulse_responses(enc, listener, LIVING, FS, max_order=2, head="sphere", late_tail=False)
    plant, delay = plant_impulse_responses(enc, listener, FS, 1024, head="sphere")
    assert rr.delay_removed_samples == delay
    np.testing.assert_array_equal(rr.direct[..., :1024], plant)
    assert np.all(rr.direct[..., 1024:] == 0)
    np.testing.assert_array_equal(rr.full, rr.direct + rr.early + rr.late)
    free = room_impulse_responses(enc, listener, None, FS, head="sphere", n_taps=2048)
    assert free.full.shape == (2, 2, 2048) and not np.any(free.early) and not np.any(free.late)


def test_reflections_match_the_exact_image_sum_for_small_ears():
    # Tiny free-field ears make the direction grid irrelevant: the reflections must equal
    # Σ β/r · exp(−jωτ) of the images (band-limited delays) below 12 kHz.
    listener = Listener(distance_m=2.5, head_radius_m=0.005)
    rr = room_impulse_responses(_mono(), listener, LIVING, FS, max_order=2, head=FreeFieldEars(0.005),
                                late_tail=False, n_taps=4096)
    src = LIVING.to_room(listener.enclosure_position_m)
    positions, gains, orders = image_sources(LIVING, src, 2)
    ear = LIVING.to_room([0.0, 0.005, 0.0])
    r = np.linalg.norm(positions[1:] - ear, axis=-1)
    f = np.fft.rfftfreq(4096, 1 / FS)
    band = (f > 20) & (f < 12000)
    tau = r / C - rr.delay_removed_samples / FS
    exact = np.sum(gains[1:, None] / r[:, None] * np.exp(-2j * np.pi * f[band] * tau[:, None]), axis=0)
    got = np.fft.rfft(rr.early[0, 0] + rr.late[0, 0])[band]
    assert np.max(np.abs(got - exact)) < 0.02 * np.max(np.abs(exact))


def test_image_directivity_uses_mirrored_axes():
    # A piston firing away from the listener, at the wall behind the enclosure (+x): the x1
    # reflection leaves it on axis and must be as strong as a monopole's.
    listener = Listener(distance_m=2.5)
    kwargs = dict(max_order=1, head=FreeFieldEars(), late_tail=False, n_taps=2048)
    away = room_impulse_responses(_mono((1.0, 0, 0), "piston", 0.05), listener, LIVING, FS, **kwargs)
    omni = room_impulse_responses(_mono(), listener, LIVING, FS, **kwargs)
    toward = room_impulse_responses(_mono((-1.0, 0, 0), "piston", 0.05), listener, LIVING, FS, **kwargs)
    src = LIVING.to_room(listener.enclosure_position_m)
    image = np.array([2 * LIVING.dimensions_m[0] - src[0], src[1], src[2]])
    at = int(round(np.linalg.norm(image - LIVING.to_room([0, 0, 0])) / C * FS)) - away.delay_removed_samples
    window = slice(at - 16, at + 16)

    def energy(rr):
        return float(np.sum(rr.early[0, 0, window] ** 2))

    assert energy(away) == pytest.approx(energy(omni), rel=0.1)
    assert energy(toward) < 0.1 * energy(omni)  # the same wall seen from the piston's back


def test_turning_the_room_around_the_listener_changes_nothing():
    a = Room((5.0, 4.0, 2.7), 0.3, (5.0 / 3.0, 1.5, 1.2), "+x")
    b = Room((4.0, 5.0, 2.7), 0.3, (2.5, 5.0 / 3.0, 1.2), "+y")  # frame left = room −x
    enc = Enclosure("pair", (Driver("l", (0, 0.085, 0), (0, 1.0, 0), 0.03, "piston"),
                             Driver("r", (0, -0.085, 0), (0, -1.0, 0), 0.03, "piston")))
    kwargs = dict(max_order=3, head=FreeFieldEars(), late_tail=False, n_taps=4096)
    ra = room_impulse_responses(enc, Listener(2.5), a, FS, **kwargs)
    rb = room_impulse_responses(enc, Listener(2.5), b, FS, **kwargs)
    np.testing.assert_allclose(rb.full, ra.full, atol=1e-9 * np.max(np.abs(ra.full)))
    assert not np.allclose(ra.early[0, 0], ra.early[1, 1])  # the room is not left/right symmetric


def test_energy_decay_follows_t60_and_drr_follows_the_diffuse_field_estimate():
    rr = room_impulse_responses(_mono(), Listener(distance_m=2.5), LIVING, FS, head=FreeFieldEars())
    t60 = _edc_t60_s(rr.full[0, 0], FS)
    assert t60 == pytest.approx(LIVING.sabine_t60_s(), rel=0.25)
    direct = np.sum(rr.direct[0, 0] ** 2)
    reverberant = np.sum((rr.early[0, 0] + rr.late[0, 0]) ** 2)
    drr_db = 10 * np.log10(direct / reverberant)
    oracle_db = 20 * np.log10(critical_distance_m(LIVING.volume_m3, 0.4) / 2.5)  # −11.5 dB
    assert oracle_db == pytest.approx(-11.5, abs=0.05)
    assert drr_db == pytest.approx(oracle_db, abs=3.0)
    # Early reflections come within 80 ms of the direct sound, the tail only in `late`.
    first = np.argmax(np.abs(rr.direct[0, 0]) > 0.5 * np.max(np.abs(rr.direct[0, 0])))
    assert not np.any(rr.early[0, 0, first + int(0.081 * FS) + 256 :])
    assert np.all(rr.tail_start_samples < rr.full.shape[-1])


def test_bad_input():
    with pytest.raises(GeometryError, match="enclosure 'mono' .* is outside the room"):
        room_impulse_responses(_mono(), Listener(distance_m=4.0), LIVING, FS, head=FreeFieldEars())
    with pytest.raises(GeometryError, match="listener_position_m .* outside the room"):
        Room((5, 4, 2.7), 0.2, (6.0, 1.0, 1.0))
    with pytest.raises(ParameterError, match="absorption must be one value or six values"):
        Room((5, 4, 2.7), 1.5)
    with pytest.raises(ParameterError, match="dimensions_m"):
        Room((5, -4, 2.7))
    with pytest.raises(ParameterError, match="listener_facing"):
        Room(listener_facing="up")
    with pytest.raises(ParameterError, match="too short"):
        Room.from_t60((5, 4, 2.7), 0.05)
    with pytest.raises(ParameterError, match="room must be one of"):
        room_by_name("cathedral")
    with pytest.raises(ParameterError, match="max_order"):
        image_sources(LIVING, (1, 1, 1), -1)
    with pytest.raises(GeometryError, match="source_position_m"):
        image_sources(LIVING, (1, 1, 9), 2)
    with pytest.raises(ParameterError, match="sample_rate"):
        room_impulse_responses(_mono(), Listener(), LIVING, 0)

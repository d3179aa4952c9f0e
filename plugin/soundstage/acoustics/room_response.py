"""Binaural room impulse responses of an enclosure in a shoebox room (image sources + late tail).

Method
------
*Direct sound* — :func:`~.plant.plant_impulse_responses`, exact (the full head model at every
rFFT bin), with its delay convention: every response of a :class:`RoomResponse` is the true
response advanced by ``delay_removed_samples``.

*Reflections* — every image source of order 1..N (:func:`~.room.image_sources`) of every driver
contributes ``β-product / r`` times

* the driver's directivity in the image's emission direction mirrored back into the real
  driver's axes (an odd number of reflections off the x walls flips the x component, and so on),
  from a table over the angle to the driver axis in 1° steps (all three models are axisymmetric);
* the head's ear responses for the arrival direction in the head frame, from a grid of 5° in
  azimuth × 10° in elevation (sources at :data:`HEAD_GRID_DISTANCE_M`), nearest grid point;

both tabulated on the rFFT grid of a short block of :data:`block_length` samples (256 at
48 kHz, scaled with the sample rate) and cached per (head, sample rate). Each image's block is
``irfft`` of the product times ``exp(−jω(δ + P))``: its fractional delay ``δ`` is applied
exactly in the frequency domain (a band-limited delay) after a pre-delay ``P`` of a quarter
block that leaves room for acausal parts; the block is then added at its whole-sample delay with
one ``np.bincount`` scatter. Head responses longer than the block (measured HRIRs have
low-level tails of several ms) are time-aliased into it; the reflections are approximate in that
respect, the direct sound is not.

*Early / late* — ``early`` holds the reflections that arrive within ``early_ms`` (80 ms) of their
driver's direct sound, ``late`` all later ones plus the statistical tail.

*Late tail* (``late_tail=True``) — the image set of order ≤ N is complete only until the first
image of order N + 1 arrives (``t_x``). Images arriving later are dropped and replaced by
Gaussian noise (seeded, independent per ear and driver) with the envelope ``exp(−6.91 t/T60)``
of the room's Sabine T60 (the figure rooms are specified by; a pure image-source response of a
shoebox decays between Eyring's rate and slightly slower than Sabine's, since the paths along
the longest dimension meet fewer walls), scaled so that its energy in the 20 ms before ``t_x``
equals that of the reflections there. The tail is white; it carries no head or directivity
colouring.

References
----------
J. B. Allen and D. A. Berkley, JASA 65(4), 1979. H. Kuttruff, *Room Acoustics*, 2009.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError
from .directivity import driver_directivity
from .frame import SPEED_OF_SOUND_M_S, cartesian_to_spherical, spherical_to_cartesian
from .geometry import Enclosure, Listener
from .heads.base import HeadModel
from .plant import plant_impulse_responses, resolve_head, yaw_matrix
from .room import Room, _image_gains, _image_lattice

__all__ = ["RoomResponse", "room_impulse_responses", "block_length", "HEAD_GRID_DISTANCE_M"]

#: Head grid steps (degrees) and source distance (m) of the tabulated ear responses.
HEAD_GRID_AZIMUTH_STEP_DEG = 5.0
HEAD_GRID_ELEVATION_STEP_DEG = 10.0
HEAD_GRID_DISTANCE_M = 3.0
#: Directivity table step over the angle from the driver axis (degrees).
DIRECTIVITY_STEP_DEG = 1.0
#: Window before the tail's start over which its level is matched (s).
TAIL_MATCH_WINDOW_S = 0.020

_head_grid_cache: "weakref.WeakKeyDictionary[HeadModel, dict]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class RoomResponse:
    """Impulse responses from every driver to both ears in a room, each ``(2, n_drivers, n_taps)``.

    ``full = direct + early + late``; all are advanced by ``delay_removed_samples`` (whole
    samples) relative to absolute time, as :func:`~.plant.plant_impulse_responses` does.
    ``tail_start_samples`` is where the statistical tail starts per driver (``n_taps`` if none).
    """

    direct: np.ndarray
    early: np.ndarray
    late: np.ndarray
    full: np.ndarray
    delay_removed_samples: int
    sample_rate: float
    tail_start_samples: np.ndarray


def block_length(sample_rate: float) -> int:
    """Length of the per-image block: 256 samples at 48 kHz, a power of two ≥ 64 in general."""
    return int(max(64, 2 ** round(np.log2(256.0 * sample_rate / 48000.0))))


def _head_grid(head: HeadModel, sample_rate: float):
    """Ear spectra on the direction grid: (directions (G, 3) unit, spectra (G, 2, L/2+1))."""
    key = (float(sample_rate), block_length(sample_rate))
    try:
        per_head = _head_grid_cache.setdefault(head, {})
    except TypeError:  # an unhashable or non-weakref-able head: no caching
        per_head = {}
    if key not in per_head:
        az = np.arange(0.0, 360.0, HEAD_GRID_AZIMUTH_STEP_DEG)
        el = np.arange(-90.0, 90.0 + 1e-9, HEAD_GRID_ELEVATION_STEP_DEG)
        az_g, el_g = np.meshgrid(az, el, indexing="ij")
        positions = spherical_to_cartesian(az_g.ravel(), el_g.ravel(), HEAD_GRID_DISTANCE_M)
        f = np.fft.rfftfreq(key[1], 1.0 / sample_rate)
        f[0] = f[1] / 10.0
        spectra = head.response(positions, f)
        spectra[..., 0] = spectra[..., 0].real
        per_head[key] = (az.size, el.size, spectra)
    return per_head[key]


def _grid_index(vectors: np.ndarray, n_az: int, n_el: int) -> np.ndarray:
    az, el, _ = cartesian_to_spherical(vectors)
    i_az = np.round(np.mod(az, 360.0) / HEAD_GRID_AZIMUTH_STEP_DEG).astype(int) % n_az
    i_el = np.clip(np.round((el + 90.0) / HEAD_GRID_ELEVATION_STEP_DEG).astype(int), 0, n_el - 1)
    return i_az * n_el + i_el


def _directivity_table(enclosure: Enclosure, f: np.ndarray, speed_of_sound_m_s: float) -> np.ndarray:
    """``(n_drivers, n_angles, F)``: directivity vs angle from the axis in DIRECTIVITY_STEP_DEG steps."""
    theta = np.deg2rad(np.arange(0.0, 180.0 + 1e-9, DIRECTIVITY_STEP_DEG))
    table = []
    for driver in enclosure.drivers:
        axis = np.asarray(driver.axis)
        ortho = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
        ortho /= np.linalg.norm(ortho)
        u = np.cos(theta)[:, None] * axis + np.sin(theta)[:, None] * ortho
        table.append(driver_directivity(driver, u, f, body_radius_m=enclosure.body_radius_m,
                                        speed_of_sound_m_s=speed_of_sound_m_s))
    return np.stack(table)


def _check_args(sample_rate, max_order, n_taps, early_ms):
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}")
    if int(max_order) != max_order or max_order < 0:
        raise ParameterError(f"max_order must be an integer >= 0, got {max_order!r}")
    if n_taps is not None and (int(n_taps) != n_taps or n_taps < 16):
        raise ParameterError(f"n_taps must be None or an integer >= 16, got {n_taps!r}")
    if not (np.isfinite(early_ms) and early_ms >= 0):
        raise ParameterError(f"early_ms must be >= 0 ms, got {early_ms!r}")


def room_impulse_responses(
    enclosure: Enclosure,
    listener: Listener,
    room: Room | None,
    sample_rate: float,
    *,
    max_order: int = 10,
    head=None,
    n_taps: int | None = None,
    late_tail: bool = True,
    early_ms: float = 80.0,
    seed: int = 0,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
) -> RoomResponse:
    """Driver→ear impulse responses in a shoebox room (see the module docstring for the method).

    Parameters
    ----------
    enclosure, listener : Enclosure, Listener
        The geometry; the listener's design position is ``room.listener_position_m``.
    room : Room or None
        The room; ``None`` for free field (only ``direct`` is non-zero).
    sample_rate : float
        Sample rate in Hz.
    max_order : int, keyword-only
        Highest image order (≥ 0).
    head : None, str, os.PathLike or HeadModel, keyword-only
        As for :func:`~.plant.plant_response`.
    n_taps : int or None, keyword-only
        Response length; default: until the tail has decayed by 60 dB (with ``late_tail``) or
        the last image has arrived.
    late_tail : bool, keyword-only
        Replace the incomplete image set after the first order-(N+1) arrival by a statistical tail.
    early_ms : float, keyword-only
        Reflections within this time after their driver's direct sound count as ``early``.
    seed : int, keyword-only
        Seed of the tail's noise (the result is deterministic).
    speed_of_sound_m_s : float, keyword-only
        Speed of sound in m/s.

    Returns
    -------
    RoomResponse
        ``direct``, ``early``, ``late``, ``full``: float arrays ``(2, n_drivers, n_taps)``.

    Raises
    ------
    GeometryError
        The enclosure or the head is outside the room, or the plant geometry is impossible.
    ParameterError
        Bad sample rate, order, length or timing arguments.
    """
    _check_args(sample_rate, max_order, n_taps, early_ms)
    model = resolve_head(head, listener, speed_of_sound_m_s)
    c, fs = float(speed_of_sound_m_s), float(sample_rate)
    n_drivers = enclosure.num_drivers
    if room is not None and enclosure.kind != "headphones":
        room.check_fits(enclosure, listener, model.radius_m)
    # Direct sound, on the plant's own delay convention.
    n_direct = 1024
    while True:
        try:
            direct, delay = plant_impulse_responses(enclosure, listener, fs, n_direct, head=model,
                                                    speed_of_sound_m_s=c)
            break
        except ParameterError:
            if n_direct > 2**20:
                raise
            n_direct *= 2
    if room is None or enclosure.kind == "headphones" or max_order == 0:
        n_out = n_direct if n_taps is None else int(n_taps)
        direct = _fit(direct, n_out)
        zeros = np.zeros_like(direct)
        return RoomResponse(direct, zeros, zeros.copy(), direct.copy(), delay, fs, np.full(n_drivers, n_out))

    dims = np.asarray(room.dimensions_m)
    to_room = room.frame_rotation()
    head_room = room.to_room(listener.head_position_m)
    sources = room.to_room(listener.enclosure_position_m + enclosure.positions_m())  # (D, 3)
    n, q, order = _image_lattice(int(max_order))
    gains = _image_gains(room, n, q)
    images = 2 * n * dims + (1 - 2 * q) * sources[:, None, :]  # (D, K, 3)
    distance = np.linalg.norm(images - head_room, axis=-1)  # (D, K)
    t_direct = distance[:, 0] / c
    if late_tail:
        n1, q1, order1 = _image_lattice(int(max_order) + 1)
        last = order1 == max_order + 1
        beyond = 2 * n1[last] * dims + (1 - 2 * q1[last]) * sources[:, None, :]
        t_cross = np.min(np.linalg.norm(beyond - head_room, axis=-1), axis=1) / c  # (D,)
        t60 = room.sabine_t60_s()
    else:
        t_cross = np.full(n_drivers, np.inf)
    keep = (order[None, :] >= 1) & (distance / c < t_cross[:, None]) & (gains[None, :] > 0)
    drv_idx, img_idx = np.nonzero(keep)
    r = distance[drv_idx, img_idx]
    arrival = r / c * fs - delay  # samples after the removed delay
    block = block_length(fs)
    pre = block // 4
    if n_taps is None:
        end = np.max(arrival, initial=0.0) + block
        if late_tail and np.isfinite(t60):
            end = max(end, (np.max(t_direct) + t60) * fs - delay)
        n_taps = int(np.ceil(end / 2.0) * 2)
    n_taps = int(n_taps)

    # Arrival direction in the head frame and emission direction in the real driver's axes.
    ray = images[drv_idx, img_idx] - head_room  # head → image, room axes
    to_head = to_room @ yaw_matrix(listener.yaw_deg)  # head axes → room axes
    arrival_dir = ray @ to_head
    mirror = 1 - 2 * q[img_idx]
    emission = (-ray / r[:, None]) * mirror @ to_room  # real driver's emission, frame axes
    axes = enclosure.axes()[drv_idx]
    cos_theta = np.clip(np.sum(emission * axes, axis=-1), -1.0, 1.0)
    i_theta = np.round(np.rad2deg(np.arccos(cos_theta)) / DIRECTIVITY_STEP_DEG).astype(int)

    n_az, n_el, head_spectra = _head_grid(model, fs)
    f = np.fft.rfftfreq(block, 1.0 / fs)
    f[0] = f[1] / 10.0
    dir_table = _directivity_table(enclosure, f, c)  # (D, A, Fb)
    whole = np.floor(arrival - pre).astype(int)
    frac = arrival - pre - whole  # in [0, 1)
    omega = 2 * np.pi * np.fft.rfftfreq(block)  # rad / sample
    spectra = head_spectra[_grid_index(arrival_dir, n_az, n_el)]  # (M, 2, Fb)
    spectra = spectra * (dir_table[drv_idx, i_theta] * ((gains[img_idx] / r)[:, None]
                                                        * np.exp(-1j * omega * (frac[:, None] + pre))))[:, None, :]
    blocks = np.fft.irfft(spectra, n=block, axis=-1)  # (M, 2, block)

    # Scatter: channel = (category, ear, driver); padded so blocks may run off either end.
    early = (r / c - t_direct[drv_idx]) * 1e3 <= early_ms
    stride = n_taps + 2 * block
    channel = (np.where(early, 0, 1)[:, None] * 2 + np.arange(2)[None, :]) * n_drivers + drv_idx[:, None]  # (M, 2)
    start = channel * stride + block + whole[:, None]  # (M, 2)
    index = start[..., None] + np.arange(block)
    acc = np.bincount(index.ravel(), weights=blocks.ravel(), minlength=4 * n_drivers * stride)
    acc = acc.reshape(2, 2, n_drivers, stride)[..., block : block + n_taps]
    early_ir, late_ir = acc[0], acc[1]

    tail_start = np.full(n_drivers, n_taps)
    if late_tail and np.isfinite(t60) and t60 > 0:
        late_ir, tail_start = _add_tail(early_ir + late_ir, late_ir, t_cross * fs - delay, t60 * fs,
                                        int(round(TAIL_MATCH_WINDOW_S * fs)), seed)
    direct = _fit(direct, n_taps)
    return RoomResponse(direct, early_ir, late_ir, direct + early_ir + late_ir, delay, fs, tail_start)


def _fit(ir: np.ndarray, n_taps: int) -> np.ndarray:
    """Zero-pad or truncate the last axis to ``n_taps``."""
    if ir.shape[-1] >= n_taps:
        return ir[..., :n_taps].copy()
    out = np.zeros(ir.shape[:-1] + (n_taps,))
    out[..., : ir.shape[-1]] = ir
    return out


def _add_tail(reflections, late, start_samples, t60_samples, window, seed):
    """Add the decaying-noise tail to ``late`` from ``start_samples`` (per driver) on."""
    rng = np.random.default_rng(seed)
    n_ears, n_drivers, n_taps = late.shape
    late = late.copy()
    decay = 3.0 * np.log(10.0) / t60_samples  # amplitude decay per sample (−60 dB in T60)
    starts = np.clip(np.ceil(start_samples).astype(int), 0, n_taps)
    t = np.arange(n_taps)
    for d in range(n_drivers):
        s = int(starts[d])
        if s >= n_taps:
            continue
        w0 = max(0, s - window)
        envelope_w = np.exp(-2.0 * decay * (t[w0:s] - s))
        for e in range(n_ears):
            energy = float(np.sum(reflections[e, d, w0:s] ** 2))
            if s == w0 or energy == 0.0:
                continue
            amplitude = np.sqrt(energy / np.sum(envelope_w))
            late[e, d, s:] += amplitude * np.exp(-decay * (t[s:] - s)) * rng.standard_normal(n_taps - s)
    return late, starts

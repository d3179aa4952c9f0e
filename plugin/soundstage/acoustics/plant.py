"""The plant: the transfer functions from every driver of an enclosure to the listener's two ears.

For driver ``d`` at global position ``s_d = listener.enclosure_position_m + driver.position_m``
and a head centred at ``h = listener.head_position_m`` turned by ``yaw_deg`` (positive = to
the left) the plant is

.. math::

    H_{e,d}(f) = \\frac{e^{-jk r_d}}{r_d} \\, D_d(\\hat u_{d→e}, f) \\, E_e(R_z(-\\text{yaw})(s_d − h), f)

with ``r_d = |s_d − h|`` the distance to the head centre, ``D_d`` the driver's directivity
(:func:`~.directivity.driver_directivity`) in the direction from the driver to ear ``e``, and
``E_e`` the head model's ear response (:meth:`HeadModel.response`, re the free-field pressure at
the head centre) for the source position in the head frame. The propagation uses the absolute
``1/r`` in metres, so a monopole at 2.5 m gives ``|H| ≈ 0.4`` at both ears of a free-field head.
Ear index 0 is the left ear, 1 the right ear. A headphone "enclosure" has the identity plant.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .._errors import GeometryError, ParameterError
from .directivity import driver_directivity
from .frame import SPEED_OF_SOUND_M_S, enclosure_direction
from .geometry import Enclosure, Listener
from .heads.base import HeadModel, validate_frequencies

__all__ = [
    "plant_response",
    "plant_impulse_responses",
    "enclosure_far_field",
    "resolve_head",
    "yaw_matrix",
    "PLANT_MARGIN_SAMPLES",
]

#: Samples kept before the earliest arrival by :func:`plant_impulse_responses` (pre-ringing room).
PLANT_MARGIN_SAMPLES = 32


@functools.lru_cache(maxsize=16)
def _cached_head(spec, radius_m: float, speed_of_sound_m_s: float) -> HeadModel:
    from .heads import make_head

    return make_head(spec, radius_m=radius_m, speed_of_sound_m_s=speed_of_sound_m_s)


def resolve_head(head, listener: Listener, speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S) -> HeadModel:
    """The head model for ``head or listener.head or "sphere"`` at the listener's head radius.

    Named and file heads are built once and cached (a SOFA file is read only once).
    """
    spec = head if head is not None else (listener.head if listener.head is not None else "sphere")
    if isinstance(spec, HeadModel):
        return spec
    if isinstance(spec, Path):
        spec = str(spec)
    if not isinstance(spec, str):
        from .heads import make_head  # raises the ParameterError naming what is allowed

        return make_head(spec, radius_m=listener.head_radius_m, speed_of_sound_m_s=speed_of_sound_m_s)
    return _cached_head(spec, float(listener.head_radius_m), float(speed_of_sound_m_s))


def yaw_matrix(yaw_deg: float) -> np.ndarray:
    """Rotation about z by ``yaw_deg`` (positive turns +x toward +y, i.e. to the left), ``(3, 3)``."""
    c, s = np.cos(np.deg2rad(yaw_deg)), np.sin(np.deg2rad(yaw_deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _check_speed(speed_of_sound_m_s: float) -> None:
    if not (np.isfinite(speed_of_sound_m_s) and speed_of_sound_m_s > 0):
        raise ParameterError(f"speed_of_sound_m_s must be > 0, got {speed_of_sound_m_s!r}")


def _source_positions(enclosure: Enclosure, listener: Listener, head: HeadModel) -> np.ndarray:
    """Global driver positions ``(n_drivers, 3)``, after checking the geometry is possible."""
    sources = listener.enclosure_position_m + enclosure.positions_m()
    head_centre = listener.head_position_m
    head_radius = float(head.radius_m)
    gap = float(np.linalg.norm(listener.enclosure_position_m - head_centre))
    if gap <= enclosure.body_radius_m + head_radius:
        raise GeometryError(
            f"listener head (centre {np.round(head_centre, 4).tolist()} m, radius {head_radius} m) overlaps "
            f"enclosure {enclosure.name!r} (body radius {enclosure.body_radius_m} m) {gap:.4f} m away; "
            f"move the listener farther than {enclosure.body_radius_m + head_radius:.4f} m"
        )
    distances = np.linalg.norm(sources - head_centre, axis=-1)
    for driver, distance in zip(enclosure.drivers, distances):
        if distance <= head_radius:
            raise GeometryError(
                f"driver {driver.name!r} of enclosure {enclosure.name!r} is inside the listener's head "
                f"({distance:.4f} m from its centre, radius {head_radius} m)"
            )
    return sources


def plant_response(
    enclosure: Enclosure,
    listener: Listener,
    frequencies_hz,
    *,
    head=None,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
) -> np.ndarray:
    """Complex driver→ear transfer functions.

    Parameters
    ----------
    enclosure : Enclosure
        The enclosure; driver positions are relative to its centre.
    listener : Listener
        Where the head is and how it is turned.
    frequencies_hz : array_like [shape=(F,)]
        Frequencies in Hz, > 0.
    head : None, str, os.PathLike or HeadModel, keyword-only
        Head model (see :func:`soundstage.acoustics.heads.make_head`); default
        ``listener.head`` or the rigid sphere, at ``listener.head_radius_m``.
    speed_of_sound_m_s : float, keyword-only
        Speed of sound in m/s.

    Returns
    -------
    np.ndarray [shape=(2, n_drivers, F), dtype=complex128]
        ``H[ear, driver, f]``, ear 0 = left; pressure per unit point-source strength with
        ``exp(−jkr)/r`` propagation in metres. The identity for headphones.

    Raises
    ------
    ParameterError
        Frequencies ≤ 0 or not finite; a bad speed of sound or head specification.
    GeometryError
        The head overlaps the enclosure body, or a driver lies inside the head.

    Examples
    --------
    >>> from soundstage.acoustics import Driver, Enclosure, Listener
    >>> pair = Enclosure("pair", (Driver("l", (0, 0.085, 0), (-1, 0, 0), 0.02, "monopole"),
    ...                           Driver("r", (0, -0.085, 0), (-1, 0, 0), 0.02, "monopole")))
    >>> h = plant_response(pair, Listener(distance_m=2.5), [1000.0], head="free-field")
    >>> h.shape, bool(abs(h[0, 0, 0] - h[1, 1, 0]) < 1e-12)
    ((2, 2, 1), True)
    """
    f = validate_frequencies(frequencies_hz)
    _check_speed(speed_of_sound_m_s)
    if enclosure.kind == "headphones":
        return np.broadcast_to(np.eye(2, dtype=complex)[:, :, None], (2, 2, f.size)).copy()
    model = resolve_head(head, listener, speed_of_sound_m_s)
    sources = _source_positions(enclosure, listener, model)
    head_centre = listener.head_position_m
    turn = yaw_matrix(listener.yaw_deg)
    relative = sources - head_centre  # (D, 3), frame axes
    in_head_frame = relative @ turn  # rows: R(−yaw)·v  (R orthogonal: v·R = Rᵀv)
    ears = head_centre + model.ear_positions_m() @ turn.T  # (2, 3) global
    k = 2 * np.pi * f / speed_of_sound_m_s
    r = np.linalg.norm(relative, axis=-1)  # (D,)
    propagation = np.exp(-1j * k[None, :] * r[:, None]) / r[:, None]  # (D, F)
    ear_response = model.response(in_head_frame, f)  # (D, 2, F)
    out = np.empty((2, enclosure.num_drivers, f.size), dtype=complex)
    for d, driver in enumerate(enclosure.drivers):
        emission = ears - sources[d]  # (2, 3): driver → each ear
        directivity = driver_directivity(
            driver, emission, f, body_radius_m=enclosure.body_radius_m, speed_of_sound_m_s=speed_of_sound_m_s
        )  # (2, F)
        out[:, d, :] = propagation[d] * directivity * ear_response[d]
    return out


def _arrival_window_s(
    enclosure: Enclosure, listener: Listener, head: HeadModel, speed_of_sound_m_s: float
) -> tuple[float, float]:
    """Earliest and latest arrival at the head surface over all drivers, in seconds."""
    sources = _source_positions(enclosure, listener, head)
    r = np.linalg.norm(sources - listener.head_position_m, axis=-1)
    return float(np.min(r - head.radius_m)) / speed_of_sound_m_s, float(np.max(r + head.radius_m)) / speed_of_sound_m_s


def plant_impulse_responses(
    enclosure: Enclosure,
    listener: Listener,
    sample_rate: float,
    n_taps: int,
    *,
    head=None,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
    margin_samples: int = PLANT_MARGIN_SAMPLES,
) -> tuple[np.ndarray, int]:
    """Band-limited impulse responses of :func:`plant_response`, with the bulk delay removed.

    The plant is sampled on the rFFT grid of ``n_taps`` points (the DC bin from a frequency a
    tenth of the first bin; DC and Nyquist bins made real) and inverted. The common propagation
    delay up to the earliest arrival at the head surface, less ``margin_samples``, is removed
    as a whole number of samples so that every response stays causal.

    Parameters
    ----------
    enclosure, listener, head, speed_of_sound_m_s
        As for :func:`plant_response`.
    sample_rate : float
        Sample rate in Hz, > 0.
    n_taps : int
        Impulse response length (≥ 16); must hold every arrival after the removed delay.
    margin_samples : int, keyword-only
        Samples kept before the earliest arrival (room for band-limited pre-ringing), ≥ 0.

    Returns
    -------
    impulse_responses : np.ndarray [shape=(2, n_drivers, n_taps), dtype=float64]
        ``ir[ear, driver]``. The true response is ``ir`` delayed by ``delay_removed_samples``.
    delay_removed_samples : int
        The whole-sample delay taken out; re-add it to get absolute times. 0 for headphones
        (whose responses are unit impulses at tap 0).

    Raises
    ------
    ParameterError
        Bad sample rate, ``n_taps`` or margin, or ``n_taps`` too short for the arrivals.
    GeometryError
        As for :func:`plant_response`.
    """
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}")
    if int(n_taps) != n_taps or n_taps < 16:
        raise ParameterError(f"n_taps must be an integer >= 16, got {n_taps!r}")
    if int(margin_samples) != margin_samples or margin_samples < 0:
        raise ParameterError(f"margin_samples must be an integer >= 0, got {margin_samples!r}")
    n_taps, margin_samples = int(n_taps), int(margin_samples)
    _check_speed(speed_of_sound_m_s)
    if enclosure.kind == "headphones":
        ir = np.zeros((2, 2, n_taps))
        ir[0, 0, 0] = ir[1, 1, 0] = 1.0
        return ir, 0
    model = resolve_head(head, listener, speed_of_sound_m_s)
    earliest_s, latest_s = _arrival_window_s(enclosure, listener, model, speed_of_sound_m_s)
    delay = max(0, int(np.floor(earliest_s * sample_rate)) - margin_samples)
    needed = int(np.ceil(latest_s * sample_rate)) - delay + margin_samples
    if needed > n_taps:
        raise ParameterError(
            f"n_taps = {n_taps} is too short for the plant of {enclosure.name!r}: the arrivals span "
            f"{needed} samples after the bulk delay (margin included); use n_taps >= {needed}"
        )
    f = np.fft.rfftfreq(n_taps, 1.0 / sample_rate)
    f[0] = f[1] / 10.0
    spectrum = plant_response(enclosure, listener, f, head=model, speed_of_sound_m_s=speed_of_sound_m_s)
    spectrum = spectrum * np.exp(2j * np.pi * f * delay / sample_rate)
    spectrum[..., 0] = spectrum[..., 0].real
    if n_taps % 2 == 0:
        spectrum[..., -1] = spectrum[..., -1].real
    return np.fft.irfft(spectrum, n=n_taps, axis=-1), delay


def enclosure_far_field(
    enclosure: Enclosure,
    azimuth_deg,
    frequencies_hz,
    *,
    elevation_deg=0.0,
    speed_of_sound_m_s: float = SPEED_OF_SOUND_M_S,
) -> np.ndarray:
    """Far-field response of each driver in directions seen from the enclosure.

    Parameters
    ----------
    enclosure : Enclosure
        The enclosure.
    azimuth_deg : array_like [shape=(n_directions,)]
        Azimuths seen from the enclosure (:func:`~.frame.enclosure_direction`): 0° toward the
        design listener, +90° toward the listener's left.
    frequencies_hz : array_like [shape=(F,)]
        Frequencies in Hz, > 0.
    elevation_deg : float or array_like [shape=(n_directions,)], keyword-only
        Elevations in degrees, broadcast against ``azimuth_deg``.
    speed_of_sound_m_s : float, keyword-only
        Speed of sound in m/s.

    Returns
    -------
    np.ndarray [shape=(n_directions, n_drivers, F), dtype=complex128]
        Driver directivity times ``exp(+jk û·p)``: the far-field pressure re a point source at
        the enclosure centre (the ``exp(−jkR)/R`` of the far distance left out).
    """
    f = validate_frequencies(frequencies_hz)
    _check_speed(speed_of_sound_m_s)
    az, el = np.broadcast_arrays(np.atleast_1d(np.asarray(azimuth_deg, float)), np.asarray(elevation_deg, float))
    if az.ndim != 1 or not (np.all(np.isfinite(az)) and np.all(np.isfinite(el))):
        raise ParameterError(f"azimuth_deg and elevation_deg must be finite and 1-D, got shape {az.shape}")
    u = enclosure_direction(az, el)  # (N, 3)
    k = 2 * np.pi * f / speed_of_sound_m_s
    out = np.empty((u.shape[0], enclosure.num_drivers, f.size), dtype=complex)
    for d, driver in enumerate(enclosure.drivers):
        directivity = driver_directivity(
            driver, u, f, body_radius_m=enclosure.body_radius_m, speed_of_sound_m_s=speed_of_sound_m_s
        )
        phase = np.exp(1j * k[None, :] * (u @ np.asarray(driver.position_m))[:, None])
        out[:, d, :] = directivity * phase
    return out

"""Plain feeds that tile, with the drivers time-aligned at the listener.

The plain feed of an input is the loudspeaker a naive implementation would make of the enclosure:
each driver that carries the input (``plain_feed`` ≠ 0) plays it through its crossover. For the
listener to hear one loudspeaker and not several overlapping ones, each input must reach each
frequency through **one complementary crossover path** per driver direction:

* Among the drivers carrying an input, a driver whose band starts higher takes over from the ones
  below it: a driver playing ``[lo, hi)`` hands over at the next higher band edge of the input's
  other drivers (the studio speaker's side mid, ``[200 Hz, ∞)``, hands the left input to the
  tweeter at 5 kHz, while it still plays its whole band for the crosstalk cancellation).
* The crossovers of an input form a Linkwitz–Riley tree over its band edges ``c₁ < c₂ < …``:
  a driver gets the high-pass at every edge at or below its low edge, the low-pass at the edge
  where it hands over, and the all-pass ``LP + HP`` of every edge above — the all-pass that makes
  the branches of a tree sum to ``Π_k AP_k``, flat in magnitude (Linkwitz 1976; the woofer of a
  three-way tree gets the mid/tweeter crossover's all-pass). Drivers with the same band in
  different directions (a left and a right side driver for a centred input) each carry it once.

Each driver's path is also delayed so that every driver's sound arrives at the listener's head
centre together: ``τ_d = (r_max − r_d) / c`` from the geometry (the studio tweeter sits 8.75 cm
ahead of the others, 255 µs early). :func:`plain_paths` returns, per driver and input, the factor
that multiplies the driver's own crossover ``X_d``: the rest of the tree, the alignment delay and
the ``plain_feed`` gain. The centre input has its own tree, from each driver's ``centre_feed``
(default: the sum of its ``plain_feed``): the studio speaker's centre column, woofer + top mid +
tweeter.

References
----------
S. H. Linkwitz, "Active crossover networks for noncoincident drivers", JAES 24(1), 1976.
"""

from __future__ import annotations

import numpy as np

from .crossover import linkwitz_riley_sos, sos_response

__all__ = ["alignment_delays_s", "plain_paths", "input_band_edges"]


def alignment_delays_s(enclosure, listener) -> np.ndarray:
    """Delay per driver (s, ≥ 0) that aligns every driver's arrival at the listener's head centre.

    Parameters
    ----------
    enclosure : Enclosure
    listener : Listener

    Returns
    -------
    np.ndarray [shape=(n_drivers,)]
        Zero for the farthest driver; headphones get zeros.
    """
    from ..acoustics.frame import SPEED_OF_SOUND_M_S

    if enclosure.kind == "headphones":
        return np.zeros(enclosure.num_drivers)
    positions = listener.enclosure_position_m + enclosure.positions_m() - listener.head_position_m
    distances = np.linalg.norm(positions, axis=1)
    return (distances.max() - distances) / SPEED_OF_SOUND_M_S


def _open_edges(band_hz, sample_rate):
    """The band's finite crossover edges below Nyquist (those :func:`.driver_band_sos` realises)."""
    low, high = band_hz
    has_low = 0 < low < sample_rate / 2
    has_high = high < sample_rate / 2 * 0.999
    return (low if has_low else None), (high if has_high else None)


def input_band_edges(enclosure, gains, sample_rate: float) -> tuple[float, ...]:
    """Crossover frequencies (Hz, increasing) of the tree carrying an input whose plain feed
    gives each driver ``gains[d]`` (drivers with gain 0 do not carry it)."""
    edges = set()
    for d, gain in zip(enclosure.drivers, gains):
        if gain != 0:
            edges.update(e for e in _open_edges(d.band_hz, sample_rate) if e is not None)
    return tuple(sorted(edges))


def _handover_hz(driver, carried) -> float:
    """Where ``driver`` hands the input over to a carried driver whose band starts higher."""
    low, high = driver.band_hz
    return min([high] + [d.band_hz[0] for d in carried if d.band_hz[0] > low])


def plain_paths(enclosure, listener, frequencies_hz, sample_rate: float, order: int = 4) -> np.ndarray:
    """Each driver's plain path from the left, right and centre inputs, beyond its own crossover.

    Parameters
    ----------
    enclosure : Enclosure
    listener : Listener
    frequencies_hz : np.ndarray [shape=(F,)]
    sample_rate : float
    order : int
        Linkwitz–Riley order of the crossovers.

    Returns
    -------
    np.ndarray [shape=(n_drivers, 3, F), complex]
        ``q[d, i]``: the driver's plain path from input ``i`` (left, right, centre) is
        ``X_d · q[d, i]`` (``X_d`` its own band filter, :func:`.crossover.driver_band_sos`); the
        gains are ``plain_feed`` and ``centre_feed`` (:meth:`.Enclosure.centre_mix`).
    """
    f = np.asarray(frequencies_hz, dtype=float)
    gains = np.concatenate([enclosure.plain_mix(), enclosure.centre_mix()[:, None]], axis=1)  # (N, 3)
    out = gains[:, :, None].astype(complex) * np.ones(f.size)[None, None, :]
    if enclosure.kind == "headphones":
        return out
    responses = {}

    def response(edge, btype):
        key = (edge, btype)
        if key not in responses:
            if btype == "allpass":
                responses[key] = response(edge, "lowpass") + response(edge, "highpass")
            else:
                responses[key] = sos_response(linkwitz_riley_sos(edge, sample_rate, btype, order), f, sample_rate)
        return responses[key]

    for column in range(3):
        carried = [d for d, g in zip(enclosure.drivers, gains[:, column]) if g != 0]
        edges = input_band_edges(enclosure, gains[:, column], sample_rate)
        for n, d in enumerate(enclosure.drivers):
            if gains[n, column] == 0:
                continue
            own_low, own_high = _open_edges(d.band_hz, sample_rate)
            hand = _handover_hz(d, carried)
            for edge in edges:
                if edge <= d.band_hz[0]:
                    if edge != own_low:
                        out[n, column] *= response(edge, "highpass")
                elif edge == hand:
                    if edge != own_high:
                        out[n, column] *= response(edge, "lowpass")
                else:  # the band passes both branches of this crossover: its all-pass
                    out[n, column] *= response(edge, "allpass")
    delays = alignment_delays_s(enclosure, listener)
    return out * np.exp(-2j * np.pi * f[None, :] * delays[:, None])[:, None, :]

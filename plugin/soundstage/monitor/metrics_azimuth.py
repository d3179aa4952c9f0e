"""Where a listener hears an image: azimuth from the interaural cues of a head model.

:class:`AzimuthEstimator` renders a head model's ear impulse responses for sources at known
azimuths, measures their interaural time difference (ITD, cross-correlation below 1.5 kHz) and
interaural level difference (ILD, mean one-third-octave ILD over 2–10 kHz), and inverts those
tables for the ear signals of any system — the image azimuth of a virtual source.

The rule that combines the cues (duplex theory: timing at low frequencies, level at high ones)
is a least-squares fit of both to the tables, each cue's misfit divided by its uncertainty:

.. math::

    \\hat φ = \\arg\\min_φ \\left(\\frac{ITD - ITD_{tab}(φ)}{σ_{ITD}}\\right)^2
                      + \\left(\\frac{ILD - ILD_{tab}(φ)}{σ_{ILD}}\\right)^2

(the maximum-likelihood azimuth for independent Gaussian cue errors). Each cue's weight thus
grows with the square of its table's slope: the ITD dominates near the median plane, where it
changes fastest (≈ 9 µs/°), and the ILD adds evidence where its slope is large; the
non-monotonic high-frequency ILD of a sphere (the bright spot near 90°) cannot create a
spurious answer while the ITD disagrees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .._errors import ParameterError
from ..acoustics.frame import spherical_to_cartesian
from ..acoustics.heads.base import HeadModel
from .metrics_bands import band_energies, third_octave_bands, validate_sample_rate, validate_signals
from .metrics_binaural import ITD_CUTOFF_HZ, interaural_time_difference_s

__all__ = ["AzimuthEstimate", "AzimuthEstimator", "pan_sweep_azimuths"]

# Fine grid on which the tables are interpolated before the least-squares search (degrees).
_FINE_STEP_DEG = 0.05


@dataclass(frozen=True)
class AzimuthEstimate:
    """An image azimuth and the cues it came from; see :meth:`AzimuthEstimator.estimate_cues`."""

    #: Combined estimate (degrees, positive to the left).
    azimuth_deg: float
    #: Azimuth whose table ITD is closest to the measured one (degrees).
    itd_azimuth_deg: float
    #: Azimuth whose table ILD is closest to the measured one (degrees), searched on the
    #: monotonic part of the ILD table only (between the azimuths of its minimum and maximum):
    #: a sphere's ILD falls again toward 90°, so an ILD alone cannot tell 25° from 90°.
    ild_azimuth_deg: float
    #: Measured ITD (s, positive when the left ear leads).
    itd_s: float
    #: Measured high-frequency ILD (dB, positive when the left ear is louder).
    ild_db: float


class AzimuthEstimator:
    """Image azimuth of ear signals, from the ITD and ILD tables of a head model.

    Parameters
    ----------
    head : HeadModel
        The head whose cues define the tables (e.g. ``RigidSphereHead()``).
    sample_rate : float
        Sample rate of the ear signals in Hz (≥ 22.05 kHz so the ILD band fits).
    max_azimuth_deg : float
        The tables span ``−max_azimuth_deg … +max_azimuth_deg`` (degrees, ≤ 90: front half-plane).
    step_deg : float
        Table spacing (degrees); the search interpolates the tables to 0.05°.
    distance_m : float
        Source distance used to render the tables (m); 2 m is far field for a head.
    n_taps : int
        Length of the rendered ear impulse responses.
    ild_band_hz : (float, float)
        The ILD cue is the mean per-band ILD (dB) over one-third-octave bands with centres in
        this range (Hz). A mean of band ILDs does not depend on the spectrum of the signal.
    itd_uncertainty_us, ild_uncertainty_db : float
        Cue uncertainties σ of the least-squares rule in the module docstring (µs, dB).

    Notes
    -----
    Accuracy (measured at 44.1 and 48 kHz, 0.2 s of white noise through the head's impulse
    responses): a rigid-sphere table locates rigid-sphere sources at 2 m within 0.15° from −85°
    to +85° (off-grid angles), and sources at 1 m (near field, table at 2 m) within 1.3° over
    ±60°; the estimate is antisymmetric and monotonic. Across heads the cue mismatch dominates:
    the sphere's table places measured-KEMAR sources at 28.0° / 40.0° / 53.3° for 30° / 45° / 60°
    (KEMAR's ITD is smaller than the sphere's). Processed (virtual) sources are located as well as
    their cues agree with the table head's.
    """

    def __init__(
        self,
        head: HeadModel,
        sample_rate: float,
        *,
        max_azimuth_deg: float = 90.0,
        step_deg: float = 1.0,
        distance_m: float = 2.0,
        n_taps: int = 512,
        ild_band_hz: tuple[float, float] = (2000.0, 10000.0),
        itd_uncertainty_us: float = 20.0,
        ild_uncertainty_db: float = 1.5,
    ) -> None:
        if not isinstance(head, HeadModel):
            raise ParameterError(f"head must be a HeadModel, got {type(head).__name__}")
        self.sample_rate = validate_sample_rate(sample_rate)
        if not (0 < max_azimuth_deg <= 90):
            raise ParameterError(f"max_azimuth_deg must lie in (0, 90] degrees, got {max_azimuth_deg!r}")
        if not (0 < step_deg <= max_azimuth_deg):
            raise ParameterError(f"step_deg must lie in (0, max_azimuth_deg], got {step_deg!r}")
        if not (itd_uncertainty_us > 0 and ild_uncertainty_db > 0):
            raise ParameterError(
                f"itd_uncertainty_us and ild_uncertainty_db must be > 0, got {itd_uncertainty_us!r}, "
                f"{ild_uncertainty_db!r}"
            )
        low, high = (float(b) for b in ild_band_hz)
        high = min(high, self.sample_rate / 2 / 1.13)
        self.ild_centres_hz = third_octave_bands(low, high) if low <= high else np.empty(0)
        if self.ild_centres_hz.size == 0:
            raise ParameterError(
                f"ild_band_hz {ild_band_hz!r} holds no one-third-octave band below the Nyquist frequency "
                f"of sample_rate={self.sample_rate:g}"
            )
        self.head = head
        self.itd_sigma_s = float(itd_uncertainty_us) * 1e-6
        self.ild_sigma_db = float(ild_uncertainty_db)
        n_steps = int(round(max_azimuth_deg / step_deg))
        #: Table azimuths (degrees), shape ``(n_az,)``.
        self.azimuths_deg = np.linspace(-n_steps * step_deg, n_steps * step_deg, 2 * n_steps + 1)
        positions = spherical_to_cartesian(self.azimuths_deg, 0.0, float(distance_m))
        irs = head.impulse_responses(positions, self.sample_rate, int(n_taps))  # (n_az, 2, n_taps)
        #: ITD of each table azimuth (s), shape ``(n_az,)``.
        self.itd_table_s = np.array([self._itd(ir) for ir in irs])
        #: High-frequency ILD of each table azimuth (dB), shape ``(n_az,)``.
        self.ild_table_db = self._ild(irs)
        n_fine = int(round((self.azimuths_deg[-1] - self.azimuths_deg[0]) / _FINE_STEP_DEG)) + 1
        self._fine_az = np.round(np.linspace(self.azimuths_deg[0], self.azimuths_deg[-1], n_fine), 9)
        self._fine_itd = np.interp(self._fine_az, self.azimuths_deg, self.itd_table_s)
        self._fine_ild = np.interp(self._fine_az, self.azimuths_deg, self.ild_table_db)
        low, high = sorted((int(np.argmin(self._fine_ild)), int(np.argmax(self._fine_ild))))
        self._ild_branch = slice(low, high + 1)

    def _itd(self, ears: np.ndarray) -> float:
        return interaural_time_difference_s(ears, self.sample_rate, cutoff_hz=ITD_CUTOFF_HZ)

    def _ild(self, ears: np.ndarray) -> np.ndarray:
        energies = band_energies(ears, self.sample_rate, self.ild_centres_hz)  # (..., 2, n_bands)
        floor = np.finfo(float).tiny
        ild = 10.0 * np.log10(np.maximum(energies[..., 0, :], floor) / np.maximum(energies[..., 1, :], floor))
        return np.mean(ild, axis=-1)

    def estimate_cues(self, ears) -> AzimuthEstimate:
        """Measure the ITD and ILD of ear signals and locate them in the tables.

        Parameters
        ----------
        ears : array_like [shape=(2, n)]
            Left and right ear signals at :attr:`sample_rate` (impulse responses or a broadband
            signal such as noise or music through the system).

        Returns
        -------
        AzimuthEstimate
            Combined azimuth (least-squares rule of the module docstring), the single-cue
            azimuths and the measured cues.
        """
        x = validate_signals(ears, "ears", leading_shape=(2,))
        itd = self._itd(x)
        ild = float(self._ild(x))
        misfit_itd = ((itd - self._fine_itd) / self.itd_sigma_s) ** 2
        misfit_ild = ((ild - self._fine_ild) / self.ild_sigma_db) ** 2
        return AzimuthEstimate(
            azimuth_deg=self._argmin(misfit_itd + misfit_ild),
            itd_azimuth_deg=self._argmin(misfit_itd),
            ild_azimuth_deg=self._argmin(misfit_ild, self._ild_branch),
            itd_s=itd,
            ild_db=ild,
        )

    def _argmin(self, cost: np.ndarray, within: slice = slice(None)) -> float:
        # The middle of all minimisers, so a flat cost (a cue outside the table) gives the table edge.
        cost = cost[within]
        best = np.flatnonzero(cost <= cost.min() * (1 + 1e-12) + 1e-300)
        return float(self._fine_az[within][best[len(best) // 2]])

    def estimate(self, ears) -> float:
        """Image azimuth of ear signals (degrees, positive to the left); see :meth:`estimate_cues`."""
        return self.estimate_cues(ears).azimuth_deg


def pan_sweep_azimuths(render_ears: Callable[[float], np.ndarray], pans: Iterable[float], *,
                       estimator: AzimuthEstimator) -> np.ndarray:
    """Image azimuth as a function of a pan position.

    Parameters
    ----------
    render_ears : callable(pan) -> ndarray [shape=(2, n)]
        Renders the ear signals of a source panned to ``pan`` (−1 hard right … 0 centre … +1 hard
        left, the sign of the azimuth) through the system under test.
    pans : iterable of float
        Pan positions in [−1, 1].
    estimator : AzimuthEstimator
        Locates each rendering.

    Returns
    -------
    np.ndarray [shape=(n_pans,)]
        Image azimuths in degrees (positive to the left).
    """
    pans = np.asarray(list(pans), dtype=float)
    if pans.ndim != 1 or np.any(np.abs(pans) > 1) or not np.all(np.isfinite(pans)):
        raise ParameterError(f"pans must be a 1-D sequence of values in [-1, 1], got {pans!r}")
    return np.array([estimator.estimate(render_ears(float(p))) for p in pans])

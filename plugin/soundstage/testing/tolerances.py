"""What an audio regression check tolerates: the :class:`Tolerance` dataclass.

Each field switches one comparison of an obtained render against its golden on (a number) or
off (``None``):

* ``residual_rms_dbfs``, ``residual_peak_dbfs`` — the null test: the RMS and the peak of
  ``obtained − golden`` must stay at or below these levels.
* ``band_db`` — the largest ``|difference|`` of 1/3-octave band levels (IEC 61260-1 base-10
  centres) between obtained and golden, per channel; bands where both signals lie below
  ``band_floor_dbfs`` are ignored (``None`` compares every band).
* ``loudness_lu`` — the largest difference of ITU-R BS.1770 integrated loudness, per channel.
* ``azimuth_deg``, ``separation_db`` — spatial metrics of binaural ``(2, n)`` renders: the
  largest change of the estimated source azimuth and of the interaural level difference, per
  100 ms window.
* ``bit_exact`` — every float32 sample identical, bit for bit (:meth:`Tolerance.strict`).

Levels in dBFS are ``20·log10`` of an amplitude relative to 1.0 (digital full scale): an RMS
of 1.0 (a full-scale square wave) is 0 dBFS, so a full-scale sine has an RMS of −3.01 dBFS.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from .._errors import ParameterError

__all__ = ["Tolerance"]

_POSITIVE_FIELDS = ("band_db", "loudness_lu", "azimuth_deg", "separation_db")
_LEVEL_FIELDS = ("residual_rms_dbfs", "residual_peak_dbfs")


@dataclass(frozen=True)
class Tolerance:
    """Limits of an audio regression check; ``None`` switches a comparison off.

    Parameters
    ----------
    residual_rms_dbfs : float or None
        Largest allowed RMS of the residual ``obtained − golden`` over all channels and
        samples, in dBFS (≤ 0 in practice, e.g. −80).
    residual_peak_dbfs : float or None
        Largest allowed absolute sample of the residual, in dBFS.
    band_db : float or None
        Largest allowed ``|obtained − golden|`` of any 1/3-octave band level of any channel,
        in dB (> 0).
    band_floor_dbfs : float or None
        Bands whose level is below this in both signals are not compared (dBFS of the band's
        mean-square power). ``None`` compares every band. Default −90 dBFS.
    loudness_lu : float or None
        Largest allowed difference of integrated loudness (ITU-R BS.1770-4, pyloudnorm) of any
        channel, in LU (> 0). Each channel is metered as a mono programme: driver feeds are
        no BS.1770 channel layout, and per-channel loudness also sees balance changes that a
        summed programme hides. Signals shorter than one 400 ms gating block skip it.
    azimuth_deg : float or None
        Largest allowed change of the estimated azimuth of a binaural render in any 100 ms
        window, in degrees (> 0).
    separation_db : float or None
        Largest allowed change of the interaural level difference of a binaural render in any
        100 ms window, in dB (> 0).
    bit_exact : bool
        Require identical float32 samples (bit patterns); the other fields are then redundant.

    Notes
    -----
    Tolerances combine with ``&`` (or :meth:`combine`): every comparison switched on in
    either operand is made, with the stricter limit where both set one; ``bit_exact`` is
    kept if either asks for it; the floors combine to the lower (more bands compared).

    Examples
    --------
    >>> from soundstage.testing import Tolerance
    >>> t = Tolerance.default() & Tolerance(separation_db=0.5, band_db=0.05)
    >>> t.band_db, t.residual_rms_dbfs, t.separation_db
    (0.05, -80.0, 0.5)
    """

    residual_rms_dbfs: float | None = None
    residual_peak_dbfs: float | None = None
    band_db: float | None = None
    band_floor_dbfs: float | None = -90.0
    loudness_lu: float | None = None
    azimuth_deg: float | None = None
    separation_db: float | None = None
    bit_exact: bool = False

    def __post_init__(self) -> None:
        for name in _POSITIVE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                _check_number(name, value)
                if value <= 0:
                    raise ParameterError(
                        f"Tolerance.{name} must be > 0 or None (off), got {value!r}"
                    )
        for name in (*_LEVEL_FIELDS, "band_floor_dbfs"):
            value = getattr(self, name)
            if value is not None:
                _check_number(name, value)
        if not isinstance(self.bit_exact, bool):
            raise ParameterError(
                f"Tolerance.bit_exact must be True or False, got {self.bit_exact!r}"
            )

    @classmethod
    def default(cls) -> Tolerance:
        """The tolerance used when a check names none.

        Residual RMS ≤ −80 dBFS, every 1/3-octave band within 0.1 dB (bands above −90 dBFS),
        loudness within 0.1 LU. That accepts float rounding and tiny numerical changes of
        filter design, and refuses audible ones.
        """
        return cls(residual_rms_dbfs=-80.0, band_db=0.1, loudness_lu=0.1)

    @classmethod
    def strict(cls) -> Tolerance:
        """Bit-exact comparison of the float32 samples (and nothing else)."""
        return cls(bit_exact=True)

    @property
    def active(self) -> tuple[str, ...]:
        """Names of the comparisons this tolerance switches on."""
        names = [n for n in (*_LEVEL_FIELDS, *_POSITIVE_FIELDS) if getattr(self, n) is not None]
        if self.bit_exact:
            names.insert(0, "bit_exact")
        return tuple(names)

    def combine(self, *others: Tolerance) -> Tolerance:
        """Every comparison of ``self`` and ``others``, each at its strictest limit."""
        result = self
        for other in others:
            result = result & other
        return result

    def __and__(self, other: Tolerance) -> Tolerance:
        if not isinstance(other, Tolerance):
            return NotImplemented
        values = {}
        for name in (*_LEVEL_FIELDS, *_POSITIVE_FIELDS, "band_floor_dbfs"):
            a, b = getattr(self, name), getattr(other, name)
            if name == "band_floor_dbfs":
                # None (no floor) compares the most bands: it is the stricter choice.
                values[name] = None if a is None or b is None else min(a, b)
            else:
                values[name] = b if a is None else a if b is None else min(a, b)
        values["bit_exact"] = self.bit_exact or other.bit_exact
        return Tolerance(**values)

    def as_dict(self) -> dict:
        """The fields as a JSON-ready dictionary."""
        return dataclasses.asdict(self)


def _check_number(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ParameterError(f"Tolerance.{name} must be a finite number or None, got {value!r}")

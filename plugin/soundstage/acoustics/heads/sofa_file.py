"""Reading head-related impulse responses from SOFA (AES69) files.

Supported conventions (:data:`SUPPORTED_CONVENTIONS`): ``SimpleFreeFieldHRIR`` (and
``GeneralFIR`` holding the same variables) with ``Data.IR`` ``(M, 2, N)``, and
``SimpleFreeFieldHRTF`` with ``Data.Real``/``Data.Imag`` ``(M, 2, N)`` on a uniform frequency
grid from 0 Hz to the Nyquist frequency (turned into impulse responses by an inverse rFFT).
Besides the data, ``Data.SamplingRate``, ``SourcePosition`` ``(M, 3)`` with its
``Type``/``Units`` attributes and, when present, ``Data.Delay``, ``ListenerPosition``,
``ListenerView``, ``ListenerUp`` and ``ReceiverPosition`` are read.

*Receivers.* Receiver 0 is the left ear, receiver 1 the right ear, as the SOFA conventions and
libmysofa take them. Many published files written with the older SOFA API store
``ReceiverPosition`` as ``[[0, -0.09, 0], [0, 0.09, 0]]`` (receiver 0 on the right) although
receiver 0 holds the left ear; a reader that followed the positions would mirror such files.
The order is therefore never taken from the positions; instead :mod:`.sofa_checks` compares the
positions and the data (level and arrival time of the most lateral source) with the convention
and warns (:class:`~soundstage.SofaWarning`, naming the file) where they contradict it.

*Units.* ``Data.Delay`` ``(1, 2)``, ``(M, 2)`` or ``(I, 2)`` in samples (the standard) or in
seconds (``Units="second"``); positions spherical (degree or radian, any radius in metres,
centimetres or millimetres) or Cartesian.

Every problem a file can have — missing, not HDF5, truncated, bad checksums, missing variables,
wrong shapes or types, NaN data, zero-length responses, absurd sample rates, an unsupported
convention — is reported as a :class:`SofaError` that names the file and what is wrong; no other
exception leaves :func:`read_sofa`.

References
----------
AES69-2022, "AES standard for file exchange — Spatial acoustic data file format".
P. Majdak et al., "Spatially oriented format for acoustics 2.1", AES Convention 152, 2022.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..._errors import SofaError
from ..frame import spherical_to_cartesian

__all__ = ["SofaData", "read_sofa", "SUPPORTED_CONVENTIONS", "SAMPLE_RATE_RANGE_HZ"]

#: SOFA conventions this reader understands.
SUPPORTED_CONVENTIONS = ("SimpleFreeFieldHRIR", "SimpleFreeFieldHRTF", "GeneralFIR")
#: Plausible sampling rates of measured HRIRs (Hz); anything else is a corrupt file.
SAMPLE_RATE_RANGE_HZ = (4000.0, 768000.0)
#: Largest accepted impulse-response length (samples) and number of measurements.
MAX_TAPS = 1 << 20
MAX_MEASUREMENTS = 1 << 20

_LENGTH_UNITS = {"metre": 1.0, "meter": 1.0, "metres": 1.0, "meters": 1.0, "m": 1.0,
                 "centimetre": 0.01, "centimeter": 0.01, "cm": 0.01,
                 "millimetre": 0.001, "millimeter": 0.001, "mm": 0.001}
_ANGLE_UNITS = {"degree": 1.0, "degrees": 1.0, "deg": 1.0,
                "radian": 180.0 / np.pi, "radians": 180.0 / np.pi, "rad": 180.0 / np.pi}


@dataclass(frozen=True)
class SofaData:
    """The content of a SOFA HRIR file, converted to the soundstage head frame.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    impulse_responses : np.ndarray [shape=(M, 2, N)]
        HRIRs, receiver 0 = left ear, 1 = right ear; any ``Data.Delay`` already applied.
    sample_rate : float
        Sampling rate of the HRIRs in Hz.
    source_positions_m : np.ndarray [shape=(M, 3)]
        Source positions in the head frame (x ahead, y left, z up), metres, relative to the
        listener position.
    convention : str
        The file's ``SOFAConventions``.
    receiver_positions_m : np.ndarray [shape=(2, 3)] or None
        ``ReceiverPosition`` in the listener's axes as stored (not used to order the ears).
    """

    path: Path
    impulse_responses: np.ndarray
    sample_rate: float
    source_positions_m: np.ndarray
    convention: str = "SimpleFreeFieldHRIR"
    receiver_positions_m: np.ndarray | None = None

    @property
    def directions(self) -> np.ndarray:
        """Unit vectors toward the sources, shape ``(M, 3)``."""
        return self.source_positions_m / np.linalg.norm(self.source_positions_m, axis=-1, keepdims=True)

    @property
    def distances_m(self) -> np.ndarray:
        """Measurement distances in metres, shape ``(M,)``."""
        return np.linalg.norm(self.source_positions_m, axis=-1)


def _text(value, default: str = "") -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else default
    if isinstance(value, (bytes, np.bytes_)):
        value = value.decode("utf-8", "replace")
    if value is None or not isinstance(value, (str, np.str_)):
        return default
    return str(value).strip()


def _attr_text(dataset, name: str, default: str) -> str:
    return _text(dataset.attrs.get(name, default), default).lower() or default


def _read(h5, path: Path, name: str, *, required: bool = True):
    if name not in h5:
        if required:
            raise SofaError(f"{path}: SOFA variable {name!r} is missing")
        return None
    dataset = h5[name]
    if not hasattr(dataset, "shape") or dataset.dtype.kind not in "fiu":
        raise SofaError(f"{path}: SOFA variable {name!r} must be a numeric array, got {type(dataset).__name__} "
                        f"of {getattr(dataset, 'dtype', None)}")
    if int(np.prod(dataset.shape, dtype=float)) > 4 * MAX_MEASUREMENTS * 16:
        raise SofaError(f"{path}: SOFA variable {name!r} has an absurd shape {dataset.shape}")
    data = np.asarray(dataset[()], dtype=float)
    if not np.all(np.isfinite(data)):
        raise SofaError(f"{path}: SOFA variable {name!r} contains NaN or infinite values")
    return dataset, data


def _units(dataset) -> list[str]:
    raw = _attr_text(dataset, "Units", "")
    return [u.strip() for u in raw.replace(";", ",").split(",") if u.strip()]


def _coordinates(h5, path: Path, name: str, data: np.ndarray, m: int) -> np.ndarray:
    """Return a ``(m, 3)`` Cartesian array (metres) from a SOFA position variable (``(1|m, 3[, 1])``)."""
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim == 1 and data.size == 3:
        data = data[None, :]
    if data.ndim != 2 or data.shape[1] != 3 or data.shape[0] not in (1, m):
        raise SofaError(f"{path}: SOFA variable {name!r} must have shape (1, 3) or ({m}, 3), got {data.shape}")
    kind = _attr_text(h5[name], "Type", "cartesian")
    units = _units(h5[name])
    if kind == "cartesian":
        unit = units[0] if units else "metre"
        if any(u not in _LENGTH_UNITS for u in units) or len(set(units)) > 1:
            raise SofaError(f"{path}: SOFA variable {name!r} is cartesian with units {units}; "
                            f"expected one of {sorted(set(_LENGTH_UNITS))}")
        xyz = data * _LENGTH_UNITS[unit]
    elif kind == "spherical":
        if len(units) == 1 and units[0] in _ANGLE_UNITS:
            units = [units[0], units[0], "metre"]
        units = (units + ["degree", "degree", "metre"][len(units):])[:3]
        if units[0] not in _ANGLE_UNITS or units[1] not in _ANGLE_UNITS or units[2] not in _LENGTH_UNITS:
            raise SofaError(f"{path}: SOFA variable {name!r} is spherical with units {units}; "
                            "expected 'degree, degree, metre' (or radian; metre, centimetre or millimetre)")
        xyz = spherical_to_cartesian(data[:, 0] * _ANGLE_UNITS[units[0]], data[:, 1] * _ANGLE_UNITS[units[1]],
                                     data[:, 2] * _LENGTH_UNITS[units[2]])
    else:
        raise SofaError(f"{path}: SOFA variable {name!r} has unknown coordinate Type {kind!r}; "
                        "expected 'cartesian' or 'spherical'")
    return np.broadcast_to(xyz, (m, 3)).astype(float)


def _head_rotation(view: np.ndarray, up: np.ndarray, path: Path) -> np.ndarray:
    """Rows: the head's x (view), y (left) and z (up) axes expressed in the file's axes."""
    if np.linalg.norm(view) == 0:
        raise SofaError(f"{path}: ListenerView {view} does not define a head orientation")
    x = view / np.linalg.norm(view)
    z = up - np.dot(up, x) * x
    if np.linalg.norm(z) < 1e-9:
        raise SofaError(f"{path}: ListenerView {view} and ListenerUp {up} do not define a head orientation")
    z = z / np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z])


def _apply_delay(ir: np.ndarray, delay_samples: np.ndarray) -> np.ndarray:
    """Delay each HRIR by ``Data.Delay`` samples (broadcast to ``(M, R)``), in the frequency domain."""
    if not np.any(delay_samples):
        return ir
    n = ir.shape[-1] + int(np.ceil(delay_samples.max()))
    n_fft = 2 * n
    spectrum = np.fft.rfft(ir, n_fft, axis=-1)
    k = np.arange(spectrum.shape[-1])
    spectrum *= np.exp(-2j * np.pi * k * delay_samples[..., None] / n_fft)
    return np.fft.irfft(spectrum, n_fft, axis=-1)[..., :n]


def _convention(h5, path: Path) -> str:
    declared = _text(h5.attrs.get("SOFAConventions", ""))
    if not declared:
        # files without the attribute: infer from the data variables
        declared = "SimpleFreeFieldHRTF" if "Data.Real" in h5 and "Data.IR" not in h5 else "SimpleFreeFieldHRIR"
    for name in SUPPORTED_CONVENTIONS:
        if declared.lower() == name.lower():
            return name
    raise SofaError(f"{path}: SOFA convention {declared!r} is not supported; soundstage reads "
                    f"{', '.join(SUPPORTED_CONVENTIONS)} (head-related impulse or transfer functions, two ears)")


def _check_sample_rate(path: Path, rate: np.ndarray, m: int) -> float:
    rate = rate.ravel()
    if rate.size not in (1, m) or np.ptp(rate) != 0:
        raise SofaError(f"{path}: SOFA variable 'Data.SamplingRate' must hold one rate, got {rate[:4]}")
    low, high = SAMPLE_RATE_RANGE_HZ
    if not low <= rate[0] <= high:
        raise SofaError(f"{path}: SOFA variable 'Data.SamplingRate' is {rate[0]:g} Hz; "
                        f"expected {low:g} … {high:g} Hz")
    return float(rate[0])


def _check_data_shape(path: Path, name: str, data: np.ndarray, min_taps: int) -> None:
    if data.ndim != 3 or data.shape[1] != 2 or data.shape[0] < 1 or data.shape[2] < min_taps:
        raise SofaError(f"{path}: SOFA variable {name!r} must have shape (M, 2, N) with M >= 1 and "
                        f"N >= {min_taps} (two receivers, non-empty responses), got {data.shape}")
    if data.shape[0] > MAX_MEASUREMENTS or data.shape[2] > MAX_TAPS:
        raise SofaError(f"{path}: SOFA variable {name!r} has an absurd shape {data.shape}")


def _hrtf_to_ir(h5, path: Path) -> tuple[np.ndarray, float]:
    """``Data.Real``/``Data.Imag`` on a uniform 0 … Nyquist grid → HRIRs and their sample rate."""
    _, real = _read(h5, path, "Data.Real")
    _, imag = _read(h5, path, "Data.Imag")
    _check_data_shape(path, "Data.Real", real, 2)
    if imag.shape != real.shape:
        raise SofaError(f"{path}: SOFA variables 'Data.Real' {real.shape} and 'Data.Imag' {imag.shape} differ in shape")
    _, freqs = _read(h5, path, "N")
    freqs = freqs.ravel()
    if freqs.size != real.shape[2] or freqs[0] != 0 or np.any(np.diff(freqs) <= 0) or \
            not np.allclose(np.diff(freqs), freqs[1] - freqs[0], rtol=1e-6):
        raise SofaError(f"{path}: SimpleFreeFieldHRTF frequencies 'N' must run uniformly from 0 Hz to the "
                        f"Nyquist frequency ({real.shape[2]} values); got {freqs[:3]} … {freqs[-1:]}")
    sample_rate = 2 * float(freqs[-1])
    low, high = SAMPLE_RATE_RANGE_HZ
    if not low <= sample_rate <= high:
        raise SofaError(f"{path}: SimpleFreeFieldHRTF up to {freqs[-1]:g} Hz implies an absurd rate {sample_rate:g} Hz")
    n = 2 * (real.shape[2] - 1)
    return np.fft.irfft(real + 1j * imag, n, axis=-1), sample_rate


def _delays(h5, path: Path, m: int, sample_rate: float) -> np.ndarray | None:
    """``Data.Delay`` as ``(m, 2)`` samples ≥ 0, or None."""
    delay = _read(h5, path, "Data.Delay", required=False)
    if delay is None:
        return None
    dataset, d = delay
    if d.ndim == 1 and d.size == 2:
        d = d[None, :]
    if d.ndim == 3 and d.shape[-1] == 1:
        d = d[..., 0]
    if d.ndim != 2 or d.shape[1] != 2 or d.shape[0] not in (1, m):
        raise SofaError(f"{path}: SOFA variable 'Data.Delay' must have shape (1, 2), (I, 2) or ({m}, 2), "
                        f"got {d.shape}")
    units = _units(dataset)
    if units and units[0] in ("second", "seconds", "s"):
        d = d * sample_rate
    elif units and units[0] not in ("samples", "sample"):
        raise SofaError(f"{path}: SOFA variable 'Data.Delay' has units {units}; expected 'samples' or 'second'")
    if np.any(d < 0) or np.any(d > MAX_TAPS):
        raise SofaError(f"{path}: SOFA variable 'Data.Delay' must be 0 … {MAX_TAPS} samples, got "
                        f"{d.min():g} … {d.max():g}")
    return np.broadcast_to(d, (m, 2))


def _read_open(h5, path: Path) -> SofaData:
    convention = _convention(h5, path)
    if convention == "SimpleFreeFieldHRTF":
        ir, sample_rate = _hrtf_to_ir(h5, path)
        m = ir.shape[0]
    else:
        _, ir = _read(h5, path, "Data.IR")
        _check_data_shape(path, "Data.IR", ir, 2)
        m = ir.shape[0]
        _, rate = _read(h5, path, "Data.SamplingRate")
        sample_rate = _check_sample_rate(path, rate, m)
    if not np.all(np.abs(ir).max(axis=-1) > 0):
        bad = np.argwhere(~(np.abs(ir).max(axis=-1) > 0))[0]
        raise SofaError(f"{path}: the impulse response of measurement {bad[0]}, receiver {bad[1]} is all zero")
    _, source = _read(h5, path, "SourcePosition")
    positions = _coordinates(h5, path, "SourcePosition", source, m)

    listener = _read(h5, path, "ListenerPosition", required=False)
    if listener is not None:
        positions = positions - _coordinates(h5, path, "ListenerPosition", listener[1], m)
    view = _read(h5, path, "ListenerView", required=False)
    view = _coordinates(h5, path, "ListenerView", view[1], 1)[0] if view is not None else np.array([1.0, 0, 0])
    up = _read(h5, path, "ListenerUp", required=False)
    up = _coordinates(h5, path, "ListenerUp", up[1], 1)[0] if up is not None else np.array([0, 0, 1.0])
    positions = positions @ _head_rotation(view, up, path).T
    if np.any(np.linalg.norm(positions, axis=-1) <= 0):
        raise SofaError(f"{path}: SOFA variable 'SourcePosition' has a source at the listener position")

    delays = _delays(h5, path, m, sample_rate)
    if delays is not None:
        ir = _apply_delay(ir, delays)

    ears = None
    receivers = _read(h5, path, "ReceiverPosition", required=False)
    if receivers is not None and receivers[1].shape[:2] == (2, 3):
        ears = _coordinates(h5, path, "ReceiverPosition", receivers[1], 2)
    return SofaData(path=path, impulse_responses=np.ascontiguousarray(ir), sample_rate=sample_rate,
                    source_positions_m=positions, convention=convention, receiver_positions_m=ears)


def read_sofa(path: str | os.PathLike, *, check_ears: bool = True) -> SofaData:
    """Read a SOFA HRIR/HRTF file into the soundstage head frame.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.sofa`` file.
    check_ears : bool, keyword-only
        Compare the receiver positions and the data with the convention that receiver 0 is the
        left ear, and warn (:class:`~soundstage.SofaWarning`) where they contradict it.

    Returns
    -------
    SofaData

    Raises
    ------
    SofaError
        Whatever is wrong with the file (see the module docstring); never another exception.

    Notes
    -----
    Source positions are converted to Cartesian metres, made relative to ``ListenerPosition``
    and rotated so that ``ListenerView`` is +x and ``ListenerUp`` is +z (defaults +x and +z).
    Receiver 0 is the left ear. A non-zero ``Data.Delay`` is applied to the impulse responses.
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise SofaError(f"{path}: SOFA file not found")
        import h5py  # deferred: only SOFA users pay for the import

        try:
            h5 = h5py.File(path, "r")
        except Exception as exc:  # h5py raises OSError, RuntimeError, ... for damaged files
            raise SofaError(f"{path}: not a readable SOFA (HDF5) file, or truncated: {exc}") from exc
        with h5:
            data = _read_open(h5, path)
    except SofaError:
        raise
    except Exception as exc:  # corrupt metadata, bad checksums, odd types: never a raw h5py error
        raise SofaError(f"{path}: corrupt or unreadable SOFA file ({type(exc).__name__}: {exc})") from exc
    if check_ears:
        from .sofa_checks import check_ear_order

        check_ear_order(data)
    return data

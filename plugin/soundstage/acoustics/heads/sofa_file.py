"""Reading head-related impulse responses from SOFA (AES69) ``SimpleFreeFieldHRIR`` files.

A SOFA file is an HDF5 (netCDF-4) file. The variables read here are ``Data.IR`` ``(M, R, N)``,
``Data.SamplingRate``, ``SourcePosition`` ``(M, 3)`` with its ``Type``/``Units`` attributes,
and, when present, ``Data.Delay``, ``ListenerPosition``, ``ListenerView``, ``ListenerUp`` and
``ReceiverPosition``. Every problem a file can have is reported as a :class:`SofaError` that
names the file and the variable.

References
----------
AES69-2022, "AES standard for file exchange — Spatial acoustic data file format".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..._errors import SofaError
from ..frame import spherical_to_cartesian

__all__ = ["SofaData", "read_sofa"]


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
    """

    path: Path
    impulse_responses: np.ndarray
    sample_rate: float
    source_positions_m: np.ndarray

    @property
    def directions(self) -> np.ndarray:
        """Unit vectors toward the sources, shape ``(M, 3)``."""
        return self.source_positions_m / np.linalg.norm(self.source_positions_m, axis=-1, keepdims=True)

    @property
    def distances_m(self) -> np.ndarray:
        """Measurement distances in metres, shape ``(M,)``."""
        return np.linalg.norm(self.source_positions_m, axis=-1)


def _attr_text(dataset, name: str, default: str) -> str:
    value = dataset.attrs.get(name, default)
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else default
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", "replace")
    return str(value).strip().lower()


def _read(h5, path: Path, name: str, *, required: bool = True):
    if name not in h5:
        if required:
            raise SofaError(f"{path}: SOFA variable {name!r} is missing")
        return None
    dataset = h5[name]
    try:
        data = np.asarray(dataset[()], dtype=float)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise SofaError(f"{path}: cannot read SOFA variable {name!r} (truncated or corrupt file?): {exc}") from exc
    if not np.all(np.isfinite(data)):
        raise SofaError(f"{path}: SOFA variable {name!r} contains NaN or infinite values")
    return dataset, data


def _coordinates(h5, path: Path, name: str, data: np.ndarray, m: int) -> np.ndarray:
    """Return a ``(m, 3)`` Cartesian array from a SOFA position variable (``(1|m, 3[, 1])``)."""
    if data.ndim == 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 2 or data.shape[1] != 3 or data.shape[0] not in (1, m):
        raise SofaError(f"{path}: SOFA variable {name!r} must have shape (1, 3) or ({m}, 3), got {data.shape}")
    kind = _attr_text(h5[name], "Type", "cartesian")
    units = [u.strip() for u in _attr_text(h5[name], "Units", "").replace(";", ",").split(",") if u.strip()]
    if kind == "cartesian":
        if units and not all(u in ("metre", "meter", "metres", "meters", "m") for u in units):
            raise SofaError(f"{path}: SOFA variable {name!r} is cartesian with units {units}; expected metre")
        xyz = data
    elif kind == "spherical":
        degrees = ("degree", "degrees", "deg")
        if any(u not in degrees for u in units[:2]):
            raise SofaError(f"{path}: SOFA variable {name!r} is spherical with units {units}; "
                            "expected 'degree, degree, metre'")
        xyz = spherical_to_cartesian(data[:, 0], data[:, 1], data[:, 2])
    else:
        raise SofaError(f"{path}: SOFA variable {name!r} has unknown coordinate Type {kind!r}; "
                        "expected 'cartesian' or 'spherical'")
    return np.broadcast_to(xyz, (m, 3)).astype(float)


def _head_rotation(view: np.ndarray, up: np.ndarray, path: Path) -> np.ndarray:
    """Rows: the head's x (view), y (left) and z (up) axes expressed in the file's axes."""
    x = view / np.linalg.norm(view)
    z = up - np.dot(up, x) * x
    if np.linalg.norm(view) == 0 or np.linalg.norm(z) < 1e-9:
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


def read_sofa(path: str | os.PathLike) -> SofaData:
    """Read a SOFA ``SimpleFreeFieldHRIR`` file into the soundstage head frame.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.sofa`` file.

    Returns
    -------
    SofaData

    Raises
    ------
    SofaError
        If the file is missing, not HDF5, truncated, misses ``Data.IR``, ``Data.SamplingRate`` or
        ``SourcePosition``, has wrong shapes, NaNs, or an unknown coordinate type or unit.

    Notes
    -----
    Source positions (spherical degree/degree/metre or Cartesian metre) are converted to
    Cartesian, made relative to ``ListenerPosition`` and rotated so that ``ListenerView`` is +x and
    ``ListenerUp`` is +z (defaults +x and +z). Receiver 0 is taken as the left ear unless
    ``ReceiverPosition`` puts it to the right of receiver 1, in which case the two are swapped.
    A non-zero ``Data.Delay`` (samples) is applied to the impulse responses.
    """
    import h5py  # deferred: only SOFA users pay for the import

    path = Path(path)
    if not path.is_file():
        raise SofaError(f"{path}: SOFA file not found")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise SofaError(f"{path}: not a readable SOFA (HDF5) file, or truncated: {exc}") from exc
    with h5:
        _, ir = _read(h5, path, "Data.IR")
        if ir.ndim != 3 or ir.shape[1] != 2 or ir.shape[0] < 1 or ir.shape[2] < 2:
            raise SofaError(f"{path}: SOFA variable 'Data.IR' must have shape (M, 2, N) with N >= 2, "
                            f"got {ir.shape}")
        m = ir.shape[0]
        _, rate = _read(h5, path, "Data.SamplingRate")
        rate = rate.ravel()
        if rate.size not in (1, m) or not np.all(rate > 0) or np.ptp(rate) != 0:
            raise SofaError(f"{path}: SOFA variable 'Data.SamplingRate' must be one positive rate, got {rate[:4]}")
        sample_rate = float(rate[0])
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

        delay = _read(h5, path, "Data.Delay", required=False)
        if delay is not None:
            d = delay[1].reshape(-1, 2) if delay[1].size in (2, 2 * m) else None
            if d is None or np.any(d < 0):
                raise SofaError(f"{path}: SOFA variable 'Data.Delay' must be (1, 2) or ({m}, 2) samples >= 0, "
                                f"got shape {delay[1].shape}")
            ir = _apply_delay(ir, np.broadcast_to(d, (m, 2)))

        receivers = _read(h5, path, "ReceiverPosition", required=False)
        if receivers is not None and receivers[1].shape[:2] == (2, 3):
            # receiver positions are in the listener's own axes: y > 0 is the left ear
            ears = _coordinates(h5, path, "ReceiverPosition", receivers[1], 2)
            if ears[0, 1] < ears[1, 1]:
                ir = ir[:, ::-1, :]
    return SofaData(path=path, impulse_responses=np.ascontiguousarray(ir), sample_rate=sample_rate,
                    source_positions_m=positions)

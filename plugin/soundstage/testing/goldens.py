"""Golden files of audio regression tests: where they live, how they are stored and written.

Storage format: float32 WAV
---------------------------
Goldens (and the obtained and residual files written on a failure) are WAV files with IEEE
float32 samples (``soundfile`` subtype ``"FLOAT"``), not 24-bit FLAC. soundstage renders
float32, and float32 WAV stores a float32 render losslessly, so

* strict mode (:meth:`~.tolerances.Tolerance.strict`) can demand bit-exactness of the render
  itself — a 24-bit FLAC golden quantises to steps of 2⁻²³ (≈ −138 dBFS) and would force the
  check to compare a *quantised* obtained signal, hiding any change below one LSB;
* a residual ``obtained − golden`` contains only the change under test, never a quantisation
  floor, so null-test tolerances mean what they say at any level (and renders above 0 dBFS,
  which an intermediate stage may produce, survive unclipped);
* one format serves every file of the check, and anyone can open it.

The price is size: 4 bytes per sample (a 2 s stereo 48 kHz golden is 768 kB, about twice a
FLAC); keep regression signals short (0.5–2 s).

Every write goes to a unique temporary file in the destination folder and is moved into place
with :func:`os.replace`, so parallel workers (pytest-xdist) and interrupted runs never leave a
half-written golden.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._atomic import publish
from .._errors import ParameterError, SoundstageError

__all__ = [
    "GoldenPaths",
    "GoldenWriteError",
    "sanitise_basename",
    "validate_basename",
    "read_audio",
    "write_audio",
    "write_text",
    "write_json",
    "audio_sha256",
    "describe_preset",
]

_BASENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


class GoldenWriteError(SoundstageError, OSError):
    """A golden or artefact file could not be written (read-only checkout, permissions)."""


@dataclass(frozen=True)
class GoldenPaths:
    """The files of one audio regression check, all in ``directory``.

    Attributes
    ----------
    directory : Path
        Folder named after the test module, beside it (``tests/test_foo/``).
    basename : str
        File stem of this check (the sanitised test name by default).
    """

    directory: Path
    basename: str
    golden_format: str = "wav"

    def _file(self, suffix: str) -> Path:
        return self.directory / f"{self.basename}{suffix}"

    @property
    def golden(self) -> Path:
        """The golden render: ``<basename>.wav`` (float32 WAV) or ``<basename>.flac`` (24-bit)."""
        return self._file(".flac" if self.golden_format == "flac" else ".wav")

    @property
    def sidecar(self) -> Path:
        """The golden's metadata, ``<basename>.json``."""
        return self._file(".json")

    @property
    def obtained(self) -> Path:
        """The render of a failed check, ``<basename>.obtained.wav``."""
        return self._file(".obtained.wav")

    @property
    def residual(self) -> Path:
        """``obtained − golden`` of a failed check, ``<basename>.residual.wav``."""
        return self._file(".residual.wav")

    @property
    def plot(self) -> Path:
        """Residual spectrogram and band differences of a failed check, ``<basename>.residual.png``."""
        return self._file(".residual.png")

    @property
    def artefacts(self) -> tuple[Path, Path, Path]:
        """The files written on a failure: obtained, residual, plot."""
        return self.obtained, self.residual, self.plot


def sanitise_basename(name: str) -> str:
    """Turn a pytest item name (``test_x[sine-0.5]``) into a file stem (``test_x_sine-0.5``)."""
    stem = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("_.")
    return stem or "audio"


def validate_basename(basename: str) -> str:
    """Check a user-given file stem: letters, digits, ``_ . -``, no folders, no leading dot."""
    if not isinstance(basename, str) or not _BASENAME.fullmatch(basename):
        raise ParameterError(
            f"basename must be a file stem of letters, digits, '_', '.', '-' (no folders, not "
            f"starting with '.' or '-'), got {basename!r}"
        )
    return basename


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Read a golden as ``(float32 (channels, n), sample_rate)``."""
    import soundfile

    with soundfile.SoundFile(str(path)) as handle:
        data = handle.read(dtype="float32", always_2d=True)
        sample_rate = handle.samplerate
        exponent = _flac_scale_exponent(handle.comment) if handle.format == "FLAC" else 0
    audio = np.ascontiguousarray(data.T)
    if exponent:
        audio = audio * np.float32(2.0**exponent)
    return audio, int(sample_rate)


_SCALE_TAG = "soundstage-scale-exponent="


def _flac_scale_exponent(comment: str | None) -> int:
    """The power of two a FLAC golden was divided by to fit full scale (0 if none)."""
    for word in (comment or "").split():
        if word.startswith(_SCALE_TAG):
            return int(word[len(_SCALE_TAG):])
    return 0


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write ``(channels, n)`` audio atomically (temporary file + replace): a float32 WAV, or a
    24-bit FLAC when ``path`` ends in ``.flac`` (compact goldens; quantised to 2^-23, −138 dBFS).

    Raises
    ------
    GoldenWriteError
        If the folder cannot be created or the file cannot be written; names path and reason.
    """
    import soundfile

    flac = Path(path).suffix == ".flac"
    audio = np.asarray(audio, dtype=np.float32)
    exponent = 0
    if flac:
        # Driver feeds may exceed full scale (crosstalk cancellation gain): divide by a power of
        # two (exact in float) to fit the 24-bit range and record it in the file's comment.
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        while peak * 2.0**-exponent >= 0.999:
            exponent += 1
        audio = audio * np.float32(2.0**-exponent)

    def dump(handle) -> None:
        if not flac:
            soundfile.write(handle, audio.T, sample_rate, format="WAV", subtype="FLOAT")
            return
        with soundfile.SoundFile(handle, "w", sample_rate, audio.shape[0], subtype="PCM_24", format="FLAC") as out:
            out.comment = f"{_SCALE_TAG}{exponent}"
            out.write(audio.T)

    _atomic_write(path, dump)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (temporary file + replace); see :func:`write_audio`."""
    _atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json(path: Path, document: dict) -> None:
    """Write a JSON document atomically, sorted keys, two-space indent."""
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False)
    # Lists of numbers on one line each: a band-level table stays readable in a diff.
    text = re.sub(r"\[\s+([-+\d.eE,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    write_text(path, text + "\n")


def _atomic_write(path: Path, dump) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise GoldenWriteError(
            f"cannot write {path}: {error.strerror or error} (is the checkout read-only?)"
        ) from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            dump(handle)
        publish(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise GoldenWriteError(f"cannot write {path}: {error.strerror or error}") from error
        raise


def audio_sha256(audio: np.ndarray) -> str:
    """SHA-256 of the float32 little-endian samples, channels first (the stored content)."""
    samples = np.ascontiguousarray(audio, dtype="<f4")
    digest = hashlib.sha256(f"{samples.shape[0]}x{samples.shape[1]}:".encode())
    digest.update(samples.tobytes())
    return digest.hexdigest()


def describe_preset(preset) -> dict | None:
    """Name and content hash of the preset a render came from, for the sidecar.

    Parameters
    ----------
    preset : None, str, os.PathLike or object
        A built-in preset name or a preset file: loaded with :func:`soundstage.presets.load`, so
        the name is the preset's own ``name`` and the hash its ``content_hash`` (the same as in a
        comparison report). A file that is not a soundstage preset: its stem and the SHA-256 of
        its bytes. A preset object: its ``name`` and ``content_hash`` (or ``sha256``, or the hash
        of its ``path`` file).

    Returns
    -------
    dict or None
        ``{"name": str, "sha256": str | None}``, or ``None`` for ``preset=None``.
    """
    if preset is None:
        return None
    if isinstance(preset, (str, os.PathLike)):
        loaded = _load_preset(preset)
        if loaded is not None:
            return {"name": loaded.name, "sha256": loaded.content_hash}
        path = Path(preset)
        if path.is_file():
            return {"name": path.stem, "sha256": _file_sha256(path)}
        return {"name": str(preset), "sha256": None}
    name = getattr(preset, "name", None) or type(preset).__name__
    digest = getattr(preset, "content_hash", None) or getattr(preset, "sha256", None)
    path = getattr(preset, "path", None)
    if digest is None and isinstance(path, (str, os.PathLike)) and Path(path).is_file():
        digest = _file_sha256(Path(path))
    return {"name": str(name), "sha256": None if digest is None else str(digest)}


def preset_driver_names(preset) -> tuple[str, ...] | None:
    """The driver names of ``preset`` (a name, a file or a loaded preset), or None."""
    if isinstance(preset, (str, os.PathLike)):
        preset = _load_preset(preset)
    enclosure = getattr(preset, "enclosure", None)
    names = getattr(enclosure, "driver_names", None)
    return tuple(names) if names is not None else None


def _load_preset(preset):
    """The soundstage preset ``preset`` names, or None when it is not one."""
    from .. import presets
    from .._errors import SoundstageError

    try:
        return presets.load(preset)
    except (SoundstageError, OSError):
        return None


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()



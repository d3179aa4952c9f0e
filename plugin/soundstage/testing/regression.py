"""The ``audio_regression`` fixture's object: compare a render with its golden file.

A check reads ``tests/test_foo/<basename>.wav`` beside ``tests/test_foo.py``. Missing golden:
write it and fail (a new golden must be looked at once). ``--audio-regen``: rewrite and fail;
``--audio-regen-all``: rewrite and pass. Otherwise the formats must agree (sample rate,
channels, length) and every comparison the :class:`~.tolerances.Tolerance` switches on must
pass; a failure writes the obtained render, the residual and a plot beside the golden (or,
if that folder is read-only, into the test session's temporary folder) and names each failed
comparison, by how much and where.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from .._errors import AudioFormatError, ParameterError
from . import goldens, metrics
from .comparison import Comparison, compare, format_mismatch
from .goldens import GoldenPaths, GoldenWriteError
from .tolerances import Tolerance

__all__ = ["AudioRegression", "PresetChangedWarning", "SIDECAR_FORMAT"]

#: How each golden format stores the samples (the sidecar's ``storage``).
_STORAGE = {"wav": "WAV, IEEE float32", "flac": "FLAC, 24-bit PCM scaled by a power of two (see the file's comment)"}

#: Identifies the sidecar layout, for readers of the JSON files.
SIDECAR_FORMAT = "soundstage-audio-golden/1"
_HINT = (
    "If the change is intended, run pytest with --audio-regen (rewrites goldens, fails) or "
    "--audio-regen-all (rewrites goldens, passes) and commit the new goldens."
)


class AudioRegression:
    """Checks renders of one test against golden files; the ``audio_regression`` fixture.

    Parameters
    ----------
    directory : Path
        Folder of this test module's goldens (``tests/test_foo/``).
    default_basename : str
        File stem used when a check names none (the sanitised test name with its
        parametrisation id); a second unnamed check in the same test gets ``-2``, and so on.
    regen, regen_all : bool
        The ``--audio-regen`` / ``--audio-regen-all`` options.
    fallback_directory : callable returning Path, optional
        Folder for failure artefacts when ``directory`` cannot be written.
    """

    def __init__(
        self,
        directory: Path,
        default_basename: str,
        *,
        regen: bool = False,
        regen_all: bool = False,
        fallback_directory: Callable[[], Path] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.default_basename = goldens.sanitise_basename(default_basename)
        self.regen = regen
        self.regen_all = regen_all
        self._fallback_directory = fallback_directory
        self._unnamed_checks = 0

    def check(
        self,
        audio,
        sample_rate: int,
        basename: str | None = None,
        tolerance: Tolerance | None = None,
        *,
        preset=None,
        metadata: Mapping | None = None,
        golden_format: str = "wav",
        channel_names: tuple[str, ...] | None = None,
    ) -> Comparison | None:
        """Compare ``audio`` with the golden ``<basename>.wav``; fail the test if it differs.

        Parameters
        ----------
        audio : np.ndarray [shape=(channels, n) or (n,)]
            The render, float32 or float64, channels first (1-D is mono). float64 is rounded
            to float32, the format of goldens and of soundstage's own audio.
        sample_rate : int
            Sample rate in Hz.
        basename : str, optional
            File stem of the golden (letters, digits, ``_ . -``); default: the test's name.
        tolerance : Tolerance, optional
            What to compare and how strictly; default :meth:`Tolerance.default`.
        preset : str, os.PathLike or preset object, optional, keyword-only
            The preset the render came from; its name and content hash go to the sidecar.
        metadata : mapping, optional, keyword-only
            JSON-serialisable facts stored in the sidecar (render parameters, signal name).
        golden_format : {"wav", "flac"}, keyword-only
            ``"wav"``: float32 WAV, lossless for float32 renders (bit-exact checks possible).
            ``"flac"``: 24-bit FLAC, several times smaller for goldens committed to a repository;
            its quantisation (2^-23, about −138 dBFS) sits far below any null-test tolerance,
            but it cannot serve a bit-exact check.
        channel_names : sequence of str, optional, keyword-only
            A name per channel for messages, plots and the sidecar (e.g.
            ``("left_ear", "right_ear")``); default: the preset's driver names when the render
            has one channel per driver, else the names stored with the golden.

        Returns
        -------
        Comparison or None
            The measurements of a passing comparison; ``None`` after ``--audio-regen-all``.

        Raises
        ------
        AudioFormatError
            ``audio`` is not a finite float32/float64 array of 1 or 2 dimensions.
        ParameterError
            Bad ``sample_rate``, ``basename``, ``tolerance`` or ``metadata``.
        """
        obtained = _as_channels_first(audio)
        sample_rate = _check_sample_rate(sample_rate)
        tolerance = Tolerance.default() if tolerance is None else tolerance
        if not isinstance(tolerance, Tolerance):
            raise ParameterError(f"tolerance must be a Tolerance or None, got {tolerance!r}")
        if basename is None:
            self._unnamed_checks += 1
            basename = self.default_basename + (
                "" if self._unnamed_checks == 1 else f"-{self._unnamed_checks}"
            )
        if golden_format not in ("wav", "flac"):
            raise ParameterError(f"golden_format must be 'wav' or 'flac', got {golden_format!r}")
        if golden_format == "flac" and tolerance.bit_exact:
            raise ParameterError("a bit-exact tolerance needs golden_format='wav': 24-bit FLAC quantises")
        paths = GoldenPaths(self.directory, goldens.validate_basename(basename), golden_format)
        metadata = _check_metadata(metadata)
        described = goldens.describe_preset(preset)
        names = _channel_names(channel_names, preset, obtained.shape[0])

        if self.regen or self.regen_all or not paths.golden.is_file():
            existed = paths.golden.is_file()
            sidecar = _sidecar(obtained, sample_rate, tolerance, described, metadata, names, golden_format)
            self._write_golden(paths, obtained, sample_rate, sidecar)
            summary = _format_summary(obtained.shape, sample_rate)
            if self.regen_all:
                return None
            if existed:
                pytest.fail(
                    f"audio regression: --audio-regen rewrote {paths.golden} and {paths.sidecar} "
                    f"({summary}); run again without it.", pytrace=False)
            pytest.fail(
                f"audio regression: no golden {paths.golden}; wrote it and {paths.sidecar} "
                f"({summary}). Listen to it, commit both files and run again.", pytrace=False)

        golden, golden_rate = goldens.read_audio(paths.golden)
        stored = _read_sidecar(paths.sidecar)
        if names is None:
            names = _channel_names(stored.get("channel_names"), None, obtained.shape[0])
        preset_note = _preset_change(stored.get("preset"), described)
        mismatch = format_mismatch(obtained.shape, sample_rate, golden.shape, golden_rate)
        if mismatch is not None:
            lines = [f"audio regression: the render does not match the format of {paths.golden}: "
                     f"obtained {mismatch}."]
            if preset_note:
                lines.append(preset_note)
            lines += self._write_obtained(paths, obtained, sample_rate)
            lines.append(_HINT)
            pytest.fail("\n".join(lines), pytrace=False)
        comparison = compare(obtained, golden, sample_rate, tolerance, names)
        if comparison.passed:
            _remove_stale_artefacts(paths)
            if preset_note:
                warnings.warn(f"audio regression {paths.golden.name}: passes, but {preset_note[0].lower()}"
                              f"{preset_note[1:]}", PresetChangedWarning, stacklevel=2)
            return comparison
        pytest.fail(self._failure_message(paths, obtained, golden, sample_rate, tolerance,
                                          comparison, names, preset_note), pytrace=False)

    def _write_obtained(self, paths: GoldenPaths, obtained, sample_rate) -> list[str]:
        """Write only ``<name>.obtained.wav`` (no residual: the formats differ); message lines."""
        for target in (paths, None):
            if target is None:
                if self._fallback_directory is None:
                    return []
                target = GoldenPaths(self._fallback_directory(), paths.basename)
            try:
                goldens.write_audio(target.obtained, obtained, sample_rate)
                return [f"obtained render written to {target.obtained}"]
            except GoldenWriteError as error:
                note = f"obtained render not written: {error}"
        return [note]

    def _write_golden(self, paths: GoldenPaths, audio, sample_rate, sidecar) -> None:
        try:
            goldens.write_audio(paths.golden, audio, sample_rate)
            goldens.write_json(paths.sidecar, sidecar)
        except GoldenWriteError as error:
            pytest.fail(f"audio regression: the golden must be written but cannot be: {error}",
                        pytrace=False)
        _remove_stale_artefacts(paths)

    def _failure_message(self, paths, obtained, golden, sample_rate, tolerance, comparison, names=None,
                         preset_note=None) -> str:
        lines = [
            f"audio regression failed against {paths.golden} "
            f"({_format_summary(obtained.shape, sample_rate)}):"
        ]
        if preset_note:
            lines.append(preset_note)
        lines += [f"  - {failure.describe()}" for failure in comparison.failures]
        measured = ", ".join(
            f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
            for key, value in comparison.measured.items()
        )
        lines.append(f"measured: {measured}")
        title = f"{paths.basename}: " + ", ".join(f.metric for f in comparison.failures)
        try:
            written = _write_artefacts(paths, obtained, golden, sample_rate, tolerance, title, names)
        except GoldenWriteError as error:
            if self._fallback_directory is None:
                lines.append(f"artefacts not written: {error}")
                written = ()
            else:
                fallback = GoldenPaths(self._fallback_directory(), paths.basename)
                written = _write_artefacts(fallback, obtained, golden, sample_rate, tolerance, title, names)
                lines.append(f"artefacts could not go beside the golden ({error}); written to the "
                             f"session's temporary folder instead")
        if written:
            lines.append("artefacts: " + ", ".join(str(p) for p in written))
        lines.append(_HINT)
        return "\n".join(lines)


def _write_artefacts(paths, obtained, golden, sample_rate, tolerance, title, names=None):
    from .artefacts import write_artefacts

    return write_artefacts(paths, obtained, golden, sample_rate, tolerance, title, names)


class PresetChangedWarning(UserWarning):
    """A golden passes although the preset it was rendered from has changed since."""


def _channel_names(names, preset, num_channels: int) -> tuple[str, ...] | None:
    """Explicit names (checked), else the preset's driver names when there is one channel per
    driver, else None."""
    if names is not None:
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise ParameterError(f"channel_names must be a sequence of strings, got {names!r}")
        names = tuple(names)
        if len(names) != num_channels:
            return None if preset is None else _channel_names(None, preset, num_channels)
        return names
    if preset is None:
        return None
    drivers = goldens.preset_driver_names(preset)
    return drivers if drivers is not None and len(drivers) == num_channels else None


def _read_sidecar(path: Path) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _preset_change(stored, now) -> str | None:
    """A sentence when the golden's preset and the render's preset differ in content."""
    if not isinstance(stored, dict) or not now or not stored.get("sha256") or not now.get("sha256"):
        return None
    if stored["sha256"] == now["sha256"]:
        return None
    name = now.get("name") or stored.get("name")
    return (f"The preset {name!r} changed since the golden was written (content hash "
            f"{stored['sha256'][:12]}… then, {now['sha256'][:12]}… now): a changed preset explains "
            "a changed render.")


def _as_channels_first(audio) -> np.ndarray:
    array = np.asarray(audio)
    if array.dtype not in (np.float32, np.float64):
        raise AudioFormatError(
            f"audio must be a float32 or float64 array, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise AudioFormatError(
            f"audio must have shape (channels, n) or (n,) with n ≥ 1, got {np.shape(audio)}")
    if array.shape[0] > array.shape[1]:
        raise AudioFormatError(
            f"audio of shape {array.shape} looks channels-last; audio regression checks take "
            f"channels first (channels, n): pass audio.T")
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused below
        array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        channel, index = np.argwhere(~np.isfinite(array))[0]
        raise AudioFormatError(
            f"audio must be finite in float32; sample {index} of channel {channel} is "
            f"{array[channel, index]}")
    return array


def _check_sample_rate(sample_rate) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ParameterError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    return int(sample_rate)


def _format_summary(shape, sample_rate) -> str:
    return f"{shape[0]} channels, {sample_rate} Hz, {shape[1] / sample_rate:.3f} s"


def _check_metadata(metadata) -> dict | None:
    if metadata is None:
        return None
    try:
        return json.loads(json.dumps(dict(metadata), allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ParameterError(f"metadata must be a JSON-serialisable mapping: {error}") from None


def _sidecar(audio, sample_rate, tolerance: Tolerance, preset: dict | None, metadata, channel_names,
             golden_format: str) -> dict:
    from .. import __version__

    centres_hz, band_levels = metrics.band_levels_dbfs(audio, sample_rate)
    loudness = metrics.integrated_loudness_lufs(audio, sample_rate)
    wide = audio.astype(np.float64)

    def rounded(values, digits=2):
        return np.round(np.asarray(values, dtype=float), digits).tolist()

    return {
        "format": SIDECAR_FORMAT,
        "storage": _STORAGE[golden_format],
        "channel_names": None if channel_names is None else list(channel_names),
        "sample_rate": sample_rate,
        "num_channels": int(audio.shape[0]),
        "num_samples": int(audio.shape[1]),
        "duration_s": audio.shape[1] / sample_rate,
        "soundstage_version": __version__,
        "audio_sha256": goldens.audio_sha256(audio),
        "preset": preset,
        "metadata": metadata,
        "tolerance": {**tolerance.as_dict(), "active": list(tolerance.active)},
        "metrics": {
            "rms_dbfs": rounded(metrics.power_to_dbfs(np.mean(wide**2, axis=-1))),
            "peak_dbfs": rounded(metrics.amplitude_to_dbfs(np.max(np.abs(wide), axis=-1))),
            "loudness_lufs": None if loudness is None else rounded(loudness),
            "band_centres_hz": rounded(centres_hz, 1),
            "band_levels_dbfs": rounded(band_levels),
        },
    }


def _remove_stale_artefacts(paths: GoldenPaths) -> None:
    for path in paths.artefacts:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

"""Render a preset for an audio regression test: :func:`render_for_regression`."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import numpy as np

from .._errors import AudioFormatError, ParameterError
from . import signals as _signals

__all__ = ["render_for_regression", "OUTPUTS"]

#: Values of ``output``: driver feeds, or the two ears of the listening simulation.
OUTPUTS = ("drivers", "binaural")


def render_for_regression(
    preset,
    signal: str | np.ndarray = "pink-noise-sweep",
    sample_rate: int = 48000,
    seconds: float = 2.0,
    parameters: Mapping | None = None,
    output: str = "drivers",
    *,
    seed: int = 0,
    track=None,
) -> np.ndarray:
    """Render a deterministic test signal through a preset, ready for ``audio_regression``.

    Runs ``soundstage.processor.SpatialProcessor(preset, **parameters).process(signal,
    sample_rate)`` once, offline (pedalboard semantics: reset, time-aligned, the input's
    length).

    Parameters
    ----------
    preset : str, os.PathLike or preset object
        Anything ``SpatialProcessor`` accepts as its preset.
    signal : str or np.ndarray
        A built-in signal name (:data:`soundstage.testing.signals.SIGNAL_NAMES`:
        ``"pink-noise-sweep"``, ``"impulse-pan"``, ``"sine-sweep"``, ``"voice-like"``) or
        stereo audio ``(2, n)`` float32/float64 (then ``seconds`` and ``seed`` are unused).
    sample_rate : int
        Sample rate in Hz.
    seconds : float
        Length of a built-in signal in seconds.
    parameters : mapping, optional
        Keyword parameters of ``SpatialProcessor`` (e.g. ``{"width_deg": 20.0}``).
    output : {"drivers", "binaural"}
        ``"drivers"``: the driver feeds ``(n_drivers, n)``; ``"binaural"``: the ear signals
        ``(2, n)`` of the listening simulation
        (``soundstage.monitor.BinauralProcessor(SpatialProcessor(...))``).
    seed : int, keyword-only
        Seed of the built-in signal's random parts.
    track : ListenerTrack, optional, keyword-only
        A moving listener (:class:`soundstage.ListenerTrack`): the filters follow it, and with
        ``output="binaural"`` the simulated listener moves along it too (deterministic).

    Returns
    -------
    np.ndarray [shape=(n_drivers, n) or (2, n), dtype=float32]
        The render, channels first, C-contiguous.

    Raises
    ------
    ParameterError
        Unknown ``signal`` name or ``output``, or bad ``parameters``.
    AudioFormatError
        ``signal`` is an array that is not float audio.

    Examples
    --------
    >>> def test_studio_speaker(audio_regression):  # doctest: +SKIP
    ...     feeds = render_for_regression("studio-speaker", seconds=1.0)
    ...     audio_regression.check(feeds, 48000, preset="studio-speaker")
    """
    if output not in OUTPUTS:
        raise ParameterError(f"output must be one of {OUTPUTS}, got {output!r}")
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ParameterError(f"parameters must be a mapping of keyword arguments, got {parameters!r}")
    kwargs = dict(parameters or {})
    if "output" in kwargs:
        raise ParameterError("parameters must not contain 'output'; pass output= instead")
    if isinstance(signal, str):
        audio = _signals.generate(signal, sample_rate, seconds, seed=seed)
    else:
        audio = np.asarray(signal)
        if audio.dtype not in (np.float32, np.float64) or audio.ndim not in (1, 2):
            raise AudioFormatError(
                f"signal must be a built-in signal name or float32/float64 audio of 1 or 2 "
                f"dimensions, got dtype {audio.dtype}, shape {audio.shape}")
    processing = importlib.import_module("soundstage.processor")
    if track is not None and not isinstance(track, processing.ListenerTrack):
        raise ParameterError(f"track must be a soundstage.ListenerTrack, got {type(track).__name__}")
    processor = processing.SpatialProcessor(preset, **kwargs)
    processor.track = track
    if output == "binaural":
        processor = importlib.import_module("soundstage.monitor").BinauralProcessor(processor)
    rendered = np.asarray(processor.process(audio, sample_rate))
    return np.ascontiguousarray(rendered, dtype=np.float32)

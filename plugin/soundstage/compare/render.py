"""The versions a comparison plays, and the renderer that makes them.

A *version* is one thing a listener can switch to: the input itself, the reference (a real ±30°
stereo pair heard in the simulated room), the plain mix played through an enclosure
(``unprocessed``: every spatial stage bypassed) or a preset's full processing. Each is rendered to
driver feeds and to the two ears of the listening simulation (:mod:`soundstage.monitor`).

Rendering goes through a *renderer*: any callable
``renderer(request: RenderRequest, audio, sample_rate) -> RenderOutput``.
:class:`ProcessorRenderer` is the real one (``SpatialProcessor`` → ``Auralizer``); tests and
tools may pass their own (a gain, a delay) to exercise the comparison without the acoustics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._errors import AudioFormatError, ParameterError

__all__ = [
    "KINDS",
    "UNPROCESSED_BYPASS",
    "RenderRequest",
    "RenderOutput",
    "Render",
    "Renderer",
    "ProcessorRenderer",
    "coerce_stereo",
    "read_audio_file",
]

#: Kinds of version, in the order the players list them.
KINDS = ("input", "reference", "preset", "unprocessed")
#: Stages bypassed for the ``unprocessed`` version (the plain mix through the enclosure).
UNPROCESSED_BYPASS = frozenset({"upmix", "virtualizer", "ctc", "beam"})


@dataclass(frozen=True)
class RenderRequest:
    """What to render.

    Attributes
    ----------
    kind : {"input", "reference", "preset", "unprocessed"}
    preset : Preset or None
        The preset (None for ``"input"``; for ``"reference"`` the reference preset).
    parameters : dict
        ``SpatialProcessor`` keyword parameters (``{"width_deg": 20}``) for ``"preset"``.
    room : None, str or Room
        Room of the listening simulation (None: free field).
    head : None, str or os.PathLike
        Head of the listening simulation (None: the monitor's default).
    """

    kind: Literal["input", "reference", "preset", "unprocessed"]
    preset: Any = None
    parameters: Mapping = field(default_factory=dict)
    room: Any = None
    head: Any = None


@dataclass(frozen=True)
class RenderOutput:
    """What a renderer returns.

    Attributes
    ----------
    ears : np.ndarray [shape=(2, n), dtype=float32]
        Left and right ear signals (the headphone render), time-aligned with the input.
    driver_feeds : np.ndarray [shape=(n_drivers, n), dtype=float32] or None
        The enclosure's driver feeds (None for the input).
    driver_names : tuple of str
        One name per row of ``driver_feeds``.
    latency_samples : int
        Streaming latency of the processing (samples; 0 for the input and the reference).
    """

    ears: np.ndarray
    driver_feeds: np.ndarray | None = None
    driver_names: tuple = ()
    latency_samples: int = 0


#: The renderer protocol: ``(request, audio (2, n) float32, sample_rate) -> RenderOutput``.
Renderer = Callable[[RenderRequest, np.ndarray, float], RenderOutput]


@dataclass(frozen=True)
class Render:
    """One rendered version of the comparison.

    Attributes
    ----------
    key : str
        Unique id (``"input"``, ``"reference"``, ``"preset:compact-speaker"``,
        ``"unprocessed:compact-speaker"``).
    label : str
        Name shown to people.
    request : RenderRequest
    output : RenderOutput
    """

    key: str
    label: str
    request: RenderRequest
    output: RenderOutput

    @property
    def kind(self) -> str:
        return self.request.kind

    @property
    def ears(self) -> np.ndarray:
        """Headphone render ``(2, n)``."""
        return self.output.ears

    @property
    def preset(self):
        return self.request.preset


def coerce_stereo(audio, *, name: str = "audio") -> np.ndarray:
    """Input audio as ``(2, n)`` float32, C-contiguous.

    Parameters
    ----------
    audio : array_like
        Float32/float64, shape ``(n,)`` (mono, duplicated), ``(channels, n)`` or ``(n, channels)``
        with one or two channels.
    name : str
        Argument name used in error messages.

    Raises
    ------
    AudioFormatError
        Not float audio of one or two channels.
    ParameterError
        Non-finite samples.
    """
    array = np.asarray(audio)
    if array.dtype not in (np.float32, np.float64):
        raise AudioFormatError(f"{name} must be float32 or float64 audio, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[np.newaxis, :]
    elif array.ndim != 2:
        raise AudioFormatError(f"{name} must have 1 or 2 dimensions, got shape {array.shape}")
    elif array.shape[0] > 2 and array.shape[1] <= 2:
        array = array.T
    if array.shape[0] not in (1, 2):
        raise AudioFormatError(f"{name} must be mono or stereo (1 or 2 channels), got shape {array.shape}")
    if array.shape[0] == 1:
        array = np.repeat(array, 2, axis=0)
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name} contains NaN or infinite samples")
    return np.ascontiguousarray(array, dtype=np.float32)


def read_audio_file(path: str | Path) -> tuple[np.ndarray, float]:
    """Read an audio file (anything ``pedalboard.io.AudioFile`` reads) as ``(2, n)`` float32.

    Returns
    -------
    audio : np.ndarray [shape=(2, n), dtype=float32]
    sample_rate : float
        In Hz.

    Raises
    ------
    AudioFormatError
        The file is missing, unreadable, or has more than two channels.
    """
    from pedalboard.io import AudioFile

    path = Path(path)
    if not path.is_file():
        raise AudioFormatError(f"input file {str(path)!r} does not exist or is not a file")
    try:
        with AudioFile(str(path)) as reader:
            sample_rate = float(reader.samplerate)
            audio = reader.read(reader.frames) if reader.frames else np.zeros((reader.num_channels, 0), np.float32)
    except Exception as exc:  # pedalboard raises ValueError/RuntimeError for undecodable files
        raise AudioFormatError(f"input file {str(path)!r} is not readable audio: {exc}") from exc
    if audio.shape[0] > 2:
        raise AudioFormatError(f"input file {str(path)!r} has {audio.shape[0]} channels; expected mono or stereo")
    if audio.shape[1] == 0:
        raise AudioFormatError(f"input file {str(path)!r} holds no audio samples")
    return coerce_stereo(audio, name=f"input file {str(path)!r}"), sample_rate


def _monitor_kwargs(request: RenderRequest) -> dict:
    kwargs = {"room": request.room}
    if request.head is not None:
        kwargs["head"] = str(request.head) if isinstance(request.head, Path) else request.head
    return kwargs


class ProcessorRenderer:
    """The real renderer: ``SpatialProcessor`` for driver feeds, ``monitor`` for the ears.

    * ``"input"``: the ears hear the input itself (headphone playback of the stereo file).
    * ``"reference"``: the reference preset ``"stereo-pair"`` is heard through
      :class:`soundstage.monitor.StereoReference` (a real ±30° pair in the room); any other
      reference preset is rendered like a preset.
    * ``"preset"``: ``SpatialProcessor(preset, **parameters)`` → driver feeds →
      :class:`soundstage.monitor.Auralizer` (the preset's listener, the given room and head).
    * ``"unprocessed"``: the same with :data:`UNPROCESSED_BYPASS` (the plain mix).
    """

    def __call__(self, request: RenderRequest, audio: np.ndarray, sample_rate: float) -> RenderOutput:
        if request.kind == "input":
            return RenderOutput(ears=np.array(audio, dtype=np.float32), driver_feeds=None)
        if request.kind == "reference" and request.preset.name == "stereo-pair":
            from ..monitor import StereoReference

            ears = StereoReference(**_monitor_kwargs(request)).process(audio, sample_rate)
            return RenderOutput(ears=np.asarray(ears, dtype=np.float32), driver_feeds=np.array(audio),
                                driver_names=("left", "right"), latency_samples=0)
        from ..monitor import Auralizer
        from ..processor.spatial import SpatialProcessor

        parameters = dict(request.parameters)
        if request.kind == "unprocessed":
            parameters["bypass"] = UNPROCESSED_BYPASS
        processor = SpatialProcessor(request.preset, **parameters)
        feeds = np.asarray(processor.process(audio, sample_rate), dtype=np.float32)
        latency = int(processor.latency_samples)
        auralizer = Auralizer(request.preset.enclosure, listener=processor.listener, **_monitor_kwargs(request))
        ears = np.asarray(auralizer.process(feeds, sample_rate), dtype=np.float32)
        return RenderOutput(ears=ears, driver_feeds=feeds, driver_names=tuple(processor.driver_names),
                            latency_samples=latency)

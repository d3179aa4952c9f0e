"""The pedalboard calling convention at soundstage's public audio boundary.

Every soundstage processor accepts audio exactly as a pedalboard plugin does and gives it back
the same way. The helpers here do that once, in the order scipy's ``sosfilt`` prepares its
input: coerce the dtype, detect the layout, move time to the last axis as a C-contiguous
float32 block, validate the values, and later restore the caller's layout.

Behaviour mirrored from pedalboard 0.9.26 (see ``notes/pedalboard.md``; ``tests/test_convention.py``
checks each rule against pedalboard itself):

* float32 is used as is, float64 is converted to float32, any other dtype is rejected.
* 1-D input is mono; the output is 1-D again (or ``(channels, n)`` when a processor changes the
  channel count away from one).
* A 2-D array is read with the channel count the processor saw last when one of its
  dimensions matches it; otherwise the smaller dimension is channels. A square array is read
  with the layout used last; on a fresh processor it is an error. ``(1, 1)`` is channels-first.
  A dimension of length zero is the samples dimension.
* ``reset()`` forgets the remembered layout.

* Arguments of the wrong type raise ``TypeError`` (``sample_rate="48000"``, ``reset="False"``,
  ``buffer_size=1.5``), as pedalboard's do; soundstage's ``ParameterTypeError`` is also a
  ``ValueError``.

soundstage adds checks pedalboard does not make: ``buffer_size`` must be at least 1 (pedalboard
hangs on 0), and non-finite samples — and finite ones so huge (beyond ``MAX_ABS_SAMPLE``) that
filtering them would overflow float32 — are rejected, naming the sample, before they can enter
filter state.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._errors import AudioFormatError, ParameterError, ParameterTypeError

__all__ = [
    "SUPPORTED_DTYPES",
    "AudioLayoutError",
    "BlockLayout",
    "LayoutMemory",
    "coerce_audio",
    "to_channels_first",
    "restore_layout",
    "check_finite",
    "check_buffer_size",
    "check_sample_rate",
    "check_reset",
    "MAX_ABS_SAMPLE",
]

#: Largest accepted sample magnitude: 2**16 (+96 dB re full scale) leaves room for audio scaled
#: like 16-bit integers, and ~10**30 of headroom to float32's overflow through any filter.
MAX_ABS_SAMPLE = 65536.0

#: The input dtypes accepted at the boundary (pedalboard's own allow-list); float64 is
#: converted to float32.
SUPPORTED_DTYPES: tuple[type[np.floating], ...] = (np.float32, np.float64)

_LAYOUT_HINT = (
    " Provide a non-square array first to allow soundstage to determine which dimension"
    " corresponds with the number of channels and which dimension corresponds with the number"
    " of samples."
)


class AudioLayoutError(AudioFormatError, RuntimeError):
    """The shape of an audio array does not say which axis holds the channels.

    Also a ``RuntimeError``, the type pedalboard raises in the same situation, so code written
    for pedalboard plugins keeps catching it.
    """


@dataclass(frozen=True)
class BlockLayout:
    """How a caller's audio array maps onto ``(channels, samples)``.

    Attributes
    ----------
    ndim : int
        Number of dimensions of the caller's array (1 or 2).
    channels_last : bool
        True if the caller's array is ``(samples, channels)``.
    num_channels : int
        Number of channels.
    num_samples : int
        Number of samples per channel.
    """

    ndim: int
    channels_last: bool
    num_channels: int
    num_samples: int


def _shape_layout(shape: tuple[int, ...], channel_hint: int | None) -> bool:
    """Return ``channels_last`` for a 2-D shape, or raise :class:`AudioLayoutError`."""
    rows, cols = shape
    if channel_hint is not None:
        if rows == cols and rows > 1:
            raise AudioLayoutError(f"Unable to determine channel layout from shape: {shape}.")
        if rows == channel_hint:
            return False
        if cols == channel_hint:
            return True
    if rows == 0 and cols > 0:  # zero channels makes no sense, zero samples does
        return True
    if cols == 0 and rows > 0:
        return False
    if cols < rows:
        return True
    if rows < cols:
        return False
    if rows == 1:  # (1, 1): one sample of one channel, either reading is the same
        return False
    raise AudioLayoutError(f"Unable to determine channel layout from shape: {shape}.")


class LayoutMemory:
    """The layout a processor remembers between calls, as a pedalboard plugin does.

    ``detect`` never changes the memory; call ``remember`` once the block has been accepted,
    so a rejected call leaves the processor as it was.
    """

    __slots__ = ("num_channels", "channels_last", "_last")

    def __init__(self) -> None:
        self.num_channels: int | None = None
        self.channels_last: bool | None = None
        # (shape, num_channels, channels_last) -> BlockLayout of the latest detect: a stream
        # of equal blocks reads its (immutable) layout without building it again.
        self._last: tuple | None = None

    def detect(self, shape: tuple[int, ...]) -> BlockLayout:
        """Read the layout of an array of the given shape.

        Parameters
        ----------
        shape : tuple of int
            Shape of the caller's array.

        Returns
        -------
        BlockLayout

        Raises
        ------
        AudioLayoutError
            For arrays that are not 1-D or 2-D, and for a square array (sides > 1) when
            nothing is remembered yet.
        """
        last = self._last
        if last is not None and last[0] == shape and last[1] == self.num_channels and last[2] == self.channels_last:
            return last[3]
        layout = self._detect(shape)
        self._last = (tuple(shape), self.num_channels, self.channels_last, layout)
        return layout

    def _detect(self, shape: tuple[int, ...]) -> BlockLayout:
        ndim = len(shape)
        if ndim == 1:
            return BlockLayout(1, False, 1, int(shape[0]))
        if ndim != 2:
            raise AudioLayoutError(
                f"Number of input dimensions must be 1 or 2 (got {ndim}, shape {tuple(shape)})."
            )
        shape = (int(shape[0]), int(shape[1]))
        try:
            channels_last = _shape_layout(shape, self.num_channels)
        except AudioLayoutError as exc:
            if self.channels_last is None:
                raise AudioLayoutError(str(exc) + _LAYOUT_HINT) from None
            channels_last = self.channels_last  # pedalboard falls back to the cached layout
        if channels_last:
            return BlockLayout(2, True, shape[1], shape[0])
        return BlockLayout(2, False, shape[0], shape[1])

    def remember(self, layout: BlockLayout) -> None:
        """Store the layout (and channel count) of an accepted block."""
        self.num_channels = layout.num_channels
        self.channels_last = layout.channels_last

    def clear(self) -> None:
        """Forget everything, as ``reset()`` does."""
        self.num_channels = None
        self.channels_last = None


def coerce_audio(input_array: object, *, name: str = "input_array") -> np.ndarray:
    """Return the caller's audio as a float32 ndarray, never modifying it.

    Parameters
    ----------
    input_array : numpy.ndarray
        float32 (used as is) or float64 (converted) audio.
    name : str
        Argument name used in error messages.

    Raises
    ------
    AudioFormatError
        If ``input_array`` is not a NumPy array of a supported dtype.
    """
    if not isinstance(input_array, np.ndarray):
        raise AudioFormatError(
            f"{name} must be a numpy.ndarray of float32 or float64 samples, "
            f"got {type(input_array).__name__}; convert it with numpy.asarray(x, dtype=numpy.float32)."
        )
    if input_array.dtype.type not in SUPPORTED_DTYPES:
        allowed = " and ".join(np.dtype(t).name for t in SUPPORTED_DTYPES)
        raise AudioFormatError(
            "soundstage (like Pedalboard) only supports 32-bit and 64-bit floating point audio "
            f"for processing: {name} has dtype {input_array.dtype}, expected {allowed}."
        )
    if input_array.dtype.type is np.float32:
        return input_array
    return input_array.astype(np.float32)


def to_channels_first(audio: np.ndarray, layout: BlockLayout) -> np.ndarray:
    """View or copy ``audio`` as a C-contiguous float32 ``(channels, samples)`` block.

    The result may share memory with the caller's array: treat it as read-only.
    """
    if layout.ndim == 1:
        block = audio.reshape(1, -1)
    elif layout.channels_last:
        block = audio.T
    else:
        block = audio
    return np.ascontiguousarray(block, dtype=np.float32)


def restore_layout(block: np.ndarray, layout: BlockLayout, *, owned: bool = False) -> np.ndarray:
    """Return ``block`` (``(channels, samples)`` float32) in the caller's layout.

    The result is a new C-contiguous float32 array that shares no memory with ``block``. A
    1-D caller gets 1-D audio back while the block has one channel; a processor that turns
    mono into several channels returns ``(channels, samples)``. With ``owned=True`` the caller
    vouches that nothing else references ``block`` (it was allocated for this call): a
    channels-first float32 block that owns its C-contiguous data (not a view) is then returned
    itself, without a copy.
    """
    if (owned and layout.ndim == 2 and not layout.channels_last and block.base is None
            and block.dtype == np.float32 and block.flags.c_contiguous):
        return block
    if layout.ndim == 1 and block.shape[0] == 1:
        return np.array(block[0], dtype=np.float32, copy=True)
    if layout.ndim == 2 and layout.channels_last:
        return np.array(block.T, dtype=np.float32, order="C", copy=True)
    return np.array(block, dtype=np.float32, order="C", copy=True)


def check_finite(block: np.ndarray, *, name: str = "input_array") -> None:
    """Raise :class:`ParameterError` naming the first NaN, infinite or huge sample of ``block``.

    Parameters
    ----------
    block : numpy.ndarray [shape=(channels, samples)]
        Audio in channels-first layout.
    name : str
        Argument name used in the message.

    Notes
    -----
    A sample beyond ±``MAX_ABS_SAMPLE`` counts as bad: float32 filters would turn it into Inf
    and NaN, and one such spike would dominate the upmix's running averages for seconds.
    """
    with np.errstate(invalid="ignore"):
        good = np.abs(block) <= MAX_ABS_SAMPLE  # False for NaN too
    if good.all():
        return
    channels, samples = np.nonzero(~good)
    first = int(np.lexsort((channels, samples))[0])  # earliest sample, then lowest channel
    channel, index = int(channels[first]), int(samples[first])
    value = block[channel, index]
    if np.isfinite(value):
        raise ParameterError(
            f"{name} has a sample of {value:g} at channel {channel}, sample {index} (counting in "
            f"channels-first order); samples must lie within ±{MAX_ABS_SAMPLE:g} (audio is "
            "nominally ±1): filtering it would overflow to Inf/NaN."
        )
    raise ParameterError(
        f"{name} contains a non-finite sample ({value}) at channel {channel}, sample {index} "
        "(counting in channels-first order); audio must be finite — NaN and Inf would "
        "corrupt the filter state for good."
    )


def check_buffer_size(buffer_size: object) -> int:
    """Return ``buffer_size`` as an int, or raise :class:`ParameterError` unless it is >= 1."""
    if type(buffer_size) is int and buffer_size >= 1:  # the usual call, without the ABC checks
        return buffer_size
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, numbers.Integral):
        raise ParameterTypeError(f"buffer_size must be an integer >= 1, got {buffer_size!r}")
    if buffer_size < 1:
        raise ParameterError(
            f"buffer_size must be >= 1 (samples per processing block), got {buffer_size}"
        )
    return int(buffer_size)


def check_sample_rate(sample_rate: object) -> float:
    """Return ``sample_rate`` (Hz) as a float, or raise :class:`ParameterError`
    (:class:`ParameterTypeError` — also a ``TypeError`` — for a non-number such as ``"48000"``)."""
    if type(sample_rate) in (float, int) and 0 < sample_rate < math.inf:  # the usual call, fast
        return float(sample_rate)
    if isinstance(sample_rate, (bool, np.bool_)) or not isinstance(sample_rate, numbers.Real):
        raise ParameterTypeError(f"sample_rate must be a number in Hz, got {sample_rate!r}")
    value = float(sample_rate)
    if not (math.isfinite(value) and value > 0):
        raise ParameterError(f"sample_rate must be a finite number > 0 Hz, got {sample_rate!r}")
    return value


def check_reset(reset: object) -> bool:
    """Return ``reset`` as a bool, or raise :class:`ParameterTypeError` unless it is one
    (``reset="False"`` would otherwise mean one-shot)."""
    if not isinstance(reset, (bool, np.bool_)):
        raise ParameterTypeError(f"reset must be True or False, got {reset!r}")
    return bool(reset)

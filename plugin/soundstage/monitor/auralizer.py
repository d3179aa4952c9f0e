"""The listening simulation: driver feeds → the two ear signals of a listener, streamed.

:class:`Auralizer` convolves the ``n_drivers`` feeds of an enclosure with the driver→ear impulse
responses of the acoustic model — the free-field plant
(:func:`soundstage.acoustics.plant.plant_impulse_responses`) or the binaural room response
(:func:`soundstage.acoustics.room_response.room_impulse_responses`, ``.full``) — as one
``n_drivers × 2`` FIR matrix in the partitioned convolution kernel
(:class:`soundstage._kernels.convolver.PartitionedConvolver`).

Time alignment
--------------
The acoustics functions remove the bulk propagation delay (a whole number of samples up to a
little before the earliest arrival at the head) and the auralization does **not** re-add it: the
ear signals are aligned to the direct sound, not to absolute acoustic time. The only delay the
processor reports is its convolver's (``partition_size`` samples), which the pedalboard calling
convention compensates in one-shot calls.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .._errors import ParameterError
from ..acoustics.geometry import Enclosure, Listener
from ..acoustics.heads.base import HeadModel
from ..acoustics.room import Room, room_by_name
from ..processor.base import StreamingProcessor

__all__ = ["Auralizer", "binaural_impulse_responses", "room_response", "resolve_room"]

#: Number of cached room responses (a living-room response of 5 drivers is ≈ 6 MB: four parts).
_IR_CACHE_SIZE = 24


def resolve_room(room) -> Room | None:
    """``None``/``"anechoic"`` → None (free field); a built-in name → that :class:`Room`; a Room → itself."""
    if room is None or isinstance(room, Room):
        return room
    if isinstance(room, str):
        return room_by_name(room)
    raise ParameterError(f"room must be None, a built-in room name or a Room, got {type(room).__name__}")


def _head_key(head):
    """A hashable cache key for a head specification (paths as absolute strings)."""
    if head is None or isinstance(head, (str, HeadModel)):
        if isinstance(head, str) and head.lower().endswith(".sofa"):
            return os.path.abspath(head)
        return head
    if isinstance(head, Path):
        return os.path.abspath(str(head))
    raise ParameterError(
        f"head must be None, 'sphere', 'brown-duda', 'free-field', 'kemar', a path to a .sofa file or a HeadModel, "
        f"got {type(head).__name__}"
    )


@functools.lru_cache(maxsize=_IR_CACHE_SIZE)
def _cached_response(enclosure, listener, room, head_key, max_order, sample_rate):
    from ..acoustics.room_response import room_impulse_responses

    response = room_impulse_responses(enclosure, listener, room, sample_rate, max_order=max_order, head=head_key)
    for name in ("direct", "early", "late", "full"):
        getattr(response, name).flags.writeable = False
    return response


def _checked_key(enclosure, listener, sample_rate, room, head, max_order):
    if not isinstance(enclosure, Enclosure):
        raise ParameterError(f"enclosure must be an Enclosure, got {type(enclosure).__name__}")
    if not isinstance(listener, Listener):
        raise ParameterError(f"listener must be a Listener, got {type(listener).__name__}")
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ParameterError(f"sample_rate must be > 0 Hz, got {sample_rate!r}")
    if int(max_order) != max_order or max_order < 0:
        raise ParameterError(f"max_order must be an integer >= 0, got {max_order!r}")
    # Listener equality ignores its head object, so the head always enters the key.
    head_key = _head_key(head if head is not None else listener.head)
    return enclosure, listener, resolve_room(room), head_key, int(max_order), float(sample_rate)


def room_response(enclosure: Enclosure, listener: Listener, sample_rate: float, *, room=None, head=None,
                  max_order: int = 10):
    """The cached :class:`~soundstage.acoustics.room_response.RoomResponse` behind
    :func:`binaural_impulse_responses` (``direct``, ``early``, ``late``, ``full``; read-only)."""
    return _cached_response(*_checked_key(enclosure, listener, sample_rate, room, head, max_order))


def binaural_impulse_responses(enclosure: Enclosure, listener: Listener, sample_rate: float, *, room=None,
                               head=None, max_order: int = 10) -> tuple[np.ndarray, int]:
    """Driver→ear impulse responses of the listening simulation (cached).

    Parameters
    ----------
    enclosure : Enclosure
    listener : Listener
        Where the head is (possibly moved from the design position).
    sample_rate : float
        Sample rate in Hz (> 0).
    room : None, str or Room, keyword-only
        ``None`` or ``"anechoic"``: free field (the plant); a built-in room name
        (``"living-room"``, ``"studio"``) or a :class:`~soundstage.acoustics.room.Room`.
    head : None, str, os.PathLike or HeadModel, keyword-only
        Head model; default ``listener.head`` or the rigid sphere.
    max_order : int, keyword-only
        Highest image-source order in a room (≥ 0).

    Returns
    -------
    impulse_responses : np.ndarray [shape=(2, n_drivers, n_taps), dtype=float64], read-only
        ``ir[ear, driver]``, ear 0 = left; the direct sound arrives ``PLANT_MARGIN_SAMPLES``
        (32) samples after tap 0 or later.
    delay_removed_samples : int
        The bulk propagation delay removed (samples); the auralization does not re-add it.
    """
    response = room_response(enclosure, listener, sample_rate, room=room, head=head, max_order=max_order)
    return response.full, int(response.delay_removed_samples)


class Auralizer(StreamingProcessor):
    """Driver feeds in, the listener's two ear signals out: the listening simulation.

    Parameters
    ----------
    enclosure : Enclosure
        The enclosure whose driver feeds are played.
    listener : Listener, optional
        Where the listener's head is; default the design position ``Listener()`` (2.5 m).
    room : None, str or Room
        ``None`` / ``"anechoic"`` for free field, ``"living-room"``, ``"studio"`` or a
        :class:`~soundstage.acoustics.room.Room`.
    head : None, str, os.PathLike or HeadModel
        ``"sphere"``, ``"brown-duda"``, ``"free-field"``, a path to a ``.sofa`` file or a
        :class:`~soundstage.acoustics.heads.HeadModel`; default ``listener.head`` or the sphere.
    max_order : int, keyword-only
        Highest image-source order in a room (default 10).
    partition_size : int, keyword-only
        Partition size of the convolution (power of two, 16…65536) = the latency in samples.

    Notes
    -----
    Input ``(n_drivers, n)`` → output ``(2, n)`` (left ear, right ear), float32. The impulse
    responses are computed on the first call at a sample rate and cached per sample rate. The
    bulk propagation delay is **not** re-added (see the module docstring): a one-shot call
    returns the ear signals aligned to the direct sound. Streaming in any chunk sizes gives the
    same samples as one call, bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from soundstage.monitor import Auralizer
    >>> aur = Auralizer.from_preset("stereo-dipole")
    >>> feeds = np.zeros((2, 4800), dtype=np.float32)
    >>> aur(feeds, 48000).shape
    (2, 4800)
    """

    def __init__(self, enclosure: Enclosure, listener: Listener | None = None, room=None, head=None, *,
                 max_order: int = 10, partition_size: int = 512) -> None:
        super().__init__()
        if not isinstance(enclosure, Enclosure):
            raise ParameterError(f"enclosure must be an Enclosure, got {type(enclosure).__name__}; "
                                 "use Auralizer.from_preset(name) for a preset")
        if listener is not None and not isinstance(listener, Listener):
            raise ParameterError(f"listener must be a Listener or None, got {type(listener).__name__}")
        if int(max_order) != max_order or max_order < 0:
            raise ParameterError(f"max_order must be an integer >= 0, got {max_order!r}")
        size = int(partition_size)
        if size != partition_size or size < 16 or size > 65536 or size & (size - 1):
            raise ParameterError(f"partition_size must be a power of two in [16, 65536], got {partition_size!r}")
        self._enclosure = enclosure
        self._listener = listener if listener is not None else Listener()
        self._room = resolve_room(room)
        self._head = head
        _head_key(head)  # validate the type now
        self._max_order = int(max_order)
        self._partition_size = size
        self._convolver = None
        self._convolver_rate: float | None = None

    @classmethod
    def from_preset(cls, name_or_path, *, room=None, head=None, listener: Listener | None = None,
                    **kwargs) -> "Auralizer":
        """The auralizer of a preset's enclosure at its design listener with its design head.

        Parameters
        ----------
        name_or_path : str, os.PathLike or Preset
            A built-in preset name, a preset file or a loaded preset.
        room, head, listener, **kwargs
            Override the room (default free field), the head (default the preset's design head)
            and the listener (default the preset's); the rest goes to :class:`Auralizer`.
        """
        from .. import presets

        preset = name_or_path if isinstance(name_or_path, presets.Preset) else presets.load(name_or_path)
        return cls(preset.enclosure, listener=preset.listener if listener is None else listener, room=room,
                   head=preset.parameters.head_model if head is None else head, **kwargs)

    # ------------------------------------------------------------------ description
    @property
    def enclosure(self) -> Enclosure:
        return self._enclosure

    @property
    def listener(self) -> Listener:
        return self._listener

    @property
    def room(self) -> Room | None:
        """The room (None: free field)."""
        return self._room

    @property
    def num_drivers(self) -> int:
        return self._enclosure.num_drivers

    def __repr__(self) -> str:
        room = "anechoic" if self._room is None else self._room.name
        head = self._head if isinstance(self._head, (str, type(None))) else type(self._head).__name__
        return (f"<soundstage.monitor.Auralizer enclosure={self._enclosure.name!r} room={room!r} head={head!r} "
                f"distance_m={self._listener.distance_m:g} drivers={self.num_drivers}>")

    def impulse_responses(self, sample_rate: float) -> np.ndarray:
        """The driver→ear impulse responses used at ``sample_rate``, ``(2, n_drivers, n_taps)``.

        See :func:`binaural_impulse_responses` (bulk delay removed, read-only, cached).
        """
        return binaural_impulse_responses(self._enclosure, self._listener, sample_rate, room=self._room,
                                          head=self._head, max_order=self._max_order)[0]

    # ------------------------------------------------------------------ processor protocol
    def output_channels(self, num_input_channels: int) -> int:
        return 2

    def _before_processing(self, sample_rate: float, num_channels: int, reset: bool) -> None:
        if num_channels != self.num_drivers:
            raise ParameterError(
                f"Auralizer for {self._enclosure.name!r} takes {self.num_drivers} driver feeds "
                f"{list(self._enclosure.driver_names)}, got {num_channels} channels"
            )

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        if num_input_channels != self.num_drivers:
            raise ParameterError(
                f"Auralizer for {self._enclosure.name!r} takes {self.num_drivers} driver feeds, "
                f"got num_input_channels={num_input_channels}"
            )
        if self._convolver is not None and self._convolver_rate == float(sample_rate):
            return
        from .._kernels.convolver import PartitionedConvolver

        irs = self.impulse_responses(sample_rate)  # (2, D, n)
        filters = np.ascontiguousarray(np.transpose(irs, (1, 0, 2)), dtype=np.float32)  # (D, 2, n)
        self._convolver = PartitionedConvolver(filters, partition_size=self._partition_size)
        self._convolver_rate = float(sample_rate)

    def move_listener(self, listener: Listener, crossfade_samples: int = 0, *, impulse_responses=None) -> None:
        """Move the listener, mid-stream if need be: the ear signals crossfade linearly from
        the old position's impulse responses to the new one's over ``crossfade_samples`` (the
        convolver keeps its input history, so there is no gap and no onset).

        Parameters
        ----------
        listener : Listener
            The new listening position.
        crossfade_samples : int
            Length of the crossfade in output samples (0: switch at the next sample).
        impulse_responses : numpy.ndarray [shape=(n_drivers, 2, n_taps), dtype=float32], optional
            The new position's responses already computed (e.g. in the background, so that the
            audio call does not compute them); default: computed here.
        """
        if not isinstance(listener, Listener):
            raise ParameterError(f"listener must be a Listener, got {type(listener).__name__}")
        self._listener = listener
        if self._convolver is None:
            return
        if impulse_responses is None:
            irs = self.impulse_responses(self._convolver_rate)
            filters = np.ascontiguousarray(np.transpose(irs, (1, 0, 2)), dtype=np.float32)
        else:
            filters = np.ascontiguousarray(impulse_responses, dtype=np.float32)
        taps = self._convolver.num_taps
        if filters.shape[2] <= taps:
            padded = np.zeros(filters.shape[:2] + (taps,), dtype=np.float32)
            padded[:, :, :filters.shape[2]] = filters
            self._convolver.set_filters(padded, int(crossfade_samples))
        else:  # longer responses need a longer convolver (its history starts empty)
            from .._kernels.convolver import PartitionedConvolver

            self._convolver = PartitionedConvolver(filters, partition_size=self._partition_size)

    @property
    def latency_samples(self) -> int:
        """The convolver's latency: ``partition_size`` samples (the bulk propagation delay is not
        part of the output; see the module docstring)."""
        return self._partition_size

    def process_block(self, block: np.ndarray) -> np.ndarray:
        if self._convolver is None:
            raise ParameterError("Auralizer.process_block called before prepare(sample_rate, ...)")
        out = np.empty((2, block.shape[1]), dtype=np.float32)
        self._convolver.process_into(np.ascontiguousarray(block, dtype=np.float32), out)
        return out

    def _reset_state(self) -> None:
        if self._convolver is not None:
            self._convolver.reset()

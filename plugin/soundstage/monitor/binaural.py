"""``BinauralProcessor``: a :class:`~soundstage.processor.SpatialProcessor` heard on headphones.

The driver feeds of the wrapped processor go straight into an :class:`~.auralizer.Auralizer` of
its enclosure at its design listener with its design head, block by block, so the pair streams
like one processor: ``(2, n)`` ear signals, latency = the processor's + the auralizer's, any
chunking equal to one call. The simulated listener follows the processor's listener: its design
listener, or where :meth:`SpatialProcessor.set_listener` / a :class:`ListenerTrack` put the head.
A move mid-stream computes the new impulse responses in the background (never in the audio
call) and crossfades to them when they are ready; with a track, at the row's sample (computed
there), so a tracked render does not depend on timing or chunking.

The listening simulation sits above the processor layer: the processor never imports it.

Examples
--------
>>> import numpy as np
>>> from soundstage import SpatialProcessor
>>> from soundstage.monitor import BinauralProcessor
>>> ears = BinauralProcessor(SpatialProcessor("compact-speaker"))
>>> ears(np.zeros((2, 4800), np.float32), 48000).shape
(2, 4800)
"""

from __future__ import annotations

import copy

import numpy as np

from .._errors import ParameterError
from ..processor.base import StreamingProcessor
from ..processor.redesign import DesignQueue
from ..processor.spatial import CROSSFADE_MS, SpatialProcessor
from .auralizer import Auralizer, binaural_impulse_responses

__all__ = ["BinauralProcessor"]

#: Block size the auralizer is prepared for (its convolver takes any block size).
_AURALIZER_BLOCK = 8192


class BinauralProcessor(StreamingProcessor):
    """The ear signals of a listener in front of the enclosure a processor feeds.

    Parameters
    ----------
    processor : SpatialProcessor or str
        The processor whose driver feeds are auralized, or a preset name / path from which one
        is made (with ``**parameters``).
    **parameters
        Initial parameters of a processor made from a preset name (``width_deg=20`` ...).

    Notes
    -----
    The processor's parameter properties (``width_deg``, ``listener_offset_m``, ``bypass`` …)
    are reachable on this object too; setting one redesigns the processor as usual.
    """

    driver_names = ("left_ear", "right_ear")
    num_output_channels = 2

    def __init__(self, processor: "SpatialProcessor | str" = "studio-speaker", **parameters) -> None:
        if not isinstance(processor, SpatialProcessor):
            processor = SpatialProcessor(processor, **parameters)
        elif parameters:
            raise ParameterError("parameters are only accepted with a preset name; set them on the processor")
        super().__init__()
        self._processor = processor
        self._auralizer: Auralizer | None = None
        self._auralizer_for: tuple | None = None
        self._moves = DesignQueue(_impulse_responses_for)  # listener moves, computed off the audio call
        self._move_asked: tuple | None = None

    @property
    def processor(self) -> SpatialProcessor:
        """The wrapped driver-feed processor."""
        return self._processor

    def __repr__(self) -> str:
        return f"<soundstage.monitor.BinauralProcessor of {self._processor!r}>"

    # copies and pickles: an independent processor (see soundstage.processor.state), no stream
    def __reduce__(self):
        return (type(self), (copy.copy(self._processor),))

    def __copy__(self):
        return type(self)(copy.copy(self._processor))

    def __deepcopy__(self, memo):
        return self.__copy__()

    def get_state(self) -> dict:
        """The wrapped processor's state (:meth:`SpatialProcessor.get_state`)."""
        return self._processor.get_state()

    def set_state(self, state: dict) -> None:
        """Restore the wrapped processor's state (:meth:`SpatialProcessor.set_state`)."""
        self._processor.set_state(state)

    def wait_for_design(self, timeout_s: float | None = None) -> None:
        """See :meth:`SpatialProcessor.wait_for_design`."""
        self._processor.wait_for_design(timeout_s)

    # ------------------------------------------------------------------ processor protocol
    def output_channels(self, num_input_channels: int) -> int:
        return 2

    def _before_processing(self, sample_rate: float, num_channels: int, reset: bool) -> None:
        self._processor._before_processing(sample_rate, num_channels, reset)

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        self._processor.prepare(sample_rate, num_input_channels, max_block_size)
        self._follow_listener()

    def _listener_key(self) -> tuple:
        processor = self._processor
        filters = processor.filterset
        tracked = processor._tracked
        return filters.sample_rate, (tracked if tracked is not None else filters.listener)

    def _follow_listener(self, now: bool = True) -> None:
        """Follow the listener: a move mid-stream crossfades the auralizer's impulse responses
        with the processor's crossfade (computed here if ``now``, else asked of the background
        and adopted by a later block); a new sample rate builds a new auralizer."""
        key = self._listener_key()
        if self._auralizer_for == key:
            return
        sample_rate, listener = key
        if self._auralizer is not None and self._auralizer_for[0] == sample_rate:
            crossfade = int(round(CROSSFADE_MS * sample_rate / 1000.0))
            if now:
                self._moves.discard()
                self._move_asked = None
                self._auralizer.move_listener(listener, crossfade)
                self._auralizer_for = key
                return
            ready = self._moves.take_ready() if self._moves.has_ready else None
            if ready is not None and ready[0] is not None and ready[0][0] == key:
                self._auralizer.move_listener(listener, crossfade, impulse_responses=ready[0][1])
                self._auralizer_for = key
            elif self._move_asked != key:
                processor = self._processor
                self._moves.request(key, processor.enclosure, processor.design_parameters.head_model)
                self._move_asked = key
        else:
            processor = self._processor
            auralizer = Auralizer(processor.enclosure, listener=listener,
                                  head=processor.design_parameters.head_model)
            auralizer.prepare(sample_rate, processor.enclosure.num_drivers, _AURALIZER_BLOCK)
            self._auralizer, self._auralizer_for = auralizer, key

    @property
    def latency_samples(self) -> int:
        if self._auralizer is None:
            return 0
        return int(self._processor.latency_samples + self._auralizer.latency_samples)

    def process_block(self, block: np.ndarray) -> np.ndarray:
        processor = self._processor
        if processor.track is None:
            feeds = processor.process_block(block)
            self._follow_listener(now=False)
            return self._auralizer.process_block(feeds)
        # With a track, move at the rows' samples: split the block there.
        cuts = sorted({c for c in processor._track_cuts(block.shape[1]) if 0 < c < block.shape[1]})
        parts = []
        for start, stop in zip([0, *cuts], [*cuts, block.shape[1]]):
            feeds = processor.process_block(np.ascontiguousarray(block[:, start:stop]))
            self._follow_listener(now=True)
            parts.append(self._auralizer.process_block(feeds))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _reset_state(self) -> None:
        self._processor._reset_state()
        if self._processor.filterset is not None:
            self._follow_listener()
        if self._auralizer is not None:
            self._auralizer.reset()


def _impulse_responses_for(key, enclosure, head):
    """(key, impulse responses as the auralizer's convolver takes them) for a moved listener."""
    sample_rate, listener = key
    irs, _ = binaural_impulse_responses(enclosure, listener, sample_rate, head=head)
    return key, np.ascontiguousarray(np.transpose(irs, (1, 0, 2)), dtype=np.float32)


def _forward(name: str) -> property:
    def get(self):
        return getattr(self._processor, name)

    def set(self, value):
        setattr(self._processor, name, value)

    return property(get, set, doc=f"The wrapped processor's ``{name}``.")


for _name in (*SpatialProcessor._PARAMETERS, "bypass"):
    setattr(BinauralProcessor, _name, _forward(_name))
del _name

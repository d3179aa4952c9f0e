"""``SpatialProcessor``: the whole soundstage chain behind pedalboard's calling convention.

Stereo (or mono, treated as a centred source) in → adaptive upmix to left', right', centre
(:class:`soundstage._kernels.upmix.CentreExtractor`) → one FIR matrix (virtualizer, crosstalk
cancellation / null-steering, centre beam, crossovers and delay alignment folded together,
:class:`soundstage._kernels.convolver.PartitionedConvolver`) → one feed per driver.

Filters are designed lazily for the sample rate of the call and cached. Changing a parameter
in the middle of a stream designs the new filters in the background (:mod:`.redesign`: coalesced,
one design in flight per processor, on a small shared pool) while the old ones keep playing, then
crossfades to them over ``CROSSFADE_MS``. A crossfade always runs to its end: a design that
finishes during one waits and is adopted when it ends, so the output never jumps. A change of the
centre extraction (``bypass="upmix"``) ramps the extraction strength over the same crossfade.
A stream on the single-tap engine (the ±30° pair) that automation takes to a full design leaves
it for the upmix + FIR matrix warmed up on the recent input (:mod:`.input_history`), and
crossfades like any change. No call waits for a redesign except the very first one of a stream.

A one-shot call (``reset=True``) of at least ``OFFLINE_MIN_SAMPLES`` samples runs the offline
engine (:mod:`.offline_render`): the same upmix, then the FIR matrix in large independent
overlap-save blocks (:class:`soundstage._kernels.BlockConvolver`), equal to the streaming engine
to float32 round-off (≤ 1e-6 of full scale), with the same latency compensation and length.
Shorter calls, the single-tap engine and renders that follow a listener track stream.
"""

from __future__ import annotations

from dataclasses import replace

import os
import threading
import warnings
from pathlib import Path

import numpy as np

from .. import presets as _presets
from .._errors import ParameterError
from ..acoustics.geometry import Enclosure, Listener
from ..design import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, DesignParameters, FilterSet, design_filterset
from .._kernels._checks import within
from .fir_plan import stereo_taps
from .input_history import InputHistory
from .render_stream import OfflineRendering
from .parameters import ParameterProperties
from .base import StreamingProcessor
from .redesign import DesignQueue
from .state import ProcessorState
from .tracking_mixin import ListenerTracking

__all__ = ["SpatialProcessor"]


#: Crossfade length when filters change mid-stream (ms).
CROSSFADE_MS = 30.0
#: Samples beyond ±this (+12 dB re full scale) are clipped where the upmix estimates its
#: statistics (not in the audio it passes on).
UPMIX_ADAPT_LIMIT = 4.0
#: Partition size of the FIR matrix convolution (samples) per sample rate class.
_PARTITION = ((50000, 256), (100000, 512), (float("inf"), 1024))


def _design_in_background(enclosure, listener, design, sample_rate, asked) -> FilterSet:
    """The filters for ``design`` (the parameters ``asked`` with the stream's latency pinned),
    reporting the parameters asked for."""
    filters = design_filterset(enclosure, listener, design, sample_rate)
    return filters if design == asked else replace(filters, parameters=asked)


def _partition_for(sample_rate: float) -> int:
    return next(size for limit, size in _PARTITION if sample_rate <= limit)


class SpatialProcessor(ParameterProperties, ListenerTracking, ProcessorState, OfflineRendering, StreamingProcessor):
    """Stereo in, one feed per driver of a compact enclosure out, with a ±30° stereo image.

    Parameters
    ----------
    preset : str, os.PathLike, Preset or Enclosure
        A built-in preset name (``soundstage.presets.list()``), a preset file, a loaded
        :class:`~soundstage.presets.Preset`, or an :class:`~soundstage.acoustics.Enclosure` (then
        ``listener`` and ``design`` give the rest).
    listener : Listener, optional
        Design listening position (only with an Enclosure; presets carry their own).
    design : DesignParameters, optional
        Design parameters (only with an Enclosure).
    partition_size : int, optional
        Partition of the FIR-matrix convolution (power of two, 64–8192 samples); it is part of the
        latency of streaming. Default 256 up to 50 kHz, 512 up to 100 kHz, 1024 above (low
        latency). Long one-shot calls do not use it (see below).
    num_threads : int, optional
        1 (default) or 2: long one-shot calls (``reset=True``) and :meth:`render_chunks` (file
        renders) convolve the FIR matrix's blocks on a worker thread while the calling thread upmixes ahead and takes blocks when the worker
        falls behind (:mod:`soundstage.processor.offline_render`); the output is bitwise the same
        as with one thread. Streaming calls always run on the calling thread.
    **parameters
        Initial values of the parameter properties (``width_deg=20`` ...) and ``bypass``.

    Examples
    --------
    >>> import numpy as np
    >>> from soundstage import SpatialProcessor
    >>> proc = SpatialProcessor("studio-speaker")
    >>> stereo = np.zeros((2, 4800), dtype=np.float32)
    >>> proc(stereo, 48000).shape
    (5, 4800)
    """

    # Every path of process_block (FIR matrix, taps, tracked pieces) returns a new array.
    _process_block_returns_new_arrays = True

    def __init__(self, preset: "str | os.PathLike | _presets.Preset | Enclosure" = "studio-speaker", *,
                 listener: Listener | None = None, design: DesignParameters | None = None,
                 partition_size: int | None = None, num_threads: int = 1, **parameters):
        super().__init__()
        if isinstance(preset, Enclosure):
            self._preset = None
            self._enclosure = preset
            self._listener = listener if listener is not None else Listener()
            self._design = design if design is not None else DesignParameters()
        else:
            if listener is not None or design is not None:
                raise ParameterError("listener= and design= are only accepted with an Enclosure; "
                                     "a preset carries its own (override single parameters instead)")
            loaded = preset if isinstance(preset, _presets.Preset) else _presets.load(preset)
            self._preset = loaded
            self._enclosure = loaded.enclosure
            self._listener = loaded.listener
            self._design = loaded.parameters
        if partition_size is not None and (not isinstance(partition_size, (int, np.integer))
                                           or partition_size < 64 or partition_size > 8192
                                           or partition_size & (partition_size - 1)):
            raise ParameterError(f"partition_size must be a power of two from 64 to 8192 samples, got {partition_size!r}")
        self._partition_size = None if partition_size is None else int(partition_size)
        if not isinstance(num_threads, (int, np.integer)) or isinstance(num_threads, bool) or num_threads not in (1, 2):
            raise ParameterError(f"num_threads must be 1 or 2, got {num_threads!r}")
        self._num_threads = int(num_threads)
        self._pool = None
        self._open_render = None  # weak reference to the last offline render started
        self._filters: FilterSet | None = None
        self._queue = DesignQueue(_design_in_background)
        self._fade_left = 0  # output samples of the running crossfade still to play
        self._strength_ramp: list | None = None  # [from, to, length, position] of the upmix strength
        self._kernels_for: tuple | None = None
        self._extractor = None
        self._convolver = None
        self._taps = None  # TapMatrix when the FIR matrix is pure gains/delays (fir_plan)
        self._block_convolver = None  # (FilterSet, BlockConvolver) of the offline engine
        self._history: InputHistory | None = None  # recent input while on the tap engine
        self._kernel_latency: int | None = None
        self._upmixed = np.zeros((3, 0), dtype=np.float32)
        self._parameter_lock = threading.RLock()
        self._init_tracking()
        if "output" in parameters:
            raise ParameterError("SpatialProcessor outputs driver feeds; for the ear signals wrap it: "
                                 "soundstage.monitor.BinauralProcessor(SpatialProcessor(...))")
        unknown = sorted(set(parameters) - set(self._PARAMETERS) - {"bypass"})
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown}; allowed: {sorted(self._PARAMETERS) + ['bypass']}")
        for name, value in parameters.items():
            setattr(self, name, value)

    @classmethod
    def from_preset(cls, name_or_path: str | Path, **parameters) -> "SpatialProcessor":
        """Build a processor from a built-in preset name or a preset file."""
        return cls(_presets.load(name_or_path), **parameters)

    # ------------------------------------------------------------------ description
    @property
    def enclosure(self) -> Enclosure:
        return self._enclosure

    @property
    def listener(self) -> Listener:
        """The design listener (with the current distance and offset)."""
        return self._listener

    @property
    def design_parameters(self) -> DesignParameters:
        return self._design

    @property
    def driver_names(self) -> tuple[str, ...]:
        """Output channel names: one per driver of the enclosure."""
        return self._enclosure.driver_names

    @property
    def num_threads(self) -> int:
        """Threads a long one-shot call renders on (1 or 2; the output does not depend on it)."""
        return self._num_threads

    @property
    def num_output_channels(self) -> int:
        return len(self.driver_names)

    @property
    def filterset(self) -> FilterSet | None:
        """The :class:`FilterSet` playing now (None before the first call); a redesign in
        flight replaces it when it is adopted."""
        return self._filters

    def __repr__(self) -> str:
        name = self._preset.name if self._preset is not None else self._enclosure.name
        return (f"<soundstage.SpatialProcessor preset={name!r} width_deg={self.width_deg:g} "
                f"target_cancellation_db={self.target_cancellation_db} centre_gain_db={self.centre_gain_db:g} "
                f"beam={self.beam} bypass={sorted(self.bypass)} drivers={self.num_output_channels}>")

    # ------------------------------------------------------------------ design
    def design(self, sample_rate: float) -> FilterSet:
        """The :class:`FilterSet` for the current parameters at ``sample_rate`` (cached)."""
        with self._parameter_lock:
            enclosure, listener, design = self._enclosure, self._listener, self._design
        return design_filterset(enclosure, listener, design, sample_rate)

    def wait_for_design(self, timeout_s: float | None = None) -> bool:
        """Block until the redesigns asked for by parameter changes have finished (the newest
        is adopted, with its crossfade, by the next processed block once any crossfade still
        running has ended). Returns False on timeout."""
        return self._queue.wait(timeout_s)

    def _schedule_redesign(self) -> None:
        """After a parameter change (called with the parameter lock held): ask the design queue
        for the new filters; it coalesces requests so the newest always lands. Without filters
        yet, the first processing call designs them."""
        filters = self._filters
        if filters is None:
            return
        if self._retarget():  # a tracked listener: the tracker designs for where it is
            return
        self._queue.request(self._enclosure, self._listener, self._latency_kept(self._design, filters),
                            filters.sample_rate, self._design)

    @staticmethod
    def _latency_kept(design: DesignParameters, filters: FilterSet) -> DesignParameters:
        """A redesign in the middle of a stream keeps the stream's latency: the modelling delay
        the filters in use settled on, pinned (a new latency could not crossfade). A reset or a
        new stream designs afresh with the adaptive delay."""
        if not design.adapt_modelling_delay:
            return design
        return replace(design, modelling_delay_ms=filters.latency_samples * 1000.0 / filters.sample_rate,
                       adapt_modelling_delay=False)

    def _is_current(self, filters: FilterSet | None, sample_rate: float) -> bool:
        return (filters is not None and filters.sample_rate == sample_rate and filters.parameters == self._design
                and filters.listener == self._listener)

    # ------------------------------------------------------------------ processor protocol
    def output_channels(self, num_input_channels: int) -> int:
        return self.num_output_channels

    def _before_processing(self, sample_rate: float, num_channels: int, reset: bool) -> None:
        if num_channels > 2:
            raise ParameterError(
                f"SpatialProcessor takes stereo or mono input, got {num_channels} channels; "
                "downmix to stereo first"
            )
        if not (MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE):
            raise ParameterError(
                f"sample_rate must be in [{MIN_SAMPLE_RATE:g}, {MAX_SAMPLE_RATE:g}] Hz, got {sample_rate:g}"
            )

    def prepare(self, sample_rate: float, num_input_channels: int, max_block_size: int) -> None:
        """Design (or take the pending design of) the filters for ``sample_rate`` and build the
        kernels; off the real-time path, so it waits for a redesign in flight."""
        self._take_newest_design(sample_rate)
        self._build_kernels(self._filters)
        with self._parameter_lock:
            self._retarget()

    def _take_newest_design(self, sample_rate: float) -> None:
        """Make ``self._filters`` match the current parameters at ``sample_rate`` now (no
        crossfade). A design that fails restores the parameters of the filters in use."""
        self._queue.discard()
        self._fade_left = 0
        self._strength_ramp = None
        if self._is_current(self._filters, sample_rate):
            return
        try:
            self._filters = self.design(sample_rate)
        except Exception:
            self._restore_parameters_of(self._filters)
            raise

    def _build_kernels(self, filters: FilterSet, allow_taps: bool = True) -> None:
        from .._kernels.convolver import PartitionedConvolver
        from .._kernels.tap_matrix import TapMatrix
        from .._kernels.upmix import CentreExtractor

        partition = self._partition_size or _partition_for(filters.sample_rate)
        taps = stereo_taps(filters.fir, filters.centre_extraction) if allow_taps else None
        if taps is not None:
            # Pure gains and delays with a cancelling centre (e.g. the ±30° pair): no upmix, no
            # FFT; the taps keep the convolver's latency so alignment does not depend on the plan.
            self._taps = TapMatrix(taps.inputs, taps.outputs, np.asarray(taps.delays, dtype=np.intp) + partition,
                                   taps.gains, num_inputs=2, num_outputs=filters.num_drivers)
            self._kernel_latency = partition
            self._kernels_for = None
            # Enough input for the FIR engine to join the stream warm (see _leave_tap_engine).
            warm_up = int(8 * filters.upmix_time_constant_ms * 1e-3 * filters.sample_rate)
            self._history = InputHistory(2, filters.num_taps + partition + warm_up)
            return
        self._taps = None
        self._history = None
        key = (filters.sample_rate, filters.fir.shape, filters.upmix_band_edges_hz,
               filters.upmix_time_constant_ms, self._partition_size)
        self._fade_left = 0
        self._strength_ramp = None
        if self._kernels_for != key:
            self._extractor = CentreExtractor(filters.upmix_band_edges_hz, filters.sample_rate,
                                              time_constant_ms=filters.upmix_time_constant_ms,
                                              strength=filters.centre_extraction)
            self._convolver = PartitionedConvolver(np.ascontiguousarray(filters.fir), partition_size=partition)
            self._kernel_latency = self._convolver.latency_samples
            self._kernels_for = key
        else:
            self._convolver.set_filters(np.ascontiguousarray(filters.fir), 0)
            self._extractor.strength = filters.centre_extraction

    @property
    def latency_samples(self) -> int:
        """Samples by which the output lags the input while streaming (0 before the first call)."""
        if self._filters is None or self._kernel_latency is None:
            return 0
        return int(self._kernel_latency + self._filters.latency_samples)

    def _restore_parameters_of(self, filters: FilterSet | None) -> None:
        if filters is not None:
            with self._parameter_lock:
                self._design, self._listener = filters.parameters, filters.listener

    def _adopt_ready_design(self) -> None:
        """Between blocks, once any running crossfade has ended: switch to the newest finished
        background design with a crossfade. A design that failed leaves the current filters
        playing and warns; with nothing newer on the way it also restores their parameters."""
        if self._fade_left > 0:
            return
        if self._tracker is not None and self._track is None and self._taps is None:
            served = self._tracker.serve(self._filters)
            if served is not None:
                self._switch_to(served)
                return
        if not self._queue.has_ready:  # the usual block: no lock taken
            return
        ready = self._queue.take_ready()
        if ready is None:
            return
        new, error = ready
        old = self._filters
        if error is not None:
            with self._parameter_lock:
                if not self._queue.busy:
                    self._restore_parameters_of(old)
            warnings.warn(f"SpatialProcessor: the new parameters cannot be designed ({error}); "
                          "the previous ones stay in use", RuntimeWarning, stacklevel=4)
            return
        if old is not None and new.sample_rate != old.sample_rate:
            return  # designed for a sample rate no longer in use
        self._switch_to(new)

    def _switch_to(self, new: FilterSet, crossfade_ms: float = CROSSFADE_MS) -> None:
        """Play ``new`` from the next sample, crossfading from what plays over ``crossfade_ms``
        when the two have the same shape and latency (otherwise at once); from the tap engine,
        the FIR engine starts warm on the recent input and crossfades like any change."""
        old = self._filters
        if old is not None and new.fir.shape == old.fir.shape and new.latency_samples == old.latency_samples:
            if self._taps is not None:
                self._leave_tap_engine(old)
            crossfade = int(round(crossfade_ms * new.sample_rate / 1000.0))
            self._convolver.set_filters(np.ascontiguousarray(new.fir), crossfade)
            if new.centre_extraction != old.centre_extraction:
                # Ramp the extraction with the convolver's raised-cosine crossfade.
                self._strength_ramp = [old.centre_extraction, new.centre_extraction, crossfade, 0]
                self._extractor.strength = 1.0
            self._fade_left = crossfade
            self._filters = new
        else:  # a change of shape or latency cannot crossfade: switch at once
            self._filters = new
            self._build_kernels(new)

    def _leave_tap_engine(self, filters: FilterSet) -> None:
        """Replace the tap engine by the upmix + FIR matrix of the same ``filters`` (equal to the
        taps to float32 round-off), run over the input history so both hold the state they would
        have had they run all along: the new design then crossfades in like any other."""
        history = self._history.recent()
        self._build_kernels(filters, allow_taps=False)
        upmixed = np.empty((3, history.shape[1]), dtype=np.float32)
        self._upmix_limited(history, upmixed)
        self._convolver.process_into(upmixed, np.empty((filters.num_drivers, history.shape[1]), dtype=np.float32))

    def _upmix_ramped(self, block: np.ndarray, upmixed: np.ndarray) -> None:
        """The upmix with its extraction strength moving along ``_strength_ramp`` (the kernel
        ramps it per sample, raised cosine, in step with the convolver's crossfade)."""
        start, end, length, position = self._strength_ramp
        n = block.shape[1]
        self._extractor.process_into(block, upmixed, strength_ramp=(start, end, length, position))
        if position + n >= length:
            self._strength_ramp = None
            self._extractor.strength = end
        else:
            self._strength_ramp[3] = position + n

    def process_block(self, block: np.ndarray) -> np.ndarray:
        self._adopt_ready_design()
        if self._track is not None and self._taps is None:
            return self._process_tracked(block)
        return self._process_untracked(block)

    def _process_untracked(self, block: np.ndarray) -> np.ndarray:
        n = block.shape[1]
        if block.shape[0] == 1:
            block = np.repeat(block, 2, axis=0)
        if self._taps is not None:
            self._history.push(block)
            return self._taps.process(block)
        if self._upmixed.shape[1] != n:
            self._upmixed = np.empty((3, n), dtype=np.float32)
        upmixed = self._upmixed
        self._upmix_limited(block, upmixed)
        out = np.empty((self._filters.num_drivers, n), dtype=np.float32)
        self._convolver.process_into(upmixed, out)
        if self._fade_left > 0:
            self._fade_left -= n
        return out

    def _upmix_limited(self, block: np.ndarray, upmixed: np.ndarray, kernel=None) -> None:
        """The upmix of ``block`` into ``upmixed`` (the strength ramp if one runs), or — given
        ``kernel``, a copy of the upmix kernel (the offline engine's second thread) — the same
        on that kernel, without a ramp. It adapts on the block clipped to ±UPMIX_ADAPT_LIMIT, so
        one spike cannot dominate its running averages for longer than their time constant;
        what was clipped off goes to left'/right' unchanged, so left' + centre = left still."""
        source = block if within(block, UPMIX_ADAPT_LIMIT) else np.clip(block, -UPMIX_ADAPT_LIMIT, UPMIX_ADAPT_LIMIT)
        if kernel is not None:
            kernel.process_into(source, upmixed)
        elif self._strength_ramp is None:
            self._extractor.process_into(source, upmixed)
        else:
            self._upmix_ramped(source, upmixed)
        if source is not block:
            upmixed[:2] += block - source

    def _reset_state(self) -> None:
        if self._filters is not None and (self._queue.busy or self._queue.has_ready or self._strength_ramp
                                          or not self._is_current(self._filters, self._filters.sample_rate)):
            # A reset is off the real-time path: take the newest design without a crossfade.
            self._take_newest_design(self._filters.sample_rate)
            self._build_kernels(self._filters)
        self._restart_tracking()
        if self._taps is not None:
            self._taps.reset()
            self._history.clear()
        elif self._extractor is not None:
            self._extractor.reset()
            self._convolver.reset()
            self._fade_left = 0

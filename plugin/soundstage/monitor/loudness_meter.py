"""Loudness and true peak (ITU-R BS.1770-4, EBU Tech 3342): of a whole signal, and of a signal that
arrives block by block, in bounded memory.

:func:`integrated_loudness_lufs` (pyloudnorm) and :func:`true_peak_dbtp` measure audio in memory.
:class:`StreamingLoudnessMeter` K-weights each block with the two biquads pyloudnorm uses
(``pyloudnorm.Meter``'s own coefficients, run by ``scipy.signal.sosfilt`` with its ``zi`` state
carried from block to block) and keeps, per channel, only the energy of the filtered signal between
consecutive gating-block edges: the 400 ms blocks with 75 % overlap of BS.1770 (integrated loudness) and
the 3 s short-term blocks pyloudnorm's Tech 3342 loudness range uses. A 10-minute render costs a
few megabytes of segment energies instead of the signal; the block edges are computed by
pyloudnorm's own formula, so the results equal ``pyloudnorm.Meter`` on the whole signal (to
floating-point rounding; checked in the tests to 0.01 LU). Because every gating block's energy is
kept, the loudness after any gain is recomputed exactly — gates included — without reading the
audio again (:meth:`MeasuredLoudness.integrated_lufs_at`).

The meter also keeps the sample peak, the 4× oversampled true peak (overlapping blocks, as
:func:`true_peak_dbtp`), the mean square for the crest factor and,
for stereo, the energy of the side signal (L − R)/2 per 100 ms hop, which
:mod:`soundstage.compare.excerpt` uses to find the most active part of a long input.

References
----------
ITU-R BS.1770-4 (2015), eq. 1–7; EBU Tech 3342 (2016), loudness range; pyloudnorm (Steinmetz &
Reiss 2021), whose filter coefficients and block edges are reused here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyloudnorm
import scipy.signal

from .._errors import ParameterError

__all__ = ["StreamingLoudnessMeter", "MeasuredLoudness", "CHANNEL_WEIGHTS", "integrated_loudness_lufs",
           "true_peak_dbtp", "MIN_DURATION_S", "TRUE_PEAK_OVERSAMPLING"]

#: BS.1770's gating block (s): shorter signals have no integrated loudness.
MIN_DURATION_S = 0.4
#: Oversampling factor of the true-peak approximation (BS.1770-4 Annex 2 uses 4× at 48 kHz).
TRUE_PEAK_OVERSAMPLING = 4
# Floor for logarithms of peaks and levels.
_TINY = 1e-12

#: BS.1770 channel weights G_i (L, R, C, Ls, Rs).
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
# Tech 3342 as pyloudnorm runs it: 3 s blocks, overlap 0.97, after 1.5 s of appended silence.
_LRA_BLOCK_S, _LRA_OVERLAP, _LRA_SILENCE_S = 3.0, 0.97, 1.5
_LRA_RELATIVE_GATE_LU, _LRA_PERCENTILES = -20.0, (10, 95)
_TRUE_PEAK_OVERLAP = 64


def _block_edges(count: int, block_s: float, overlap: float, sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper sample edges of ``count`` gating blocks, by pyloudnorm's formula."""
    step = 1.0 - overlap
    lower = np.array([int(block_s * (j * step) * sample_rate) for j in range(count)], dtype=np.int64)
    upper = np.array([int(block_s * (j * step + 1) * sample_rate) for j in range(count)], dtype=np.int64)
    return lower, upper


def _block_count(frames: int, block_s: float, overlap: float, sample_rate: float) -> int:
    seconds = frames / sample_rate
    return int(np.round((seconds - block_s) / (block_s * (1.0 - overlap)))) + 1


def _k_weighting_sos(sample_rate: float) -> np.ndarray:
    """pyloudnorm's K-weighting (high shelf, then high pass) as second-order sections."""
    stages = pyloudnorm.Meter(sample_rate)._filters  # the coefficients pyloudnorm filters with
    return np.vstack([scipy.signal.tf2sos(stage.b, stage.a) for stage in stages.values()])


def _gated_loudness(z: np.ndarray, weights: np.ndarray) -> float:
    """BS.1770-4 eq. 4–7: integrated loudness (LUFS) from block mean squares ``z`` (channels, blocks)."""
    if z.shape[1] == 0:
        return float("-inf")
    power = weights @ z
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(power)
    above = block_lufs >= _ABSOLUTE_GATE_LUFS
    if not np.any(above):
        return float("-inf")
    relative = -0.691 + 10.0 * np.log10(weights @ z[:, above].mean(axis=1)) + _RELATIVE_GATE_LU
    gated = (block_lufs > relative) & (block_lufs > _ABSOLUTE_GATE_LUFS)
    if not np.any(gated):
        return float("-inf")
    with np.errstate(divide="ignore"):
        return float(-0.691 + 10.0 * np.log10(weights @ z[:, gated].mean(axis=1)))


def _db(value: float) -> float:
    return float(20.0 * np.log10(max(value, _TINY)))


def _frames(audio: np.ndarray, sample_rate: float, name: str) -> np.ndarray:
    """``(channels, n)`` → pyloudnorm's ``(n, channels)`` float64, with the length checked."""
    audio = np.asarray(audio)
    if audio.ndim != 2 or audio.shape[0] < 1:
        raise ParameterError(f"{name}: expected audio of shape (channels, samples), got {audio.shape}")
    if audio.shape[1] < MIN_DURATION_S * sample_rate:
        raise ParameterError(
            f"{name}: {audio.shape[1]} samples ({audio.shape[1] / sample_rate:.3f} s) is shorter than "
            f"BS.1770's {MIN_DURATION_S} s gating block; integrated loudness needs at least "
            f"{int(np.ceil(MIN_DURATION_S * sample_rate))} samples at {sample_rate:g} Hz"
        )
    return np.ascontiguousarray(audio.T, dtype=np.float64)


def integrated_loudness_lufs(audio, sample_rate: float, *, name: str = "audio") -> float:
    """Integrated loudness per ITU-R BS.1770-4 (pyloudnorm), LUFS.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
        One to five channels (BS.1770 order L, R, C, Ls, Rs); ``n >= 0.4 * sample_rate``.
    sample_rate : float
        Sample rate in Hz.
    name : str
        Name used in error messages.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` for silence.
    """
    return float(pyloudnorm.Meter(sample_rate).integrated_loudness(_frames(audio, sample_rate, name)))


def true_peak_dbtp(audio, sample_rate: float | None = None, *, oversampling: int = TRUE_PEAK_OVERSAMPLING) -> float:
    """Approximate true peak (dBTP): the sample peak after ``oversampling``× resampling.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
    sample_rate : float, optional
        Unused by the computation (kept for a uniform signature), Hz.
    oversampling : int
        Upsampling factor (BS.1770-4 Annex 2: 4 at 48 kHz).

    Returns
    -------
    float
        ``20·log10(max |resample_poly(x, oversampling, 1)|)``; at least the sample peak.

    References
    ----------
    ITU-R BS.1770-4 (2015), Annex 2: Guidelines for accurate measurement of "true-peak" level.
    """
    # float32 is ample for a peak (≈ 1e-6 dB) and makes the polyphase filter ~3× faster
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    upsampled = scipy.signal.resample_poly(audio, oversampling, 1, axis=-1)
    return _db(max(float(np.max(np.abs(upsampled))), float(np.max(np.abs(audio)))))


@dataclass(frozen=True)
class MeasuredLoudness:
    """What :meth:`StreamingLoudnessMeter.result` measured.

    Attributes
    ----------
    sample_rate : float
    frames : int
        Samples per channel measured.
    block_energy : np.ndarray [shape=(channels, blocks)]
        Mean square of the K-weighted signal in each 400 ms gating block (BS.1770 eq. 1).
    integrated_lufs : float
        Integrated loudness (LUFS; ``-inf`` for silence).
    loudness_range_lu : float
        Loudness range (EBU Tech 3342 as pyloudnorm computes it; NaN when undefined).
    short_term_lufs : np.ndarray
        Loudness of each 3 s block (hop ≈ 90 ms), before gating.
    sample_peak_dbfs, true_peak_dbtp, crest_factor_db : float
    hop_energy : np.ndarray [shape=(hops,)]
        Energy of the K-weighted channels summed (BS.1770 weights) per 100 ms hop.
    side_hop_energy : np.ndarray [shape=(hops,)] or None
        Energy of the K-weighted side signal (L − R)/2 per hop (stereo only).
    hop_frames : float
        Samples per hop.
    """

    sample_rate: float
    frames: int
    block_energy: np.ndarray
    weights: np.ndarray
    integrated_lufs: float
    loudness_range_lu: float
    short_term_lufs: np.ndarray
    sample_peak_dbfs: float
    true_peak_dbtp: float
    crest_factor_db: float
    hop_energy: np.ndarray
    side_hop_energy: np.ndarray | None
    hop_frames: float

    def integrated_lufs_at(self, gain_db: float) -> float:
        """Integrated loudness (LUFS) of the signal scaled by ``gain_db`` — gates re-applied."""
        return _gated_loudness(self.block_energy * 10.0 ** (gain_db / 10.0), self.weights)


class StreamingLoudnessMeter:
    """Measure BS.1770 loudness, loudness range and peaks of audio fed block by block.

    Parameters
    ----------
    sample_rate : float
        Sample rate in Hz.
    num_channels : int
        1 to 5 channels (BS.1770 order L, R, C, Ls, Rs).

    Examples
    --------
    >>> import numpy as np, pyloudnorm
    >>> x = np.random.default_rng(0).standard_normal((2, 48000 * 3)) * 0.1
    >>> meter = StreamingLoudnessMeter(48000, 2)
    >>> for start in range(0, x.shape[1], 10000):
    ...     meter.process(x[:, start:start + 10000])
    >>> whole = pyloudnorm.Meter(48000).integrated_loudness(x.T)
    >>> abs(meter.result().integrated_lufs - whole) < 1e-6
    True
    """

    #: Hop of the per-hop energies (s): the step of BS.1770's overlapping blocks.
    HOP_S = 0.1

    def __init__(self, sample_rate: float, num_channels: int) -> None:
        self.sample_rate = float(sample_rate)
        self.num_channels = int(num_channels)
        self._sos = _k_weighting_sos(self.sample_rate)
        self._zi = np.zeros((self._sos.shape[0], self.num_channels, 2))
        self._frames = 0
        # Energy per channel (and of the side signal, last row) of each segment between two
        # consecutive block edges, summed locally: a block's energy is the sum of its segments,
        # never a difference of running totals (which loses quiet blocks after loud passages).
        self._rows = self.num_channels + (1 if self.num_channels == 2 else 0)
        self._edges: list[int] = [0]
        self._segments: list[np.ndarray] = []
        self._open = np.zeros(self._rows)  # energy since the last edge
        self._wanted = self._edge_generator()
        self._next_edge = next(self._wanted)
        self._peak = 0.0
        self._square_sum = 0.0
        self._true_peak = 0.0
        self._tail = np.zeros((self.num_channels, 0), np.float32)
        self._measured_any = False
        self._finished: MeasuredLoudness | None = None

    def _edge_generator(self):
        """Every sample index at which a block of either kind (or a hop) starts or ends, ascending
        and without repeats (each kind's edges ascend; they are merged)."""
        import heapq
        import itertools

        rate = self.sample_rate

        def edges(block_s: float, overlap: float, upper: bool):
            step = 1.0 - overlap
            for j in itertools.count():
                yield int(block_s * (j * step + (1 if upper else 0)) * rate)

        def hops():
            for j in itertools.count():
                yield int(round(j * self.HOP_S * rate))

        last = -1
        for edge in heapq.merge(edges(0.4, 0.75, False), edges(0.4, 0.75, True), edges(_LRA_BLOCK_S, _LRA_OVERLAP, False),
                                edges(_LRA_BLOCK_S, _LRA_OVERLAP, True), hops()):
            if edge != last:
                yield edge
                last = edge

    def process(self, block) -> None:
        """Add the next ``(channels, n)`` samples."""
        if self._finished is not None:
            raise RuntimeError("the meter has finished; make a new one")
        self._add(np.asarray(block), measure_peaks=True)

    def _add(self, block: np.ndarray, measure_peaks: bool) -> None:
        n = block.shape[1]
        if n == 0:
            return
        if measure_peaks:
            self._peak = max(self._peak, float(np.max(np.abs(block))))
            self._square_sum += float(np.sum(np.square(block, dtype=np.float64)))
            self._true_peak_of(block)
        filtered, self._zi = scipy.signal.sosfilt(self._sos, block.astype(np.float64), axis=-1, zi=self._zi)
        if self._rows > self.num_channels:
            filtered = np.vstack([filtered, 0.5 * (filtered[0] - filtered[1])])
        energy = np.square(filtered)
        start, stop = self._frames, self._frames + n
        cuts = []
        while self._next_edge <= stop:
            if self._next_edge > start:
                cuts.append(self._next_edge)
            self._next_edge = next(self._wanted)
        offsets = [0] + [edge - start for edge in cuts if edge < stop]  # piece k: [offsets[k], offsets[k+1] or n)
        pieces = np.add.reduceat(energy, offsets, axis=1)
        for k, edge in enumerate(cuts):  # piece k ends at cut k
            self._segments.append(self._open + pieces[:, k])
            self._open = np.zeros(self._rows)
            self._edges.append(edge)
        if pieces.shape[1] > len(cuts):  # the samples after the last cut
            self._open = self._open + pieces[:, len(cuts)]
        self._frames = stop

    def _true_peak_of(self, block: np.ndarray | None) -> None:
        """4× oversampled peak of the samples that have ``_TRUE_PEAK_OVERLAP`` samples of context on
        both sides (the rest waits for the next block; ``None`` ends the signal), so blocks give the
        same value as resampling the whole signal."""
        margin = _TRUE_PEAK_OVERLAP
        joined = self._tail if block is None else np.concatenate([self._tail, np.asarray(block, np.float32)], axis=1)
        start = margin if self._measured_any else 0
        stop = joined.shape[1] if block is None else joined.shape[1] - margin
        if stop > start and np.any(joined):
            up = scipy.signal.resample_poly(joined, 4, 1, axis=-1)
            self._true_peak = max(self._true_peak, float(np.max(np.abs(up[:, 4 * start:4 * stop]), initial=0.0)))
        if stop > start:
            self._measured_any = True
            self._tail = joined[:, max(stop - margin, 0):]
        else:
            self._tail = joined

    def _span_energy(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Energy ``(rows, spans)`` of the samples ``[lower, upper)`` of each span, clipped to the
        signal; every bound is a recorded edge (or the end)."""
        edges = np.array(self._edges + ([self._frames] if self._edges[-1] < self._frames else []))
        segments = np.column_stack(self._segments + [self._open] + [np.zeros(self._rows)]) \
            if self._segments else np.column_stack([self._open, np.zeros(self._rows)])
        first = np.searchsorted(edges, np.minimum(lower, self._frames))
        last = np.searchsorted(edges, np.minimum(upper, self._frames))
        width = int(np.max(last - first, initial=0))
        if width == 0:
            return np.zeros((self._rows, lower.size))
        index = first[:, None] + np.arange(width)[None, :]
        index = np.where(index < last[:, None], index, segments.shape[1] - 1)  # the zero column
        return segments[:, index].sum(axis=2)

    def result(self) -> MeasuredLoudness:
        """Finish and return the measurements (the meter takes no more audio afterwards)."""
        if self._finished is not None:
            return self._finished
        rate, frames = self.sample_rate, self._frames
        weights = np.array(CHANNEL_WEIGHTS[: self.num_channels])
        if frames >= 0.4 * rate:
            count = _block_count(frames, 0.4, 0.75, rate)
            lower, upper = _block_edges(count, 0.4, 0.75, rate)
            z = self._span_energy(lower, upper)[: self.num_channels] / (0.4 * rate)
        else:
            z = np.zeros((self.num_channels, 0))
        hop_count = int(frames // (self.HOP_S * rate))
        hop_edges = np.array([int(round(j * self.HOP_S * rate)) for j in range(hop_count + 1)])
        hops = self._span_energy(hop_edges[:-1], hop_edges[1:])
        hop_energy = weights @ hops[: self.num_channels]
        side = hops[self.num_channels] if self._rows > self.num_channels else None
        integrated = _gated_loudness(z, weights)
        self._true_peak_of(None)
        # Tech 3342 as pyloudnorm: the signal followed by 1.5 s of silence (the filters ring on)
        signal_end = frames
        self._add(np.zeros((self.num_channels, int(_LRA_SILENCE_S * rate))), measure_peaks=False)
        short_term, lra = self._loudness_range(weights)
        peak = float(20 * np.log10(max(self._peak, 1e-12)))
        rms = np.sqrt(self._square_sum / max(signal_end * self.num_channels, 1))
        crest = peak - float(20 * np.log10(rms)) if rms > 0 else float("nan")
        true_peak = float(20 * np.log10(max(self._true_peak, self._peak, 1e-12)))
        self._finished = MeasuredLoudness(rate, signal_end, z, weights, integrated, lra, short_term, peak, true_peak,
                                          crest, hop_energy, side, self.HOP_S * rate)
        self._edges, self._segments = [0], []
        return self._finished

    def _loudness_range(self, weights: np.ndarray) -> tuple[np.ndarray, float]:
        rate, frames = self.sample_rate, self._frames
        if frames < _LRA_BLOCK_S * rate:
            return np.zeros(0), float("nan")
        count = _block_count(frames, _LRA_BLOCK_S, _LRA_OVERLAP, rate)
        lower, upper = _block_edges(count, _LRA_BLOCK_S, _LRA_OVERLAP, rate)
        z = self._span_energy(lower, upper)[: self.num_channels] / (_LRA_BLOCK_S * rate)
        with np.errstate(divide="ignore"):
            short_term = -0.691 + 10.0 * np.log10(weights @ z)
        gated = short_term[short_term >= _ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return short_term, float("nan")
        level = 10.0 * np.log10(np.mean(10.0 ** (gated / 10.0)))
        gated = gated[gated >= level + _LRA_RELATIVE_GATE_LU]
        if gated.size == 0:
            return short_term, float("nan")
        low, high = np.percentile(gated, _LRA_PERCENTILES)
        return short_term, float(high - low)

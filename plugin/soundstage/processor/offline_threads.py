"""Two-thread offline rendering of the upmix + FIR-matrix chain, bit-identical to one thread.

The FIR matrix is split by outputs into two :class:`~soundstage._kernels.PartitionedConvolver`
groups (:class:`SplitConvolver`). Each output's arithmetic — the input spectra, the order of the
multiply-accumulate over inputs and partitions, the inverse transform, the crossfade — is the
same in a group as in the whole matrix, so the outputs are bitwise those of one convolver.

A one-shot render then runs as a two-stage pipeline over its chunks (:func:`render_pipelined`):
while a worker thread convolves chunk j for the second group, the calling thread upmixes chunk
j + 1 and convolves chunk j for the first group. Every kernel releases the GIL for its whole
call, so the two threads run on two cores. The first group is chosen so both threads carry about
the same work (:func:`balanced_split`).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable, Iterator

import numpy as np

from .._kernels.convolver import PartitionedConvolver

__all__ = ["SplitConvolver", "balanced_split", "render_pipelined"]

# Costs per sample (ns), measured on studio-speaker at 48 kHz with 256-sample partitions
# (benchmarks/processor.py, benchmarks/kernels.py): the upmix ≈ 10 (its gains evaluated every 16
# samples; ≈ 30 when they were evaluated per sample), each input's forward FFT ≈ 1.8, each output
# ≈ 2.2 (inverse FFT, flush) + 0.3 per partition of an active path. For the studio chain the
# calling thread takes the upmix and the first two outputs, the worker the other three;
# two-output presets leave the whole FIR matrix to the worker. Only the balance depends on them,
# never the output.
_UPMIX_COST = 10.0
_FORWARD_COST_PER_INPUT = 1.8
_OUTPUT_COST = 2.2
_PATH_COST = 0.3  # per partition of an active path


def balanced_split(fir: np.ndarray, partition_size: int) -> int:
    """Number k of leading outputs the calling thread convolves (besides the upmix) so that it
    and the worker (outputs k…) carry about the same cost; 0 <= k < num_outputs."""
    num_inputs, num_outputs, num_taps = fir.shape
    partitions = -(-num_taps // partition_size)
    active = np.any(fir != 0, axis=-1).sum(axis=0)
    per_output = _OUTPUT_COST + _PATH_COST * partitions * active
    forward = _FORWARD_COST_PER_INPUT * num_inputs
    best, best_k = float("inf"), 0
    for k in range(num_outputs):
        main = _UPMIX_COST + (forward + per_output[:k].sum() if k else 0.0)
        worker = forward + per_output[k:].sum()
        if max(main, worker) < best:
            best, best_k = max(main, worker), k
    return best_k


class SplitConvolver:
    """A :class:`PartitionedConvolver` cut by outputs into ``[:split]`` and ``[split:]``, with
    its API (``process_into``, ``set_filters``, ``reset``, ``latency_samples``); either group
    can also run alone (``process_group_into``), e.g. on another thread.

    Parameters
    ----------
    filters : numpy.ndarray [shape=(num_inputs, num_outputs, num_taps)]
    split : int
        Outputs of the first group, 0 <= split < num_outputs (0: one group does everything).
    partition_size : int, keyword
    """

    def __init__(self, filters: np.ndarray, split: int, *, partition_size: int):
        filters = np.ascontiguousarray(filters, dtype=np.float32)
        self._split = int(split)
        self._num_outputs = filters.shape[1]
        self._groups = [PartitionedConvolver(np.ascontiguousarray(part), partition_size=partition_size)
                        for part in self._parts(filters)]

    def _parts(self, array: np.ndarray) -> list[np.ndarray]:
        if self._split == 0:
            return [array]
        return [array[:, : self._split], array[:, self._split :]]

    def group_slices(self) -> list[slice]:
        """Output rows of each group."""
        if self._split == 0:
            return [slice(0, self._num_outputs)]
        return [slice(0, self._split), slice(self._split, self._num_outputs)]

    def process_group_into(self, group: int, x: np.ndarray, out_rows: np.ndarray) -> None:
        """Convolve ``x`` for one group into ``out_rows`` (that group's rows of the output)."""
        self._groups[group].process_into(x, out_rows)

    def process_into(self, x: np.ndarray, out: np.ndarray) -> None:
        for group, rows in enumerate(self.group_slices()):
            self._groups[group].process_into(x, out[rows])

    def set_filters(self, filters: np.ndarray, crossfade_samples: int = 0) -> None:
        for group, part in zip(self._groups, self._parts(np.asarray(filters, dtype=np.float32))):
            group.set_filters(np.ascontiguousarray(part), crossfade_samples)

    def reset(self) -> None:
        for group in self._groups:
            group.reset()

    @property
    def latency_samples(self) -> int:
        return self._groups[0].latency_samples


def render_pipelined(extractor, convolver: SplitConvolver, chunks: Iterable[np.ndarray],
                     pool: concurrent.futures.Executor) -> Iterator[np.ndarray]:
    """Yield ``convolver(extractor(chunk))`` for every stereo chunk, in order, on two threads.

    The calling thread upmixes chunk j + 1 and convolves group 0 of chunk j while ``pool``'s
    worker convolves the last group of chunk j; the kernels' state advances exactly as in a
    serial run, so the output is bitwise the same.
    """
    rows = convolver.group_slices()
    num_outputs = rows[-1].stop
    iterator = iter(chunks)
    current = next(iterator, None)
    if current is None:
        return
    upmixed = extractor.process(current)
    while current is not None:
        out = np.empty((num_outputs, current.shape[1]), dtype=np.float32)
        last = len(rows) - 1
        worker = pool.submit(convolver.process_group_into, last, upmixed, out[rows[last]])
        try:
            following = next(iterator, None)
            upmixed_next = extractor.process(following) if following is not None else None
            if last:
                convolver.process_group_into(0, upmixed, out[rows[0]])
        finally:
            worker.result()
        yield out
        current, upmixed = following, upmixed_next

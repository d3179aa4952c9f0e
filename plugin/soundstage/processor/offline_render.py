"""One-shot (offline) rendering of the upmix + FIR-matrix chain, on one thread or two.

A one-shot call has its whole input at hand, so the FIR matrix need not run in the streaming
engine's small partitions (chosen for latency): :class:`~soundstage._kernels.BlockConvolver`
convolves in large overlap-save blocks with one transform per block and no delay line, about
twice the streaming engine's speed at 256-sample partitions. The output is the streaming
engine's to float32 round-off (the same convolution summed in another order: ≈ 1e-7 of full
scale, ``tests/test_processor_offline.py``), with the same latency compensation, length and
alignment; the upmix is the very same kernel call sequence, so its output is bitwise the
streaming one.

:func:`render_offline` runs it (holding the upmixed input, 12 bytes per sample, beside the
output; ``soundstage render`` streams files in constant memory instead): the upmix streams over the input (then the latency's zeros, as
the streaming engine's one-shot does) into one padded buffer, chunk by chunk; every overlap-save
block whose input window is complete may be convolved. Because a block depends on its window
alone, blocks can be computed by any thread in any order with bitwise the same result, so with
a worker thread the calling thread upmixes ahead while the worker convolves the blocks already
upmixed, and the calling thread takes blocks too whenever the worker falls behind (and all of
them once the upmix is done). The output does not depend on who computed what.

Afterwards the streaming convolver is left in the state it would have after streaming the same
input: it is warmed on the tail of the upmixed input, starting at a whole number of its
frequency-domain delay line's cycles (K partitions), which reproduces its partition phase, its
delay line and its pending output exactly; the upmix kernel has streamed the input itself. A
raw stream (``process_block``) that continues after a one-shot call therefore continues bitwise
as if everything had streamed.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from typing import Callable

import numpy as np

__all__ = ["OFFLINE_MIN_SAMPLES", "render_offline"]

#: One-shot inputs shorter than this (samples) run the streaming engine: below it the block
#: engine's large transforms over a mostly zero-padded signal save too little to matter.
OFFLINE_MIN_SAMPLES = 8192
#: Samples upmixed per step (3 × 8192 float32 = 96 kB: the worker reads them while they are
#: still in the cache shared with the upmix).
UPMIX_CHUNK = 8192


class _BlockQueue:
    """Blocks ``[next, ready)`` may be convolved; ``ready`` grows as the upmix advances."""

    def __init__(self, num_blocks: int):
        self.num_blocks = num_blocks
        self.ready = 0
        self.next = 0
        self.cancelled = False
        self.condition = threading.Condition()

    def publish(self, ready: int) -> None:
        with self.condition:
            self.ready = ready
            self.condition.notify_all()

    def cancel(self) -> None:
        with self.condition:
            self.cancelled = True
            self.condition.notify_all()

    def claim(self, wait: bool, backlog: int = 0, most: int = 1) -> tuple[int, int] | None:
        """The next blocks ``(first, stop)`` to convolve (at most ``most``), or None: none left
        (or ``cancelled``), or — without ``wait`` — fewer than ``backlog + 1`` waiting."""
        with self.condition:
            while True:
                if self.cancelled or self.next >= self.num_blocks:
                    return None
                if self.ready - self.next > backlog:
                    first = self.next
                    self.next = min(self.ready, first + most)
                    return first, self.next
                if not wait:
                    return None
                self.condition.wait()


def _worker(queue: _BlockQueue, convolve: Callable[[int, int], None]) -> None:
    while (blocks := queue.claim(wait=True)) is not None:
        convolve(*blocks)


def render_offline(stereo: np.ndarray, upmix_into: Callable[[np.ndarray, np.ndarray], None], block_convolver,
                   streaming_convolver, *, fir_latency: int, pool: Executor | None = None) -> np.ndarray:
    """The one-shot output of upmix → FIR matrix for ``stereo``, time-aligned and as long.

    Parameters
    ----------
    stereo : numpy.ndarray [shape=(2, n), dtype=float32]
        The input; ``n >= 1``.
    upmix_into : callable
        ``upmix_into(block (2, m), out (3, m))``: the processor's streaming upmix (its state
        advances over the input and then ``P + fir_latency`` zeros, as in a streaming one-shot).
    block_convolver : BlockConvolver
        The FIR matrix, ``num_taps - 1 >= fir_latency``.
    streaming_convolver : PartitionedConvolver
        The same FIR matrix for streaming, with partition P; left warm (see the module notes).
    fir_latency : int
        D, the FilterSet's latency (samples): output sample t is the convolution at t + D.
    pool : concurrent.futures.Executor, optional
        With a pool, one worker convolves blocks while this thread upmixes (two threads).

    Returns
    -------
    numpy.ndarray [shape=(num_outputs, n), dtype=float32]
    """
    n = stereo.shape[1]
    num_taps, hop = block_convolver.num_taps, block_convolver.hop
    partition = streaming_convolver.partition_size
    total = n + partition + fir_latency  # what the streaming one-shot pushes through
    # Padded index k holds upmixed sample k + shift: block b's outputs are the convolution at
    # [b·hop + D, (b + 1)·hop + D), i.e. output samples [b·hop, (b + 1)·hop).
    shift = fir_latency - (num_taps - 1)
    assert shift <= 0, "render_offline needs fir_latency < num_taps"
    num_blocks = block_convolver.num_blocks(n)
    padded = np.zeros((3, max(block_convolver.padded_length(n), total - shift)), dtype=np.float32)
    out = np.empty((block_convolver.num_outputs, n), dtype=np.float32)

    def convolve(first: int, stop: int) -> None:
        block_convolver.convolve_into(padded, out, first, stop)

    queue = _BlockQueue(num_blocks)
    worker = pool.submit(_worker, queue, convolve) if pool is not None else None
    try:
        upmixed = np.empty((3, UPMIX_CHUNK), dtype=np.float32)
        zeros = None
        for start in range(0, total, UPMIX_CHUNK):
            stop = min(start + UPMIX_CHUNK, total)
            if stop <= n:
                chunk = np.ascontiguousarray(stereo[:, start:stop])
            else:
                if zeros is None:
                    zeros = np.zeros((2, UPMIX_CHUNK), dtype=np.float32)
                chunk = np.ascontiguousarray(zeros[:, : stop - start]) if start >= n else np.concatenate(
                    [stereo[:, start:n], zeros[:, : stop - n]], axis=1)
            target = upmixed if stop - start == UPMIX_CHUNK else np.empty((3, stop - start), dtype=np.float32)
            upmix_into(chunk, target)
            padded[:, start - shift: stop - shift] = target
            # Block b reads padded [b·hop, b·hop + N): complete once the upmix passed its end.
            complete = num_blocks if stop == total else min(num_blocks, (stop - shift - block_convolver.fft_size) // hop + 1)
            queue.publish(max(complete, 0))
            if worker is None:
                if (blocks := queue.claim(wait=False, most=num_blocks)) is not None:
                    convolve(*blocks)
            else:  # help only when the worker falls behind: the upmix is the critical path
                while (blocks := queue.claim(wait=False, backlog=1)) is not None:
                    convolve(*blocks)
        # The upmixed input is complete: warm the streaming convolver while the worker (if any)
        # goes on with the blocks, then share what is left.
        _warm(streaming_convolver, padded, shift, total, num_taps)
        while (blocks := queue.claim(wait=False)) is not None:
            convolve(*blocks)
    finally:
        if worker is not None:
            queue.cancel()  # every block is claimed (or an error ends the render): release the worker
            worker.result()
    return out


def _warm(convolver, padded: np.ndarray, shift: int, total: int, num_taps: int) -> None:
    """Leave ``convolver`` as after streaming upmixed samples ``[0, total)``.

    Its state after T samples: the partition phase T mod P, the previous and the filling
    partition, the spectra of the last K windows (2P samples each, the oldest starting at
    (⌊T/P⌋ − K − 1)·P) in a ring of K slots, and the pending output block computed from them.
    Streaming from a multiple s of K·P at or before that oldest window, from a reset state,
    rebuilds all of it bitwise, ring position included."""
    partition = convolver.partition_size
    cycle = -(-num_taps // partition)  # K
    oldest = total // partition - cycle - 1
    start = (oldest // cycle) * cycle * partition if oldest > 0 else 0
    convolver.reset()
    tail = np.ascontiguousarray(padded[:, start - shift: total - shift])
    convolver.process_into(tail, np.empty((convolver.num_outputs, tail.shape[1]), dtype=np.float32))

"""The offline engine of the upmix + FIR-matrix chain: whole signals or a stream of chunks, one
thread or two.

An offline render knows its input ahead of the output it owes, so the FIR matrix need not run in
the streaming engine's small partitions (chosen for latency): :class:`~soundstage._kernels.BlockConvolver`
convolves in large overlap-save blocks with one transform per block and no delay line, about
twice the streaming engine's speed at 256-sample partitions. The output is the streaming
engine's to float32 round-off (the same convolution summed in another order: ≈ 1e-7 of full
scale, ``tests/test_processor_offline.py``), with the same latency compensation, length and
alignment; the upmix is the very same kernel call sequence, so its output is bitwise the
streaming one.

:class:`OfflineRender` runs it: the upmix streams over the input (then the latency's zeros, as
the streaming engine's one-shot does) into a padded buffer; every overlap-save block whose input
window is complete may be convolved. Because a block depends on its window alone, blocks can be
computed by any thread in any order with bitwise the same result, so with a worker thread the
calling thread upmixes ahead while the worker convolves the blocks already upmixed, and the
calling thread takes blocks too whenever the worker falls behind. The output does not depend on
who computed what, nor on how the input was chunked.

Given the input's length up front (:meth:`OfflineRender.render_whole`, a one-shot call) the buffer is one
segment holding the whole padded input and the output is written in place. With a worker and an
input of a few seconds or more, the upmix itself is shared too: the worker upmixes the second
half on a copy of the kernel started ≈ 2 s early, and its output counts only from where the two
kernels' states are bit for bit equal (:meth:`OfflineRender._render_split`). Fed chunk by chunk
without a length (``SpatialProcessor.render_chunks``, file renders) it is two segments of
``S`` blocks used in turn: segment j holds padded samples ``[j·S·hop, j·S·hop + (S − 1)·hop + N)``
(and ``P`` more at the very end), the next one starts with the ``N − hop`` samples the two share,
and a segment is refilled only once its blocks are done and their output handed out — memory does
not depend on the input's length, and the output equals the one-shot call's bitwise.

Afterwards the streaming convolver is left in the state it would have after streaming the same
input: it is warmed on the tail of the upmixed input, starting at a whole number of its
frequency-domain delay line's cycles (K partitions), which reproduces its partition phase, its
delay line and its pending output exactly; the upmix kernel has streamed the input itself. A
raw stream (``process_block``) that continues after an offline render therefore continues bitwise
as if everything had streamed.
"""

from __future__ import annotations

import collections
import functools
import importlib
import threading
import weakref
from concurrent.futures import Executor, Future
from typing import Any, Callable

import numpy as np

__all__ = ["OFFLINE_MIN_SAMPLES", "SEGMENT_BLOCKS", "OfflineRender", "block_convolver_for", "run_into"]

#: One-shot inputs shorter than this (samples) run the streaming engine: below it the block
#: engine's large transforms over a mostly zero-padded signal save too little to matter.
OFFLINE_MIN_SAMPLES = 8192
#: Samples upmixed per step (3 × 16384 float32 = 192 kB of padded input: the blocks read them
#: while they are still in the core's L2).
UPMIX_CHUNK = 16384
#: Blocks per segment of a chunked render (at least; more if the streaming convolver's warm-up
#: needs a longer tail): 4 blocks of 14465 samples for the studio speaker, ≈ 3.8 MB in all.
SEGMENT_BLOCKS = 4
#: With a worker, the calling thread convolves too only while more than this many blocks wait
#: (the upmix is the critical path; the worker falls behind only when it loses its core).
HELP_BACKLOG = 2
#: A whole render on two threads upmixes the input's second half on the worker, starting this
#: many time constants of the upmix's averages early (≈ 1.9 s at 40 ms): a copy of the kernel
#: started from rest has then, as a rule, forgotten its start bit for bit (a float64 average
#: forgets a relative difference of 1 in ln 2^53 ≈ 37 time constants; noise and a voice over
#: ambience take 41–43, ``tests/test_kernels_upmix.py``).
SPLIT_PREROLL_TIME_CONSTANTS = 48
#: ... and only inputs at least this many prerolls long (shorter ones gain too little).
SPLIT_MIN_PREROLLS = 4
#: ... and only FIR matrices of at most this many outputs. With more (the studio speaker's 5, the
#: soundbar's 6) the blocks outweigh the upmix (≈ 14 against ≈ 10 ns per sample), the worker's
#: blocks already balance the calling thread's upmix, and a split only adds its preroll: 20 s
#: on two threads, in the same process, 1.85–1.91× one thread without it, 1.72–1.79× with it;
#: with 2 outputs 1.37–1.58× without, 1.61–1.72× with.
SPLIT_MAX_OUTPUTS = 3


#: The offline FIR matrix of each design still alive, shared by every processor rendering it
#: (a render starts without transforming the filters again: ≈ 2 ms for the studio speaker).
_BLOCK_CONVOLVERS: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()
_BLOCK_CONVOLVERS_LOCK = threading.Lock()


def block_convolver_for(filters):
    """The :class:`~soundstage._kernels.BlockConvolver` of ``filters`` (a FilterSet), built once
    per design. Sharing it is safe: each call takes its own scratch, and nothing else changes."""
    from .._kernels.block_convolver import BlockConvolver

    with _BLOCK_CONVOLVERS_LOCK:
        convolver = _BLOCK_CONVOLVERS.get(filters)
    if convolver is None:
        convolver = BlockConvolver(np.ascontiguousarray(filters.fir))
        with _BLOCK_CONVOLVERS_LOCK:
            convolver = _BLOCK_CONVOLVERS.setdefault(filters, convolver)
    return convolver


class _BlockQueue:
    """Blocks ``[next, ready)`` may be convolved; ``ready`` grows as the upmix advances, ``done``
    is the number of leading blocks finished. A claim never crosses a segment boundary."""

    def __init__(self, segment_blocks: int, num_blocks: int | None = None):
        self.segment_blocks = segment_blocks
        self.num_blocks = num_blocks  # None until the input's end is known
        self.ready = 0
        self.next = 0
        self.done = 0
        self._finished: set[int] = set()
        self.cancelled = False
        self.condition = threading.Condition()
        self._tasks: collections.deque[Callable[[], None]] = collections.deque()
        self.worker_ident: int | None = None  # the worker thread's, once it runs

    def publish(self, ready: int, num_blocks: int | None = None) -> None:
        with self.condition:
            self.ready = max(self.ready, ready)
            if num_blocks is not None:
                self.num_blocks = num_blocks
            self.condition.notify_all()

    def cancel(self) -> None:
        with self.condition:
            self.cancelled = True
            self.condition.notify_all()

    def claim(self, backlog: int = 0, most: int = 1, below: int | None = None) -> tuple[int, int] | None:
        """The next blocks ``(first, stop)`` to convolve (at most ``most``, none from ``below``
        on), or None: fewer than ``backlog + 1`` waiting (or none left, or ``cancelled``)."""
        with self.condition:
            if self.cancelled or (self.num_blocks is not None and self.next >= self.num_blocks):
                return None
            if (below is not None and self.next >= below) or self.ready - self.next <= backlog:
                return None
            first = self.next
            segment_end = (first // self.segment_blocks + 1) * self.segment_blocks
            self.next = min(self.ready, first + most, segment_end, below if below is not None else first + most)
            return first, self.next

    def claim_or_wait(self, blocks: int, most: int = 1) -> tuple[int, int] | None:
        """The next blocks below ``blocks`` to convolve (at most ``most``), waiting for them to
        be offered; None once the first ``blocks`` are done (or the render is cancelled)."""
        with self.condition:
            while True:
                if (claimed := self.claim(most=most, below=blocks)) is not None:
                    return claimed
                if self.done >= blocks or self.cancelled:
                    return None
                self.condition.wait()

    def post(self, task: Callable[[], None], after_cancel: bool = False) -> bool:
        """Queue ``task`` for the worker (False, and nothing queued, once cancelled — unless
        ``after_cancel``: from the worker itself, which runs every task left before it stops)."""
        with self.condition:
            if self.cancelled and not after_cancel:
                return False
            self._tasks.append(task)
            self.condition.notify_all()
            return True

    def take_task(self) -> Callable[[], None] | None:
        """The oldest task not yet run, or None."""
        with self.condition:
            return self._tasks.popleft() if self._tasks else None

    def next_work(self) -> tuple[int, int] | Callable[[], None] | None:
        """The worker's next job, waiting for one: a posted task (oldest first, before any
        block), else the next block ``(first, first + 1)``; None once cancelled."""
        with self.condition:
            while True:
                if self.cancelled:
                    return None
                if self._tasks:
                    return self._tasks.popleft()
                if (blocks := self.claim()) is not None:  # (the condition's lock is re-entrant)
                    return blocks
                self.condition.wait()

    def complete(self, first: int, stop: int) -> None:
        with self.condition:
            self._finished.update(range(first, stop))
            while self.done in self._finished:
                self._finished.discard(self.done)
                self.done += 1
            self.condition.notify_all()


#: Queues of the renders not yet collected: cancelled when the interpreter exits, so a worker
#: still waiting for blocks of a render left open does not hold up the exit (the thread pools'
#: workers are joined then; ``threading._register_atexit`` runs before that join, newest first).
_LIVE_QUEUES: "weakref.WeakSet[_BlockQueue]" = weakref.WeakSet()


def _cancel_live_queues() -> None:
    for queue in list(_LIVE_QUEUES):
        queue.cancel()


if hasattr(threading, "_register_atexit"):
    importlib.import_module("concurrent.futures.thread")  # its join registers first, so runs after ours
    threading._register_atexit(_cancel_live_queues)


def run_into(future: Future, fn: Callable[..., Any], *args) -> None:
    """Run ``fn(*args)`` and set ``future``'s result or exception (unless it was cancelled); an
    interrupt (KeyboardInterrupt, SystemExit) is set and raised on as well."""
    if future.set_running_or_notify_cancel():
        try:
            future.set_result(fn(*args))
        except Exception as error:
            future.set_exception(error)
        except BaseException as error:
            future.set_exception(error)
            raise


def _worker(queue: _BlockQueue, convolve_ref: Callable[[], Callable[[int, int], None] | None]) -> None:
    """Convolve claimed blocks until none are left or the render is cancelled. The worker holds
    its render only through a weak reference, so a render dropped without ``close()`` is
    collected, and its finalizer cancels the queue and ends this loop."""
    queue.worker_ident = threading.get_ident()
    try:
        while (work := queue.next_work()) is not None:
            if not isinstance(work, tuple):
                work()
                continue
            convolve = convolve_ref()
            if convolve is None:
                return
            convolve(*work)
            del convolve
    except BaseException:
        queue.cancel()  # the calling thread stops waiting and raises this error
        raise
    finally:  # a worker that stops (cancelled, failed, its render collected) runs the tasks left itself
        while (task := queue.take_task()) is not None:
            task()


class _Segment:
    """The padded input of blocks ``[first, first + S)`` (``x``) and their output (``out``)."""

    def __init__(self, x: np.ndarray, out: np.ndarray):
        self.x, self.out = x, out


class _Split:
    """A whole render's upmix on two threads: the calling thread upmixes the steps before
    ``split_step``, the worker — on ``fork``, a copy of the kernel from rest — the steps from
    ``first`` (a preroll, output discarded) to the end. ``states[i]`` is the fork's state after
    step i, kept until the calling thread's kernel equals one (``verified``); ``front`` is the
    padded column the fork has filled up to, ``end`` the one the whole upmix fills up to."""

    def __init__(self, steps: list[tuple[int, int]], first: int, split_step: int, fork, end: int):
        self.steps, self.first, self.split_step, self.fork, self.end = steps, first, split_step, fork, end
        self.states: dict[int, object] = {}
        self.front = 0
        self.verified = False
        self.future: Future | None = None


class OfflineRender:
    """Upmix → FIR matrix over an input given whole or in chunks, output aligned and trimmed
    like a one-shot call (see the module notes).

    Parameters
    ----------
    upmix_into : callable
        ``upmix_into(block (2, m), out (3, m))``: the processor's streaming upmix (its state
        advances over the input and then ``P + fir_latency`` zeros, as in a streaming one-shot);
        both arrays are column slices (rows contiguous, any distance apart).
    block_convolver : BlockConvolver
        The FIR matrix, ``num_taps - 1 >= fir_latency``.
    streaming_convolver : PartitionedConvolver
        The same FIR matrix for streaming, with partition P; left warm at :meth:`finish`.
    fir_latency : int
        D, the FilterSet's latency (samples): output sample t is the convolution at t + D.
    pool : concurrent.futures.Executor, optional
        With a pool, one worker convolves blocks while the calling thread upmixes (two threads).
    num_samples : int, optional
        The input's length if known (one segment over it all, the output written in place and
        returned whole by :meth:`finish`); otherwise memory stays bounded and :meth:`push`
        returns the output as it is ready.
    upmix_kernel : CentreExtractor, optional
        The kernel ``upmix_into`` advances (no strength ramp running). Given it, a whole render
        with a worker splits the upmix itself between the threads (:meth:`_render_split`);
        ``upmix_into(block, out, kernel=k)`` must then advance ``k`` instead.
    """

    def __init__(self, upmix_into: Callable[..., None], block_convolver, streaming_convolver,
                 *, fir_latency: int, pool: Executor | None = None, num_samples: int | None = None,
                 upmix_kernel=None):
        self._upmix_into = upmix_into
        self._kernel = upmix_kernel
        self._blocks = block_convolver
        self._streaming = streaming_convolver
        taps, hop, size = block_convolver.num_taps, block_convolver.hop, block_convolver.fft_size
        self._hop, self._size = hop, size
        partition = streaming_convolver.partition_size
        self._tail_length = partition + fir_latency  # the zeros a streaming one-shot pushes after the input
        # Padded index k holds upmixed sample k + shift: block b's outputs are the convolution at
        # [b·hop + D, (b + 1)·hop + D), i.e. output samples [b·hop, (b + 1)·hop).
        self._shift = fir_latency - (taps - 1)
        assert self._shift <= 0, "the offline engine needs fir_latency < num_taps"
        num_outputs = block_convolver.num_outputs
        self._whole = num_samples is not None
        if self._whole:
            blocks = max(block_convolver.num_blocks(num_samples), 1)
            length = max(block_convolver.padded_length(num_samples), num_samples + self._tail_length - self._shift)
            self._segments = [_Segment(np.empty((3, length), np.float32), np.empty((num_outputs, num_samples), np.float32))]
        else:
            cycle = -(-taps // partition)  # the warm-up tail (see _warm) must lie in two segments
            blocks = max(SEGMENT_BLOCKS, -(-(2 * cycle + 3) * partition // hop))
            length = (blocks - 1) * hop + size + partition
            self._segments = [_Segment(np.empty((3, length), np.float32), np.empty((num_outputs, blocks * hop), np.float32))
                              for _ in range(2)]
        # Only the history before the first sample needs zeros: the upmix fills the columns
        # after it, and finish() zeroes what the last windows read past the upmixed tail.
        self._segments[0].x[:, :-self._shift] = 0.0
        self._segment_blocks = blocks
        self._window_end = (blocks - 1) * hop + size  # a segment's columns its blocks read
        self._number = 0  # the segment being filled
        self._filled = -self._shift  # its columns filled
        self._num_samples = num_samples
        self._received = 0
        self._emitted = 0
        self._finishing = False
        self._pending: list[np.ndarray] = []
        self._queue = _BlockQueue(blocks, None)
        self._worker = pool.submit(_worker, self._queue, weakref.WeakMethod(self._convolve)) if pool is not None else None
        weakref.finalize(self, self._queue.cancel)  # an abandoned render releases its worker
        self._closing = threading.RLock()  # held while a thread closes the render and runs what is left
        _LIVE_QUEUES.add(self._queue)

    # ------------------------------------------------------------------ public
    def push(self, block: np.ndarray) -> np.ndarray:
        """Upmix and convolve ``block`` (2, m) float32 (or (1, m): a centred mono source, fed as
        two equal channels); returns the output samples now ready (none in the whole-signal
        mode, where :meth:`finish` returns everything)."""
        m = block.shape[1]
        stereo = self._stereo(block)
        for start in range(0, m, UPMIX_CHUNK):
            self._upmix(stereo[:, start:start + UPMIX_CHUNK])
        self._received += m
        return self._take_output()

    def finish(self) -> np.ndarray:
        """End of input: upmix the latency's zeros, convolve the last blocks, warm the streaming
        convolver; returns the rest of the output (all of it in the whole-signal mode)."""
        try:
            n = self._received
            if self._whole and n != self._num_samples:
                raise ValueError(f"internal: {n} samples pushed for {self._num_samples} announced")
            self._num_samples = n
            num_blocks = self._blocks.num_blocks(n)
            self._last_block = num_blocks - 1
            self._finishing = True
            for start in range(0, self._tail_length, UPMIX_CHUNK):
                self._upmix(np.zeros((2, min(UPMIX_CHUNK, self._tail_length - start)), np.float32))
            # Windows reach past the upmixed tail into zeros (a reused segment holds old samples).
            local_last = self._last_block - self._number * self._segment_blocks
            if local_last >= 0:
                self._segments[self._number % len(self._segments)].x[:, self._filled: local_last * self._hop + self._size] = 0.0
            self._queue.publish(num_blocks, num_blocks)
            # The upmixed input is complete: warm the streaming convolver while the worker (if
            # any) goes on with the blocks, then share what is left.
            self._warm()
            self._help_until(num_blocks)
            self._close()
            if self._whole:
                return self._segments[0].out
            return self._take_output()
        finally:
            self._close()

    def render_whole(self, stereo: np.ndarray) -> np.ndarray:
        """The output for the whole of ``stereo`` (1 or 2, n) at once (``push`` then
        ``finish``, or the upmix split between two threads; the render is closed if it fails)."""
        try:
            split = self._split_point(stereo.shape[1])
            if split is not None:
                return self._render_split(self._stereo(stereo), *split)
            self.push(stereo)
        except BaseException:
            self.close()
            raise
        return self.finish()

    def close(self) -> None:
        """Stop (an abandoned render): release the worker."""
        self._close()

    def submit(self, fn: Callable[..., Any], *args) -> Future:
        """Run ``fn(*args)`` on the render's worker thread between its blocks (the tasks of a
        render run in the order submitted, before any block still waiting), or at once on the
        calling thread without a worker or once the render is closed; returns its Future. A file
        render writes its output this way: two threads on two cores, none waiting for a core."""
        future: Future = Future()
        task = functools.partial(run_into, future, fn, *args)
        if self._queue.worker_ident == threading.get_ident():
            self._queue.post(task, after_cancel=True)  # a task's task: the worker runs it after the others
        elif self._worker is None or not self._queue.post(task):
            with self._closing:  # (waits for a close under way on another thread)
                self._close()  # the tasks queued before run first
                task()
        return future

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _stereo(block: np.ndarray) -> np.ndarray:
        """``block`` as two rows the upmix takes as they are (contiguous rows; mono repeated)."""
        if block.shape[0] == 1:
            return np.repeat(block, 2, axis=0)
        if block.strides[1] != block.itemsize or block.strides[0] < block.shape[1] * block.itemsize:
            return np.ascontiguousarray(block)  # the upmix takes column slices of contiguous rows
        return block

    def _split_point(self, n: int) -> tuple[int, int] | None:
        """``(split, preroll)`` samples, multiples of UPMIX_CHUNK, where a whole render splits its
        upmix between two threads; None where it does not (one thread, no kernel, a short input,
        a FIR matrix whose blocks outweigh the upmix)."""
        if not self._whole or self._worker is None or self._kernel is None:
            return None
        if self._blocks.num_outputs > SPLIT_MAX_OUTPUTS:
            return None
        averaging = self._kernel.time_constant_ms * 1e-3 * self._kernel.sample_rate
        preroll = max(-(-int(np.ceil(SPLIT_PREROLL_TIME_CONSTANTS * averaging)) // UPMIX_CHUNK), 1) * UPMIX_CHUNK
        if n < SPLIT_MIN_PREROLLS * preroll:
            return None
        # Each thread upmixes about half (the worker's half with the preroll); the blocks are shared.
        return (n + preroll) // 2 // UPMIX_CHUNK * UPMIX_CHUNK, preroll

    def _render_split(self, stereo: np.ndarray, split: int, preroll: int) -> np.ndarray:
        """A whole render whose upmix runs on both threads, bitwise the one-thread render.

        The upmix is one recursive filter bank and the slowest stage of a render, so one thread
        running it bounds the speed-up (≈ 1.6× with two drivers). Here the worker upmixes
        ``[split − preroll, end)`` on a copy of the kernel started from rest, in the very steps
        the one-thread render takes (UPMIX_CHUNK samples from 0, then the latency's zeros),
        while the calling thread upmixes ``[0, split)``. The output of the same steps on the
        same input depends only on the state the kernel starts a step in, and the copy's state
        converges to the true one bit for bit once its start is forgotten; so at ``split`` the
        calling thread compares its kernel's state with the copy's there. Equal: the copy's
        output from ``split`` on is the one-thread output. Not (yet) equal: the calling thread
        upmixes the next step itself over the copy's output and compares again, until the
        states meet (or it reaches the end). No block whose window reads samples not yet
        verified is offered; the processor's kernel ends in the state the whole input leaves.
        """
        n = stereo.shape[1]
        tail, shift = self._tail_length, self._shift
        end = n + tail - shift  # padded columns the upmix fills; the rest, read by the last windows, are zero
        x = self._segments[0].x
        x[:, end:] = 0.0
        num_blocks = max(self._blocks.num_blocks(n), 1)
        self._received = self._num_samples = n
        self._queue.publish(0, num_blocks)
        steps = ([(a, min(a + UPMIX_CHUNK, n)) for a in range(0, n, UPMIX_CHUNK)]
                 + [(n + a, n + min(a + UPMIX_CHUNK, tail)) for a in range(0, tail, UPMIX_CHUNK)])
        fork = self._kernel.copy()
        fork.reset()
        state = _Split(steps, (split - preroll) // UPMIX_CHUNK, split // UPMIX_CHUNK, fork, end)
        state.future = self.submit(self._upmix_fork, stereo, state)
        # A failed fork ends the render (and wakes the calling thread wherever it waits).
        state.future.add_done_callback(lambda future: future.exception() is not None and self._queue.cancel())
        ready = self._ready_blocks
        for step in range(state.split_step):
            self._upmix_step(stereo, steps[step], x)
            self._queue.publish(ready(steps[step][1] - shift, end))
            while (blocks := self._queue.claim(backlog=HELP_BACKLOG)) is not None:
                self._convolve(*blocks)
        step = state.split_step - 1
        while True:  # the fork's output counts from where the states are equal
            fork_state = self._fork_state(state, step)  # (the fork is past ``step``: its columns are free)
            if step >= state.split_step:
                self._upmix_step(stereo, steps[step], x)
                self._queue.publish(ready(steps[step][1] - shift, end))
            if self._kernel.state_equals(fork_state):
                break
            step += 1
            if step == len(steps):
                break  # never equal: the calling thread upmixed everything itself
        with self._queue.condition:
            state.verified = True
            state.states.clear()
            front = end if step == len(steps) else state.front
        self._queue.publish(ready(front, end))
        self._help_until(num_blocks)
        state.future.result()
        if step < len(steps):
            self._kernel.take_state(fork)  # (equal at ``step``, and the fork went on to the end)
        self._warm()
        self._close()
        return self._segments[0].out

    def _upmix_step(self, stereo: np.ndarray, step: tuple[int, int], x: np.ndarray, kernel=None, out=None) -> None:
        """Upmix samples ``[a, b)`` of the input (zeros past its end) into their padded columns
        (or ``out``), on the processor's kernel or ``kernel``."""
        a, b = step
        n = stereo.shape[1]
        source = stereo[:, a:b] if a < n else np.zeros((2, b - a), np.float32)
        if out is None:
            out = x[:, a - self._shift: b - self._shift]
        if kernel is None:
            self._upmix_into(source, out)
        else:
            self._upmix_into(source, out, kernel=kernel)

    def _upmix_fork(self, stereo: np.ndarray, state: _Split) -> None:
        """The worker's part of :meth:`_render_split`: the preroll into scratch, then its steps
        into the padded columns, offering blocks once the calling thread has verified them."""
        x = self._segments[0].x
        scratch = np.empty((3, UPMIX_CHUNK), np.float32)
        for step in range(state.first, len(state.steps)):
            if self._queue.cancelled:
                return
            a, b = state.steps[step]
            preroll = step < state.split_step
            self._upmix_step(stereo, state.steps[step], x, kernel=state.fork, out=scratch[:, : b - a] if preroll else None)
            if step < state.split_step - 1:
                continue
            with self._queue.condition:
                state.front = b - self._shift
                if not state.verified:
                    state.states[step] = state.fork.copy()
                    self._queue.condition.notify_all()
                    continue
            self._queue.publish(self._ready_blocks(b - self._shift, state.end))

    def _fork_state(self, state: _Split, step: int):
        """The fork's state after ``step``, waiting for it (the fork's error, if it failed)."""
        with self._queue.condition:
            while step not in state.states and not (state.future.done() or self._queue.cancelled):
                self._queue.condition.wait()
            if step in state.states:
                return state.states[step]
        state.future.result()  # raises the fork's error
        self._raise_closed()

    def _ready_blocks(self, front: int, end: int) -> int:
        """Blocks of a whole render whose windows lie in padded columns ``[0, front)`` (all once
        the upmix is complete: past ``end`` the columns are zero)."""
        if front >= end:
            return self._queue.num_blocks
        return min(self._windows_within(front), self._queue.num_blocks)

    def _windows_within(self, filled: int) -> int:
        """Blocks whose input windows lie in padded columns ``[0, filled)``: block b reads
        ``[b·hop, b·hop + N)``."""
        return max((filled - self._size) // self._hop + 1, 0)

    def _close(self) -> None:
        """Release the worker (every block is claimed, or an error ends the render), then run
        the tasks it left, in order, on this thread; raises the worker's error, if any."""
        with self._closing:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._worker is None:
            return
        self._queue.cancel()
        worker, self._worker = self._worker, None
        try:
            worker.result()
        finally:
            if worker.done():  # (interrupted: the worker still runs a task, and runs the rest itself)
                while (task := self._queue.take_task()) is not None:
                    task()

    def _convolve(self, first: int, stop: int) -> None:
        number = first // self._segment_blocks
        segment = self._segments[number % len(self._segments)]
        offset = number * self._segment_blocks
        self._blocks.convolve_into(segment.x, segment.out, first - offset, stop - offset)
        self._queue.complete(first, stop)

    def _upmix(self, chunk: np.ndarray) -> None:
        """Upmix ``chunk`` straight into the segments' padded columns (split where a segment
        ends: the upmix streams bitwise whatever the split), then hand out complete blocks."""
        k = chunk.shape[1]
        position = 0
        while position < k:
            limit = self._limit()
            if self._filled == limit:
                self._next_segment()
                continue
            take = min(k - position, limit - self._filled)
            segment = self._segments[self._number % len(self._segments)]
            self._upmix_into(chunk[:, position: position + take], segment.x[:, self._filled: self._filled + take])
            self._filled += take
            position += take
        if self._finishing:
            return  # finish() publishes every block once the tail is in
        self._publish_complete()
        if self._worker is None:
            while (blocks := self._queue.claim(most=self._segment_blocks)) is not None:
                self._convolve(*blocks)
        else:  # help only when the worker falls behind: the upmix is the critical path
            while (blocks := self._queue.claim(backlog=HELP_BACKLOG)) is not None:
                self._convolve(*blocks)

    def _publish_complete(self) -> None:
        """Offer every block whose input window the upmix has filled. Block b reads padded
        ``[b·hop, b·hop + N)``: complete once the upmix passed its end (and, while finishing,
        no block past the last)."""
        ready = self._windows_within(self._number * self._segment_blocks * self._hop + self._filled)
        if self._finishing:
            ready = min(ready, self._last_block + 1)
        self._queue.publish(ready)

    def _limit(self) -> int:
        """Columns the segment being filled takes: its blocks' windows, or all of it (the tail
        beyond the last block's window) when no later block is needed."""
        if self._whole or (self._finishing and self._last_block < (self._number + 1) * self._segment_blocks):
            return self._segments[0].x.shape[1]
        return self._window_end

    def _next_segment(self) -> None:
        """Move on to the next segment, reusing the one before the current segment once its
        blocks are done and their output taken; the two share ``N − hop`` columns."""
        number = self._number + 1
        # One upmix step may have filled this segment after the one before: its blocks must be
        # offered before waiting for them (a segment spans less than a step for short filters).
        self._publish_complete()
        self._help_until((number - 1) * self._segment_blocks)
        ready = self._take_output()  # (it empties the pending list first)
        self._pending.append(ready)
        old = self._segments[self._number % 2]
        new = self._segments[number % 2]
        start = self._segment_blocks * self._hop
        new.x[:, : self._filled - start] = old.x[:, start: self._filled]
        # A fresh output array per segment: the pieces handed out of the one it replaces are
        # views that stay the caller's (no copy when output is taken).
        new.out = np.empty_like(new.out)
        self._filled -= start
        self._number = number

    def _help_until(self, blocks: int) -> None:
        """Convolve unclaimed blocks until the first ``blocks`` are done (one at a time beside a
        worker, so the two threads share the last blocks; all at once without one)."""
        most = 1 if self._worker is not None else self._segment_blocks
        while (claimed := self._queue.claim_or_wait(blocks, most)) is not None:
            self._convolve(*claimed)
        if self._queue.done < blocks:
            self._raise_closed()

    def _raise_closed(self) -> None:
        """The render was cancelled: raise the worker's error, or say it was closed."""
        self._close()  # raises the worker's error, if any
        raise RuntimeError("this offline render was closed or superseded by another render of "
                           "the same processor; start a new one")

    def _take_output(self) -> np.ndarray:
        """The output samples done and not yet handed out, in order: a view of a segment's
        output array (never written again: a segment gets a new one when it is reused), or
        their concatenation where they span two segments."""
        pieces, self._pending = self._pending, []
        if not self._whole:
            end = self._queue.done * self._hop
            if self._num_samples is not None:
                end = min(end, self._num_samples)
            span = self._segment_blocks * self._hop
            while self._emitted < end:
                number = self._emitted // span
                local = self._emitted - number * span
                take = min(end - self._emitted, span - local)
                pieces.append(self._segments[number % 2].out[:, local: local + take])
                self._emitted += take
        if len(pieces) == 1:
            return pieces[0]
        if not pieces:
            return np.zeros((self._blocks.num_outputs, 0), np.float32)
        return np.concatenate(pieces, axis=1)

    def _padded(self, start: int, stop: int) -> np.ndarray:
        """Padded columns ``[start, stop)`` (global), from the last two segments."""
        if self._whole:
            return np.ascontiguousarray(self._segments[0].x[:, start:stop])
        base = self._number * self._segment_blocks * self._hop
        pieces = []
        if start < base:
            before = base - self._segment_blocks * self._hop
            assert start >= before and self._number > 0, "internal: the warm-up tail left the segments"
            pieces.append(self._segments[(self._number - 1) % 2].x[:, start - before: min(stop, base) - before])
        if stop > base:
            pieces.append(self._segments[self._number % 2].x[:, max(start, base) - base: stop - base])
        return np.ascontiguousarray(np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0])

    def _warm(self) -> None:
        """Leave the streaming convolver as after streaming upmixed samples ``[0, total)``.

        Its state after T samples: the partition phase T mod P, the previous and the filling
        partition, the spectra of the last K windows (2P samples each, the oldest starting at
        (⌊T/P⌋ − K − 1)·P) in a ring of K slots, and the pending output block computed from them.
        Streaming from a multiple s of K·P at or before that oldest window, from a reset state,
        rebuilds all of it bitwise, ring position included."""
        convolver = self._streaming
        total = self._num_samples + self._tail_length
        partition = convolver.partition_size
        cycle = -(-self._blocks.num_taps // partition)  # K
        oldest = total // partition - cycle - 1
        start = (oldest // cycle) * cycle * partition if oldest > 0 else 0
        convolver.reset()
        tail = self._padded(start - self._shift, total - self._shift)
        convolver.process_into(tail, np.empty((convolver.num_outputs, tail.shape[1]), dtype=np.float32))


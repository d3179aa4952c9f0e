"""Benchmark: the cost of soundstage.Board over native pedalboard.

Run from the repository root::

    PYTHONPATH=plugin python benchmarks/board.py [--seconds 10] [--repeats 5]

Prints milliseconds (best of ``--repeats``) and the ratio to a reference run in the same
process — ``pedalboard.Pedalboard`` of identically configured plugins, one-shot — since the
machine is shared and absolute times drift. Target: a native-only Board one-shot within 5 % of
the reference. Streaming rows show the cost per chunk size, for pedalboard itself
(``reset=False``, the same chunks) and for the Board (which adds priming, FIFOs and the
Python stage loop).
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import best_ms
import pedalboard

from soundstage.board import Board
from soundstage.processor.base import StreamingProcessor

RATE = 48000


def native_chain() -> list:
    return [
        pedalboard.HighpassFilter(cutoff_frequency_hz=80),
        pedalboard.Compressor(threshold_db=-18, ratio=3),
        pedalboard.Chorus(),
        pedalboard.Reverb(room_size=0.5),
        pedalboard.Limiter(threshold_db=-3),
    ]


class Upmix(StreamingProcessor):
    """A 2 -> 5 gain matrix with 64 samples of latency (a stand-in for a spatial processor)."""

    def __init__(self) -> None:
        super().__init__()
        self.matrix = np.array(
            [[1, 0], [0, 1], [0.5, 0.5], [0.5, -0.5], [0.25, 0.25]], dtype=np.float32
        )
        self._line = np.zeros((5, 64), np.float32)

    latency_samples = 64

    def prepare(self, sample_rate, num_input_channels, max_block_size):
        self._line = np.zeros((5, 64), np.float32)

    def output_channels(self, num_input_channels):
        return 5

    def process_block(self, block):
        both = np.concatenate([self._line, self.matrix @ block], axis=1)
        self._line = both[:, block.shape[1] :]
        return both[:, : block.shape[1]]

    def _reset_state(self):
        self._line[:] = 0


def stream(processor, x: np.ndarray, chunk: int, flush) -> None:
    for start in range(0, x.shape[1], chunk):
        processor(x[:, start : start + chunk], RATE, buffer_size=max(chunk, 8192), reset=False)
    flush(processor)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="signal length in seconds")
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs")
    args = parser.parse_args(argv)

    x = (np.random.default_rng(0).standard_normal((2, int(args.seconds * RATE))) * 0.2).astype(np.float32)
    reference = pedalboard.Pedalboard(native_chain())
    board = Board(native_chain())
    mixed = Board(native_chain()[:2] + [Upmix(), pedalboard.Limiter(threshold_db=-3)])
    board(x, RATE)  # prepare (latency measurement) outside the timed runs
    mixed(x, RATE)

    ref_ms = best_ms(lambda: reference(x, RATE), args.repeats)
    rows = [("pedalboard.Pedalboard one-shot (reference)", ref_ms)]
    rows.append(("Board, native only, one-shot", best_ms(lambda: board(x, RATE), args.repeats)))
    rows.append(("Board [HPF, Comp, 2->5, Limiter x5], one-shot", best_ms(lambda: mixed(x, RATE), args.repeats)))

    def pb_flush(p):
        p(np.zeros((2, 1), np.float32), RATE, reset=False)

    for chunk in (128, 1024, 4096):
        rows.append(
            (f"pedalboard streaming, {chunk}-sample chunks",
             best_ms(lambda: stream(reference, x, chunk, pb_flush), args.repeats))
        )
        rows.append(
            (f"Board native streaming, {chunk}-sample chunks",
             best_ms(lambda: (board.reset(), stream(board, x, chunk, Board.flush)), args.repeats))
        )
        rows.append(
            (f"Board [HPF, Comp, 2->5, Limiter x5], {chunk} chunks",
             best_ms(lambda: (mixed.reset(), stream(mixed, x, chunk, Board.flush)), args.repeats))
        )

    width = max(len(name) for name, _ in rows)
    print(f"{args.seconds:g} s of stereo at {RATE} Hz, best of {args.repeats}")
    print(f"{'case'.ljust(width)}  {'ms':>9}  {'ratio':>7}  {'x real time':>11}")
    for name, ms in rows:
        print(f"{name.ljust(width)}  {ms:9.1f}  {ms / ref_ms:7.3f}  {args.seconds * 1e3 / ms:11.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

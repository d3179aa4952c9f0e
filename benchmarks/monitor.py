"""Benchmark: the listening simulation (Auralizer) and a full ``analyze`` of the studio speaker.

Run from the repository root::

    PYTHONPATH=plugin python benchmarks/monitor.py [--seconds 20] [--repeats 3]

Prints × real time (seconds of audio per second of compute, higher is better) of the Auralizer
(5 driver feeds → 2 ears, 48 kHz) in free field and in the living room at several block sizes,
beside scipy's ``oaconvolve`` of the same feeds with the same impulse responses (whole signal,
one call) as the reference run in the same process, and the wall time of ``analyze`` (cold: the
room responses and designs computed; warm: cached).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import best_time_s
import scipy.signal

FS = 48000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the driver feeds (s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (the best is kept)")
    args = parser.parse_args(argv)

    from soundstage.monitor import Auralizer, analyze

    n = int(args.seconds * FS)
    feeds = np.random.default_rng(0).standard_normal((5, n)).astype(np.float32) * 0.1
    rows = []
    for room in ("anechoic", "living-room"):
        aur = Auralizer.from_preset("studio-speaker", room=room)
        irs = aur.impulse_responses(FS).astype(np.float32)

        def reference():
            scipy.signal.oaconvolve(feeds[None, :, :], irs, axes=-1)

        t_ref = best_time_s(reference, args.repeats)
        rows.append((room, irs.shape[-1], "scipy oaconvolve, one call", args.seconds / t_ref, 1.0))
        for block in (512, 2048, 8192):
            t = best_time_s(lambda: aur(feeds, FS, buffer_size=block), args.repeats)
            rows.append((room, irs.shape[-1], f"Auralizer, {block}-sample blocks", args.seconds / t, t_ref / t))

    print(f"\nAuralizer, studio-speaker (5 drivers → 2 ears), {FS} Hz, {args.seconds:g} s of feeds, best of "
          f"{args.repeats}")
    print(f"{'room':12s} {'IR taps':>8s}  {'run':34s} {'× real time':>12s} {'vs scipy':>9s}")
    for room, taps, what, rtf, ratio in rows:
        print(f"{room:12s} {taps:8d}  {what:34s} {rtf:12.1f} {ratio:9.2f}")

    print("\nanalyze('studio-speaker'), 9 × 5 zone grid, wall time")
    print(f"{'room':12s} {'cold (s)':>9s} {'warm (s)':>9s}")
    for room in (None, "living-room"):
        start = time.perf_counter()
        analyze("studio-speaker", room=room)
        cold = time.perf_counter() - start
        warm = best_time_s(lambda: analyze("studio-speaker", room=room), 1)
        print(f"{room or 'anechoic':12s} {cold:9.2f} {warm:9.2f}")


if __name__ == "__main__":
    main()

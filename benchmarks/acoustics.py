"""Benchmark: the driver→ear plant per head model and the order-10 room, for a studio-class speaker.

Run from the repository root::

    PYTHONPATH=plugin python benchmarks/acoustics.py [--sofa PATH] [--repeats 3]

Prints milliseconds (best of ``--repeats``) and the ratio to a reference run in the same process
(the plant with free-field ears), since the machine is shared and absolute times drift.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _timing import best_ms

from soundstage.acoustics.heads import builtin_kemar_path  # noqa: E402

DEFAULT_SOFA = builtin_kemar_path()  # the measured KEMAR shipped in the package


def studio_speaker():
    """A studio-class smart speaker: cylinder of radius 87.5 mm, five drivers."""
    from soundstage.acoustics import Driver, Enclosure

    r = 0.0875
    drivers = (
        Driver("tweeter", (-r, 0.0, 0.03), (-1.0, 0.0, 0.0), 0.0125, "cap", band_hz=(2000.0, float("inf"))),
        Driver("mid_left", (0.0, r, 0.03), (0.0, 1.0, 0.0), 0.025, "cap", band_hz=(300.0, 6000.0),
               plain_feed=(1.0, 0.0)),
        Driver("mid_right", (0.0, -r, 0.03), (0.0, -1.0, 0.0), 0.025, "cap", band_hz=(300.0, 6000.0),
               plain_feed=(0.0, 1.0)),
        Driver("mid_up", (0.0, 0.0, 0.1), (0.0, 0.0, 1.0), 0.025, "piston", band_hz=(300.0, 6000.0)),
        Driver("woofer", (0.0, 0.0, -0.1), (0.0, 0.0, -1.0), 0.05, "piston", band_hz=(0.0, 300.0)),
    )
    return Enclosure("studio-class", drivers, body="cylinder", body_radius_m=r, body_height_m=0.2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sofa", default=str(DEFAULT_SOFA),
                        help="SOFA file for the measured-head row (skipped when absent)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample-rate", type=float, default=48000.0)
    args = parser.parse_args(argv)

    from soundstage.acoustics import (
        BrownDudaHead,
        FreeFieldEars,
        Listener,
        RigidSphereHead,
        SofaHead,
        plant_response,
        room_by_name,
        room_impulse_responses,
    )

    enclosure = studio_speaker()
    listener = Listener(distance_m=2.5)
    f = np.fft.rfftfreq(8192, 1.0 / args.sample_rate)[1:]  # 4096 bins
    f = np.concatenate([[f[0] / 10], f])  # 4097 bins, all > 0

    heads = {"free-field (reference)": FreeFieldEars(), "rigid sphere": RigidSphereHead(),
             "brown-duda": BrownDudaHead()}
    if Path(args.sofa).is_file():
        heads["SOFA (MIT KEMAR)"] = SofaHead(args.sofa)
    else:
        print(f"SOFA row skipped: {args.sofa} not found", file=sys.stderr)

    rows = []
    for name, head in heads.items():
        ms = best_ms(lambda: plant_response(enclosure, listener, f, head=head), args.repeats)
        rows.append((f"plant, 5 drivers x 4097 bins, {name}", ms))

    living = room_by_name("living-room")
    fresh = RigidSphereHead()  # its direction grid is not cached yet
    first = best_ms(lambda: room_impulse_responses(enclosure, listener, living, args.sample_rate, head=fresh), 1)
    rows.append(("room order 10, rigid sphere, first call (head grid built)", first))
    cached = best_ms(lambda: room_impulse_responses(enclosure, listener, living, args.sample_rate, head=fresh),
                     args.repeats)
    rows.append(("room order 10, rigid sphere, head grid cached", cached))
    if "SOFA (MIT KEMAR)" in heads:
        sofa = heads["SOFA (MIT KEMAR)"]
        room_impulse_responses(enclosure, listener, living, args.sample_rate, head=sofa)
        rows.append(("room order 10, SOFA head, head grid cached",
                     best_ms(lambda: room_impulse_responses(enclosure, listener, living, args.sample_rate,
                                                            head=sofa), args.repeats)))

    reference = rows[0][1]
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  {'ms':>9}  {'x reference':>11}")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:9.1f}  {ms / reference:11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

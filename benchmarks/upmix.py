"""Upmix stem bench: each synthetic stem's share of C, L′ and R′ (upmix run on the mixture).

    python benchmarks/upmix.py [--sample-rate 48000]

Prints, per mixture, each stem's energy in C, L′, R′ (dB re the stem's energy, both channels),
corr(L, R) → corr(L′, R′), and the drum hits' leak into C over their first 10 ms. Acceptance
(issue 13): hard-panned leak ≤ −20 dB; ambience ≤ −10 dB in C with corr(L′, R′) ≥ input − 0.1;
drum over steady ≤ −15 dB in its first 10 ms. The upmix has zero latency.
"""

from __future__ import annotations

import argparse

import numpy as np

from soundstage.testing.upmix_bench import CASES, DRUM_HITS_S, attribute_stems, make_stems


def stem_table(sample_rate: float = 48000.0) -> list[str]:
    stems = make_stems(sample_rate, 4.0)
    lines = ["| mixture | stem | C (dB) | L′ (dB) | R′ (dB) | corr in → out |", "|---|---|---|---|---|---|"]
    for case, names in CASES.items():
        shares, _ = attribute_stems({name: stems[name] for name in names}, sample_rate=sample_rate)
        for name in names:
            s = shares[name]
            lines.append(f"| {case} | {name} | {s.centre_db:.1f} | {s.left_db:.1f} | {s.right_db:.1f} | "
                         f"{s.corr_in:+.2f} → {s.corr_out:+.2f} |")
        if case == "drum over steady":
            centre = shares["drums_left"].centre_signal
            leaks = []
            for start in DRUM_HITS_S:
                i = int(start * sample_rate)
                j = i + int(0.010 * sample_rate)
                leak = np.sum(centre[i:j] ** 2) / np.sum(stems["drums_left"][:, i:j] ** 2)
                leaks.append(10 * np.log10(max(leak, 1e-30)))
            lines.append(f"| {case} | drum hits, first 10 ms (worst) | {max(leaks):.1f} | | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-rate", type=float, default=48000.0)
    args = parser.parse_args()
    print("\n".join(stem_table(args.sample_rate)))


if __name__ == "__main__":
    main()

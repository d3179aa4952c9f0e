"""Sound-quality figures per preset (issue 13): tonal balance, upmix stems, worst-case driver
gain vs the cap, realised cancellation vs the design per sample rate.

    python benchmarks/quality.py [--presets studio-speaker,soundbar] [--rates 44100,48000,96000,192000]

Tonal balance: hard-left (left ear) and centred input, 1/3 octave over the preset's passband
(100 Hz–12 kHz at most), re a flat point source at the enclosure, mean removed: rms and worst
band, on the design head (sphere) and on the measured KEMAR, which no design sees (the voicing
is designed on the sphere and the model heads of ``voicing_heads``), for the preset as shipped
(voicing on, tiled and time-aligned plain feeds), its plain feed (every stage bypassed) and with the voicing
EQ off; "meets" applies issue 13's bar (design head: ≤ 1.0 dB rms and every band within ±2 dB;
KEMAR designed on the sphere: ≤ 1.5 dB rms). Headroom: the worst case over input combinations (``headroom_db``)
against ``max_gain_db``. Cancellation: the largest shortfall per 1/3 octave of the realised FIR
re min(design, target), virtualizer bypassed, and the latency the modelling delay costs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


from soundstage import presets
from soundstage.design import design_filterset
from soundstage.design.ear_plant import design_plant
from soundstage.design.realise import cancellation_shortfall_db
from soundstage.design.tonal_balance import tonal_balance

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kemar_data import kemar_path  # noqa: E402
from upmix import stem_table  # noqa: E402


def _band(preset):
    low, high = preset.parameters.passband_hz or (100.0, 12000.0)
    return max(low, 100.0), min(high, 12000.0)


ALL_STAGES = frozenset({"upmix", "virtualizer", "ctc", "beam"})


def tonal_rows(name):
    preset = presets.load(name)
    rows = []
    variants = (("shipped", {}), ("plain feed", {"bypass": ALL_STAGES}), ("voicing off", {"voicing": False}))
    for label_v, changes in variants:
        filters = design_filterset(preset.enclosure, preset.listener, preset.parameters.replace(**changes), 48000.0)
        for head, label in ((None, "design (sphere)"), (str(kemar_path()), "KEMAR")):
            tb = tonal_balance(filters, head=head, band_hz=_band(preset))
            if head is None:
                meets = tb.left_rms_db <= 1.0 and tb.centre_rms_db <= 1.0 and tb.worst_db <= 2.0
            else:
                meets = tb.left_rms_db <= 1.5 and tb.centre_rms_db <= 1.5
            rows.append(f"| {name} | {label_v} | {label} | {tb.left_rms_db:.2f} | "
                        f"{tb.centre_rms_db:.2f} | {tb.worst_db:.1f} | {'yes' if meets else 'NO'} |")
    return rows


def headroom_row(name):
    preset = presets.load(name)
    filters = design_filterset(preset.enclosure, preset.listener, preset.parameters, 48000.0)
    worst = ", ".join(f"{n} {g:.1f}" for n, g in zip(filters.driver_names, filters.headroom_db))
    return f"| {name} | {preset.parameters.max_gain_db:g} | {worst} |"


def cancellation_row(name, rates):
    preset = presets.load(name)
    cells = []
    for rate in rates:
        filters = design_filterset(preset.enclosure, preset.listener,
                                   preset.parameters.replace(bypass=frozenset({"virtualizer"})), rate)
        grid = filters.design_frequencies_hz
        keep = (grid >= 140) & (grid <= min(18000, 0.45 * rate))
        f = grid[keep]
        plant = design_plant(preset.enclosure, preset.listener, f, filters.diagnostics["head"])
        short = cancellation_shortfall_db(plant, filters.design_weights[..., keep], filters.fir_response(f), f,
                                          filters.parameters.effective_target.at(f), rate)
        cells.append(f"{max(short, 0.0):.2f} dB / {1000 * filters.latency_samples / rate:.1f} ms")
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="studio-speaker,soundbar,compact-speaker,stereo-dipole,laptop")
    parser.add_argument("--rates", default="44100,48000,96000,192000")
    args = parser.parse_args()
    names = args.presets.split(",")
    rates = [float(r) for r in args.rates.split(",")]
    print("## Tonal balance (dB): rms hard-left, rms centred, worst band\n")
    print("| preset | design | head | left rms | centre rms | worst | meets |\n|---|---|---|---|---|---|---|")
    for name in names:
        print("\n".join(tonal_rows(name)))
    print("\n## Upmix stems (zero latency)\n")
    print("\n".join(stem_table()))
    print("\n## Worst-case driver gain over input combinations (dB) vs the cap\n")
    print("| preset | max_gain_db | headroom_db per driver |\n|---|---|---|")
    for name in names:
        print(headroom_row(name))
    print("\n## Realised cancellation shortfall re min(design, target) per 1/3 octave / latency\n")
    print("| preset | " + " | ".join(f"{r / 1000:g} kHz" for r in rates) + " |")
    print("|---|" + "---|" * len(rates))
    for name in names:
        if presets.load(name).enclosure.kind == "headphones":
            continue
        print(cancellation_row(name, rates))


if __name__ == "__main__":
    main()

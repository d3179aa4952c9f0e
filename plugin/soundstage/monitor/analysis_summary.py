"""The targets an :class:`~.analysis.Analysis` is checked against, and its Markdown/HTML summary."""

from __future__ import annotations

import html

__all__ = ["TARGETS", "target_checks", "summary_markdown", "summary_html"]

#: Product targets (those of the studio-class smart speaker, applied to every preset).
TARGETS = {
    "chi_sweet_spot_db": ("χ (CTC alone, 300 Hz–6 kHz) at the sweet spot", ">= 20 dB"),
    "chi_worse_5cm_db": ("χ at the worse side of ±5 cm", ">= 12 dB"),
    "hard_left_deg": ("hard-left image azimuth", "25–35°"),
    "hard_left_worse_5cm_deg": ("hard-left image at the worse side of ±5 cm", ">= 15°"),
    "beam_level_at_90_db": ("centre beam toward ±90°, 700 Hz–4 kHz (worst)", "<= −20 dB"),
    "centre_drr_gain_db": ("centre DRR gain over the plain centre feed (700 Hz–4 kHz)", ">= 3 dB"),
    "driver_gain_margin_db": ("peak driver gain − G_max", "<= 0 dB"),
}


def target_checks(metrics: dict) -> dict:
    """``{name: {"what", "goal", "value", "met"}}`` for each target that applies (``met`` None: n/a)."""
    lateral_chi, lateral_az = metrics["chi_lateral_db"], metrics["hard_left_lateral_deg"]
    values = {
        "chi_sweet_spot_db": metrics["chi_mean_db"]["processed_ctc"],
        "chi_worse_5cm_db": min(lateral_chi["-5"], lateral_chi["+5"]),
        "hard_left_deg": metrics["hard_left_deg"]["processed"],
        "hard_left_worse_5cm_deg": min(lateral_az["-5"], lateral_az["+5"]),
        "beam_level_at_90_db": metrics["beam"].get("level_at_90_max_db") if metrics["beam"].get("enabled") else None,
        "centre_drr_gain_db": (metrics["centre_drr"] or {}).get("gain_db") if metrics["beam"].get("enabled") else None,
        "driver_gain_margin_db": max(metrics["driver"]["peak_gain_db"]) - metrics["driver"]["max_gain_db"],
    }
    tests = {
        "chi_sweet_spot_db": lambda v: v >= 20.0,
        "chi_worse_5cm_db": lambda v: v >= 12.0,
        "hard_left_deg": lambda v: 25.0 <= v <= 35.0,
        "hard_left_worse_5cm_deg": lambda v: v >= 15.0,
        "beam_level_at_90_db": lambda v: v <= -20.0,
        "centre_drr_gain_db": lambda v: v >= 3.0,
        "driver_gain_margin_db": lambda v: v <= 0.05,
    }
    return {name: {"what": TARGETS[name][0], "goal": TARGETS[name][1],
                   "value": None if values[name] is None else float(values[name]),
                   "met": None if values[name] is None else bool(tests[name](values[name]))}
            for name in TARGETS}


def _f(value, digits: int = 1, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def summary_markdown(analysis) -> str:
    """Markdown page: setup, the targets, then tables per topic."""
    m = analysis.metrics
    lines = [f"# soundstage analysis — {analysis.preset}", "",
             f"Room **{analysis.room}**, head **{analysis.head}**, {analysis.sample_rate:g} Hz. Processed = the "
             "preset's design; unprocessed = every stage bypassed; reference = a ±30° loudspeaker pair at 2 m, "
             "same room and head. χ = ipsilateral/contralateral ear energy of a one-sided input "
             f"(CTC alone: virtualizer bypassed), mean over {m['chi_band_hz'][0]:g} Hz–{m['chi_band_hz'][1]:g} Hz "
             "one-third-octave bands. Lateral offsets are head movements, positive to the listener's left.", "",
             "## Targets", "", "| target | goal | value | met |", "|---|---|---|---|"]
    for t in m["targets"].values():
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['what']} | {t['goal']} | {_f(t['value'])} | {met} |")
    lines += ["", "## Separation and image", "",
              "| | processed | unprocessed | reference |", "|---|---|---|---|",
              f"| χ mean (dB) | {_f(m['chi_mean_db']['processed_ctc'])} | {_f(m['chi_mean_db']['unprocessed'])} "
              f"| {_f(m['chi_mean_db']['reference'])} |",
              f"| hard-left image (°) | {_f(m['hard_left_deg']['processed'])} | {_f(m['hard_left_deg']['unprocessed'])} "
              f"| {_f(m['hard_left_deg']['reference'])} |",
              f"| hard-right image (°) | {_f(m['hard_right_deg']['processed'])} | "
              f"{_f(m['hard_right_deg']['unprocessed'])} | {_f(m['hard_right_deg']['reference'])} |",
              f"| ITD, left-only input (µs) | {_f(m['itd_us']['processed'], 0)} | {_f(m['itd_us']['unprocessed'], 0)} "
              f"| {_f(m['itd_us']['reference'], 0)} |", "",
              "| head offset (cm) | " + " | ".join(m["chi_lateral_db"]) + " |",
              "|---|" + "---|" * len(m["chi_lateral_db"]),
              "| χ mean (dB) | " + " | ".join(_f(v) for v in m["chi_lateral_db"].values()) + " |",
              "| hard-left image (°) | " + " | ".join(_f(v) for v in m["hard_left_lateral_deg"].values()) + " |",
              "", f"Listening zone (χ ≥ {m['zone']['min_chi_db']:g} dB and hard-left image ≥ "
              f"{m['zone']['min_azimuth_deg']:g}°): {m['zone']['area_m2']:.3f} m².", ""]
    beam = m["beam"]
    if beam:
        lines += ["## Centre beam", "",
                  f"Beam {'enabled' if beam.get('enabled') else 'disabled in the preset'}; figures over "
                  f"{beam['band_hz'][0]:g}–{beam['band_hz'][1]:g} Hz. Directivity index: {beam['di_geometry']}.", "",
                  "| level toward ±90° (worst / mean, dB) | DI beam (dB) | DI plain centre (dB) |", "|---|---|---|",
                  f"| {_f(beam['level_at_90_max_db'])} / {_f(beam['level_at_90_mean_db'])} | "
                  f"{_f(beam['di_horizontal_db'])} | {_f(beam['di_horizontal_plain_db'])} |", ""]
    drr = m["centre_drr"]
    if drr:
        lines += [f"Centre-path DRR at the ears ({drr['band_hz'][0]:g}–{drr['band_hz'][1]:g} Hz): beam "
                  f"{drr['beam_db']:.1f} dB, plain centre {drr['plain_db']:.1f} dB, gain {drr['gain_db']:+.1f} dB "
                  f"(broadband {drr['gain_broadband_db']:+.1f} dB); diffuse-field estimate for an omni source at this "
                  f"distance {drr['diffuse_omni_db']:.1f} dB.", ""]
    colour, driver = m["colouration"], m["driver"]
    lines += ["## Colouration and effort", "",
              "Ipsilateral ear response re the reference's (200 Hz–8 kHz): processed level "
              f"{colour['processed']['mean_db']:+.1f} dB, shape {colour['processed']['shape_rms_db']:.1f} dB rms; "
              f"unprocessed {colour['unprocessed']['mean_db']:+.1f} dB, {colour['unprocessed']['shape_rms_db']:.1f} dB rms.",
              "", "| driver | peak gain (dB) | effort peak (dB) | effort rms (dB) |", "|---|---|---|---|"]
    for i, name in enumerate(driver["names"]):
        lines.append(f"| {name} | {driver['peak_gain_db'][i]:.1f} | {driver['effort_peak_db'][i]:.1f} | "
                     f"{driver['effort_rms_db'][i]:.1f} |")
    lines += ["", f"G_max = {driver['max_gain_db']:g} dB (peak gain: the largest single-path gain re the plain feed; "
              "effort: power sum over the three inputs).", ""]
    heads = m.get("heads")
    if heads:
        lines += ["## Separation on each head", "",
                  "Mean χ over 1–6 kHz, CTC alone, from the design's plant model on each head: the design head, "
                  "its robust ensemble and a held-out head it never saw (worse side input; worse side of ±5 cm).",
                  "", "| head | role | χ centre (dB) | χ ±5 cm (dB) |", "|---|---|---|---|"]
        for name, row in heads.items():
            lines.append(f"| {name} | {row['role']} | {row['centre_db']:.1f} | {row['lateral_db'].get('5cm', float('nan')):.1f} |")
        lines.append("")
    return "\n".join(lines)


def summary_html(analysis, figure_names=()) -> str:
    """A self-contained HTML page: the Markdown summary as preformatted text plus the figures."""
    body = html.escape(summary_markdown(analysis))
    images = "\n".join(f'<p><img src="{html.escape(name)}" style="max-width:100%"></p>' for name in figure_names)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>soundstage analysis — "
            f"{html.escape(analysis.preset)}</title></head><body><pre>{body}</pre>{images}</body></html>\n")

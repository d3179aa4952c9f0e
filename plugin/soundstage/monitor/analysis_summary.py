"""The targets an :class:`~.analysis.Analysis` is checked against, and its Markdown/HTML summary."""

from __future__ import annotations

import html

import numpy as np

__all__ = ["TARGETS", "target_checks", "summary_markdown", "summary_html"]

#: Margins of the preset-relative targets: χ at the sweet spot may fall this far short of the
#: preset's own target curve (mean over the χ band); at ±5 cm it must keep this fraction of it
#: (the studio class: 20 dB at the sweet spot, 12 dB at ±5 cm).
CHI_SHORTFALL_DB = 1.0
CHI_LATERAL_FRACTION = 0.6
#: Widest hard-left image error at the sweet spot, and the least image at ±5 cm (degrees).
IMAGE_TOLERANCE_DEG = 5.0
IMAGE_LATERAL_MIN_FRACTION = 0.5
#: Above this, a separation is "no crosstalk" (headphones), reported as "> 60".
CHI_CEILING_DB = 60.0

#: Targets, named; goals are filled in per preset by :func:`target_checks`.
TARGETS = {
    "chi_sweet_spot_db": "χ (CTC alone, 300 Hz–6 kHz) at the sweet spot",
    "chi_worse_5cm_db": "χ at the worse side of ±5 cm",
    "hard_left_deg": "hard-left image azimuth",
    "hard_left_worse_5cm_deg": "hard-left image at the worse side of ±5 cm",
    "beam_level_at_90_db": "centre beam toward ±90°, 700 Hz–4 kHz (worst)",
    "centre_drr_gain_db": "centre DRR gain over the plain centre feed (700 Hz–4 kHz)",
    "driver_gain_margin_db": "peak driver gain − G_max",
}


def target_checks(metrics: dict) -> dict:
    """``{name: {"what", "goal", "value", "met"}}`` against the preset's own design: its target
    cancellation curve, its width and whether it beams the centre (``met`` None: n/a).

    Loudspeaker presets that ask for cancellation must reach their own target (less
    :data:`CHI_SHORTFALL_DB`) at the sweet spot; presets that ask for none (a ±30° pair) and
    headphones (no crosstalk to cancel) have no separation or listening-zone goal. The
    hard-left image must sit within :data:`IMAGE_TOLERANCE_DEG` of the preset's width.
    """
    design = metrics.get("design") or {}
    target = float(design.get("target_chi_mean_db", 20.0))
    width = float(design.get("width_deg", 30.0))
    loudspeakers = design.get("kind", "loudspeakers") == "loudspeakers"
    cancels = loudspeakers and target > CHI_SHORTFALL_DB
    beam = bool(metrics["beam"].get("enabled"))
    lateral_chi, lateral_az = metrics["chi_lateral_db"], metrics["hard_left_lateral_deg"]
    sweet, lateral = target - CHI_SHORTFALL_DB, CHI_LATERAL_FRACTION * target
    least_lateral = IMAGE_LATERAL_MIN_FRACTION * width
    checks = {
        "chi_sweet_spot_db": (metrics["chi_mean_db"]["processed_ctc"], f">= {sweet:.1f} dB (target − {CHI_SHORTFALL_DB:g})",
                              lambda v: v >= sweet, cancels),
        "chi_worse_5cm_db": (min(lateral_chi["-5"], lateral_chi["+5"]), f">= {lateral:.1f} dB", lambda v: v >= lateral,
                             cancels),
        "hard_left_deg": (metrics["hard_left_deg"]["processed"],
                          f"{width - IMAGE_TOLERANCE_DEG:g}–{width + IMAGE_TOLERANCE_DEG:g}°",
                          lambda v: abs(v - width) <= IMAGE_TOLERANCE_DEG, True),
        "hard_left_worse_5cm_deg": (min(lateral_az["-5"], lateral_az["+5"]), f">= {least_lateral:g}°",
                                    lambda v: v >= least_lateral, loudspeakers),
        "beam_level_at_90_db": (metrics["beam"].get("level_at_90_max_db"), "<= −20 dB", lambda v: v <= -20.0, beam),
        "centre_drr_gain_db": ((metrics["centre_drr"] or {}).get("gain_db"), ">= 3 dB", lambda v: v >= 3.0, beam),
        "driver_gain_margin_db": (max(metrics["driver"]["peak_gain_db"]) - metrics["driver"]["max_gain_db"],
                                  "<= 0 dB", lambda v: v <= 0.05, True),
    }
    result = {}
    for name, (value, goal, test, applies) in checks.items():
        usable = applies and value is not None and bool(np.isfinite(value))
        result[name] = {"what": TARGETS[name], "goal": goal if applies else "n/a for this preset",
                        "value": float(value) if usable else None, "met": bool(test(value)) if usable else None}
    return result


def _f(value, digits: int = 1, unit: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def _chi(value) -> str:
    """A separation; beyond :data:`CHI_CEILING_DB` there is no crosstalk to speak of."""
    if value is not None and np.isfinite(value) and value > CHI_CEILING_DB:
        return f"> {CHI_CEILING_DB:g}"
    return _f(value)


def _zone_sentence(m: dict) -> str:
    if (m.get("design") or {}).get("kind") == "headphones":
        return "Listening zone: n/a (headphones move with the head; there is no sweet spot to leave)."
    return (f"Listening zone (χ ≥ {m['zone']['min_chi_db']:g} dB and hard-left image ≥ "
            f"{m['zone']['min_azimuth_deg']:g}°): {m['zone']['area_m2']:.3f} m².")


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
    for name, t in m["targets"].items():
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        value = _chi(t["value"]) if name.startswith("chi_") else _f(t["value"])
        lines.append(f"| {t['what']} | {t['goal']} | {value} | {met} |")
    lines += ["", "## Separation and image", "",
              "| | processed | unprocessed | reference |", "|---|---|---|---|",
              f"| χ mean (dB) | {_chi(m['chi_mean_db']['processed_ctc'])} | {_chi(m['chi_mean_db']['unprocessed'])} "
              f"| {_chi(m['chi_mean_db']['reference'])} |",
              f"| hard-left image (°) | {_f(m['hard_left_deg']['processed'])} | {_f(m['hard_left_deg']['unprocessed'])} "
              f"| {_f(m['hard_left_deg']['reference'])} |",
              f"| hard-right image (°) | {_f(m['hard_right_deg']['processed'])} | "
              f"{_f(m['hard_right_deg']['unprocessed'])} | {_f(m['hard_right_deg']['reference'])} |",
              f"| ITD, left-only input (µs) | {_f(m['itd_us']['processed'], 0)} | {_f(m['itd_us']['unprocessed'], 0)} "
              f"| {_f(m['itd_us']['reference'], 0)} |", "",
              "| head offset (cm) | " + " | ".join(m["chi_lateral_db"]) + " |",
              "|---|" + "---|" * len(m["chi_lateral_db"]),
              "| χ mean (dB) | " + " | ".join(_chi(v) for v in m["chi_lateral_db"].values()) + " |",
              "| hard-left image (°) | " + " | ".join(_f(v) for v in m["hard_left_lateral_deg"].values()) + " |",
              "", _zone_sentence(m), ""]
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
    """A self-contained HTML page of the summary: real tables and headings (from
    :func:`summary_markdown`), then the figures."""
    from .markdown_page import markdown_to_html

    title = f"soundstage analysis — {analysis.preset}"
    images = "\n".join(f'<figure><img src="{html.escape(name)}" alt="{html.escape(name)}"></figure>'
                       for name in figure_names)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><main>{markdown_to_html(summary_markdown(analysis))}"
            f"<h2>Figures</h2>{images}</main></body></html>\n")


_STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
main{max-width:1100px;margin:auto;padding:1em 2em}table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#eee}
td strong{color:#b00020}figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}
p{max-width:70em;overflow-wrap:anywhere}"""

"""The renders of ``soundstage demo``: the built-in test mix through every preset, written to a folder.

For each built-in preset it writes the driver feeds (``<preset>.drivers.wav``, one channel per
driver) and a headphone render through the listening simulation
(``<preset>.headphones.wav``, matched to the input's BS.1770 loudness with a −1 dBTP
guard, so they can be compared by ear) next to the ±30° stereo reference (``reference.headphones.wav``).
``summary.json`` and ``summary.md`` list, per preset, the drivers, the latency, the design time,
the speed of the render (design excluded), the peak level of the feeds (written as 32-bit float
WAV, so levels above 0 dBFS survive) and the filters' headroom need.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import soundfile

from .. import __version__, presets
from .._atomic import publish, temporary_beside, write_text_atomic
from ..monitor import BinauralProcessor, StereoReference, unprocessed
from ..processor import SpatialProcessor
from ..testing.mix import test_mix
from ..batch.loudness_match import loudness_match_gain_db

__all__ = ["run_demo", "write_wav_atomic"]


def write_wav_atomic(path: Path, audio: np.ndarray, sample_rate: float) -> None:
    """Write channels-first float32 ``audio`` as a 32-bit float WAV, atomically."""
    path = Path(path)
    handle, temporary = temporary_beside(path)
    os.close(handle)
    try:
        soundfile.write(temporary, np.ascontiguousarray(audio.T), int(round(sample_rate)),
                        subtype="FLOAT", format="WAV")
        publish(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_demo(output_dir: Path, *, seconds: float = 6.0, sample_rate: float = 48000.0, analysis: bool = True) -> str:
    """Render the test mix through every built-in preset into ``output_dir`` and write
    ``index.html`` (see :mod:`.demo_page`); returns a summary. ``analysis=False`` leaves out the
    spatial analysis (its figures and key figures)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    mix = test_mix(sample_rate, seconds)
    write_wav_atomic(output_dir / "input.wav", mix, sample_rate)
    rows = []
    for name in presets.list():
        processor = SpatialProcessor(name)
        start = time.perf_counter()
        processor.design(sample_rate)
        design_s = time.perf_counter() - start
        start = time.perf_counter()
        feeds = processor(mix, sample_rate)
        elapsed = time.perf_counter() - start
        write_wav_atomic(output_dir / f"{name}.drivers.wav", feeds, sample_rate)
        headroom = float(np.max(processor.headroom_db))
        row = {
            "preset": name,
            "drivers": list(processor.driver_names),
            "latency_samples": processor.latency_samples,
            "peak_dbfs": float(20 * np.log10(max(np.max(np.abs(feeds)), 1e-12))),
            "design_s": float(design_s),
            "realtime_factor": float(seconds / max(elapsed, 1e-9)),
            "headroom_db": 0.0 if abs(headroom) < 1e-6 else round(headroom, 2),
            "drivers_file": f"{name}.drivers.wav",
        }
        headphones = BinauralProcessor(SpatialProcessor(name))(mix, sample_rate)
        headphones_gain_db = loudness_match_gain_db(headphones, mix, sample_rate)
        headphones = headphones * np.float32(10 ** (headphones_gain_db / 20))
        row["headphones_gain_db"] = headphones_gain_db
        write_wav_atomic(output_dir / f"{name}.headphones.wav", headphones, sample_rate)
        row["headphones"] = f"{name}.headphones.wav"
        plain = BinauralProcessor(unprocessed(name))(mix, sample_rate)
        write_wav_atomic(output_dir / f"{name}.unprocessed.headphones.wav", plain, sample_rate)
        row["unprocessed_headphones"] = f"{name}.unprocessed.headphones.wav"
        rows.append(row)
    reference = StereoReference()(mix, sample_rate)
    reference = reference * np.float32(10 ** (loudness_match_gain_db(reference, mix, sample_rate) / 20))
    write_wav_atomic(output_dir / "reference.headphones.wav", reference, sample_rate)
    summary = {"soundstage": __version__, "sample_rate": sample_rate, "seconds": seconds, "presets": rows}
    figures = _analyse(rows, output_dir, sample_rate) if analysis else {}
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    _write_page(output_dir, summary, figures)
    lines = [f"# soundstage demo ({seconds:g} s test mix at {sample_rate:g} Hz)", "",
             "| preset | drivers | latency (samples) | design (s) | × real time | peak (dBFS) | filter headroom (dB) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['preset']} | {len(row['drivers'])} | {row['latency_samples']} | "
                     f"{row['design_s']:.2f} | {row['realtime_factor']:.0f} | {row['peak_dbfs']:.1f} | "
                     f"{row['headroom_db']:.1f} |")
    lines += ["", "Open index.html to listen on headphones: every preset level-matched beside the ±30° reference, "
              "the input and the unprocessed enclosure (`*.headphones.wav`: the listening simulation's ear "
              "signals; `*.drivers.wav`: one channel per driver, 32-bit float)."]
    text = "\n".join(lines) + "\n"
    (output_dir / "summary.md").write_text(text, encoding="utf-8")
    return f"wrote {len(rows)} presets to {output_dir}/\n" + text


def _analyse(rows: list[dict], output_dir: Path, sample_rate: float) -> dict[str, list[str]]:
    """Each preset's key figures (into its row) and analysis plots (``analysis/<preset>/``)."""
    from ..monitor import analyze

    figures = {}
    for row in rows:
        result = analyze(row["preset"], sample_rate=sample_rate, zone_lateral_m=np.linspace(-0.2, 0.2, 5),
                         zone_fore_aft_m=np.linspace(-0.2, 0.2, 3))
        m = result.metrics
        judged = [t["met"] for t in m["targets"].values() if t["met"] is not None]
        row["analysis"] = {"chi_db": m["chi_mean_db"]["processed_ctc"], "hard_left_deg": m["hard_left_deg"]["processed"],
                           "zone_m2": None if m.get("design", {}).get("kind") == "headphones" else m["zone"]["area_m2"],
                           "targets_met": [sum(judged), len(judged)] if judged else None}
        folder = output_dir / "analysis" / row["preset"]
        folder.mkdir(parents=True, exist_ok=True)
        figures[row["preset"]] = [p.relative_to(output_dir).as_posix() for p in result.figures(folder)]
    return figures


def _write_page(output_dir: Path, summary: dict, figures: dict[str, list[str]]) -> None:
    from .demo_page import demo_page_html, loudness_volumes

    files = {"input": output_dir / "input.wav", "reference": output_dir / "reference.headphones.wav"}
    for row in summary["presets"]:
        files[row["preset"]] = output_dir / row["headphones"]
        files[f"{row['preset']}.unprocessed"] = output_dir / row["unprocessed_headphones"]
    page = demo_page_html(summary, loudness_volumes(files), figures)
    write_text_atomic(output_dir / "index.html", page)

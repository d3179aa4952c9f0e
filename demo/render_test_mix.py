"""Render soundstage's built-in test mix through one preset, from Python.

The same job as ``soundstage demo`` for a single preset, written out as the few library calls a
producer's script needs: make (or load) stereo audio, build a SpatialProcessor, render driver
feeds, and hear them on headphones through the listening simulation next to the ±30° reference.

Run: ``python demo/render_test_mix.py [PRESET] [OUTPUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from soundstage import BinauralProcessor, SpatialProcessor, StereoReference, test_mix
from soundstage.cli.demo_renders import write_wav_atomic

SAMPLE_RATE = 48000.0


def main(preset: str = "studio-speaker", output_dir: str = "demo-output") -> int:
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    mix = test_mix(SAMPLE_RATE, seconds=6.0)

    processor = SpatialProcessor(preset)
    feeds = processor(mix, SAMPLE_RATE)  # (n_drivers, n), time-aligned with the input
    write_wav_atomic(out / f"{preset}.drivers.wav", feeds, SAMPLE_RATE)

    headphones = BinauralProcessor(SpatialProcessor(preset))(mix, SAMPLE_RATE)
    write_wav_atomic(out / f"{preset}.headphones.wav", headphones, SAMPLE_RATE)
    write_wav_atomic(out / "reference.headphones.wav", StereoReference()(mix, SAMPLE_RATE), SAMPLE_RATE)

    print(f"{preset}: {processor.num_output_channels} drivers {processor.driver_names}, "
          f"latency {processor.latency_samples} samples; files in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

"""soundstage's own audio regression suite: a golden render of every built-in preset.

Driver feeds and the headphone render (listening simulation, rigid sphere, free field) of a
short deterministic signal at 48 kHz, compared with committed 24-bit FLAC goldens in
``tests/test_regression_presets/``. The tolerance is a null test at −90 dBFS residual RMS plus
0.1 dB per 1/3-octave band: float noise passes, any change a listener could hear does not.
Regenerate deliberately with ``pytest tests/test_regression_presets.py --audio-regen``.
"""

from __future__ import annotations

import pytest

from soundstage import presets
from soundstage.testing import Tolerance, render_for_regression

TOLERANCE = Tolerance(residual_rms_dbfs=-90.0, band_db=0.1, band_floor_dbfs=-100.0)
SECONDS = 0.25


@pytest.mark.parametrize("output", ["drivers", "binaural"])
@pytest.mark.parametrize("name", presets.list())
def test_preset_golden(audio_regression, name, output):
    render = render_for_regression(name, "impulse-pan", sample_rate=48000, seconds=SECONDS, output=output)
    ears = ("left_ear", "right_ear") if output == "binaural" else None
    audio_regression.check(render, 48000, tolerance=TOLERANCE, preset=name, golden_format="flac",
                           channel_names=ears,
                           metadata={"signal": "impulse-pan", "seconds": SECONDS, "output": output})


def test_flac_goldens_keep_feeds_above_full_scale(tmp_path):
    """24-bit FLAC goldens hold driver feeds that exceed full scale (a power-of-two scale is
    recorded in the file) to within the format's quantisation."""
    import numpy as np

    from soundstage.testing.goldens import read_audio, write_audio

    audio = (np.random.default_rng(0).standard_normal((3, 4800)) * 0.8).astype(np.float32)
    audio[1, 100] = 3.7
    write_audio(tmp_path / "g.flac", audio, 48000)
    back, rate = read_audio(tmp_path / "g.flac")
    assert rate == 48000 and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) <= 4 * 2.0**-23 * 4

"""``soundstage demo``'s index.html in a real headless Chromium: every player decodes, levels are
matched by an independent loudness measurement, every figure loads, no console errors."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soundfile

from headless_browser import severe_console_entries, start_browser
from soundstage import presets
from soundstage.cli.demo_page import LISTEN_FOR
from soundstage.cli.demo_renders import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "out"
    run_demo(folder, seconds=1.5, sample_rate=48000.0)
    return folder


@pytest.fixture(scope="module")
def browser():
    driver = start_browser()
    yield driver
    driver.quit()


def test_every_player_decodes_and_every_figure_loads(browser, demo):
    browser.get_log("browser")
    browser.get((demo / "index.html").as_uri())
    decoded = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; window.demo.ready.then(done, (e) => done(String(e)));")
    players = browser.execute_script("return document.querySelectorAll('audio').length")
    assert players == 2 + 2 * len(presets.list()) and decoded == players
    assert browser.execute_script("return window.demo.errors") == []
    images = browser.execute_script(
        "return Array.from(document.images).map((i) => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])")
    assert len(images) >= 3 * len(presets.list()) and all(ok for _, ok in images), images
    text = browser.execute_script("return document.body.innerText")
    assert "What to listen for" in text and LISTEN_FOR[0][:40] in text
    assert severe_console_entries(browser) == []


def test_players_are_level_matched(browser, demo):
    """Loudness as rendered (pyloudnorm, measured here) plus each player's volume is the same for
    every version."""
    browser.get((demo / "index.html").as_uri())
    volumes = browser.execute_script(
        "return Array.from(document.querySelectorAll('audio')).map((a) => [a.getAttribute('src'), a.volume])")
    heard = []
    for src, volume in volumes:
        audio, rate = soundfile.read(str(demo / src), dtype="float64", always_2d=True)
        heard.append(pyloudnorm.Meter(rate).integrated_loudness(audio) + 20 * np.log10(volume))
    assert max(heard) - min(heard) < 0.05, dict(zip([s for s, _ in volumes], heard))
    assert max(v for _, v in volumes) == pytest.approx(1.0)

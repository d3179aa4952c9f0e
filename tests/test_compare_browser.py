"""The comparison report in a real headless Chromium (selenium + Debian's chromium-driver).

Skips when chromium, chromedriver or selenium is absent (CI installs them:
``apt-get install -y chromium chromium-driver`` and ``pip install selenium``). Web Audio runs in
headless Chromium without any audio device; only ``--autoplay-policy=no-user-gesture-required``
is needed for the AudioContext to start without a click.
"""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
import scipy.stats

from headless_browser import start_browser
from soundstage.compare import compare
from soundstage.compare.html import blind_order
from soundstage.compare.render import RenderOutput

SAMPLE_RATE = 48000
SECONDS = 4.0
PRESETS = ["compact-speaker", "soundbar", "laptop"]


@pytest.fixture(scope="module")
def browser():
    driver = start_browser()
    yield driver
    driver.quit()


def _noise_renderer(request, audio, sample_rate):
    """Independent white noise per version, at a different level each: every sample position of
    every version is identifiable by cross-correlation."""
    name = request.preset.name if request.preset is not None else request.kind
    seed = sum(map(ord, f"{request.kind}:{name}"))
    level = {"input": 0.05, "reference": 0.1, "preset": 0.02 * (1 + PRESETS.index(name) if name in PRESETS else 1),
             "unprocessed": 0.3}[request.kind]
    ears = (np.random.default_rng(seed).standard_normal(audio.shape) * level).astype(np.float32)
    return RenderOutput(ears=ears, driver_feeds=ears.copy(), driver_names=("a", "b"), latency_samples=0)


@pytest.fixture(scope="module")
def comparison():
    audio = np.zeros((2, int(SECONDS * SAMPLE_RATE)), dtype=np.float32)
    return compare(audio, SAMPLE_RATE, PRESETS, renderer=_noise_renderer, analyzer=None, unprocessed="none",
                   input_name="noise.wav")


@pytest.fixture(scope="module")
def page(tmp_path_factory, comparison):
    return comparison.to_html(tmp_path_factory.mktemp("report") / "report.html")


@pytest.fixture(scope="module")
def blind_page(tmp_path_factory, comparison):
    return comparison.to_html(tmp_path_factory.mktemp("blind") / "blind.html", blind=True, seed=7)


def _open(driver, path) -> int:
    driver.get_log("browser")  # drop entries of earlier pages
    driver.get(path.as_uri())
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.soundstage.ready.then((n) => done(n), (e) => done('error: ' + e));")


def _severe(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_page_loads_and_decodes_every_player(browser, page, comparison):
    decoded = _open(browser, page)
    assert decoded == len(comparison.renders) == 5
    assert _severe(browser) == []
    info = browser.execute_script(
        "const S = window.soundstage; return S.buffers.map((b) => ({channels: b.numberOfChannels, rate: b.sampleRate,"
        " length: b.length, head: Array.from(b.getChannelData(1).subarray(1000, 1200))}));")
    assert browser.execute_script("return window.soundstage.ctx.state") == "running"
    assert browser.execute_script("return window.soundstage.errors") == []
    for render, got in zip(comparison.renders, info):
        assert (got["channels"], got["rate"], got["length"]) == (2, SAMPLE_RATE, int(SECONDS * SAMPLE_RATE))
        expected = comparison.matched(render.key)[1, 1000:1200]
        # 16-bit WAV: the decoded samples are the matched render to within one quantisation step
        assert np.max(np.abs(np.array(got["head"]) - expected)) <= 1.0 / 32768 + 1e-7


def test_keyboard_switches_and_raw_toggle(browser, page, comparison):
    _open(browser, page)
    from selenium.webdriver.common.by import By

    browser.find_element(By.TAG_NAME, "body").send_keys("3")
    assert browser.execute_script("return window.soundstage.selected") == 2
    browser.execute_script("window.soundstage.setMatched(false)")
    time.sleep(0.1)
    gain = browser.execute_script("return window.soundstage.gains[2].gain.value")
    key = comparison.renders[2].key
    assert gain == pytest.approx(1.0 / comparison.match.gain(key), rel=1e-5)  # back to the rendered level
    browser.execute_script("window.soundstage.setMatched(true)")
    time.sleep(0.1)
    assert browser.execute_script("return window.soundstage.gains[2].gain.value") == pytest.approx(1.0, abs=1e-4)
    assert browser.execute_script("return window.soundstage.gains[0].gain.value") == pytest.approx(0.0, abs=1e-4)


_TAP = """
const S = window.soundstage, done = arguments[arguments.length - 1];
const a = arguments[0], b = arguments[1];
const tap = S.ctx.createScriptProcessor(1024, 2, 2), blocks = [];
tap.onaudioprocess = (e) => { blocks.push({t: e.playbackTime, sel: S.selected,
  x: Array.from(e.inputBuffer.getChannelData(0))}); };
S.master.connect(tap); tap.connect(S.ctx.destination);
S.select(a); S.play(0);
const clock = [];
setTimeout(() => { clock.push([S.ctx.currentTime, S.position()]); S.select(b); }, 900);
setTimeout(() => { clock.push([S.ctx.currentTime, S.position()]); }, 1300);
setTimeout(() => { S.pause(); tap.disconnect(); done({blocks: blocks, t0: S.t0, clock: clock}); }, 1800);
"""


def _locate(block: np.ndarray, signal: np.ndarray) -> tuple[int, float]:
    """Index of ``block`` inside ``signal`` (by cross-correlation) and the residual at that index."""
    corr = np.correlate(signal, block, mode="valid")
    index = int(np.argmax(corr))
    return index, float(np.max(np.abs(signal[index:index + block.size] - block)))


def test_switching_while_playing_keeps_the_position(browser, page, comparison):
    _open(browser, page)
    a, b = 2, 3  # two presets
    result = browser.execute_async_script(_TAP, a, b)
    blocks = [blk for blk in result["blocks"] if len(blk["x"]) == 1024]
    signals = [comparison.matched(r.key)[0].astype(np.float64) for r in comparison.renders]
    # audible blocks well before and well after the switch (the gain ramp takes ~15 ms)
    playing = [i for i, blk in enumerate(blocks) if blk["t"] >= result["t0"] + 0.05 and np.any(blk["x"])]
    switch = next(i for i, blk in enumerate(blocks) if blk["sel"] == b)
    before = [i for i in playing if i < switch - 2][-1]
    after = [i for i in playing if i > switch + 2][0]
    x_before, x_after = np.array(blocks[before]["x"]), np.array(blocks[after]["x"])
    index_a, residual_a = _locate(x_before, signals[a])
    index_b, residual_b = _locate(x_after, signals[b])
    # the blocks are exactly A, then exactly B (to the 16-bit step; the signals are ~0.05 RMS)
    assert residual_a <= 2 / 32768 and residual_b <= 2 / 32768
    # B continues where A was: the signal positions differ by the context time between the two
    # blocks (their playbackTime stamps, which also count tap callbacks a loaded machine drops),
    # within one audio block
    elapsed = (blocks[after]["t"] - blocks[before]["t"]) * SAMPLE_RATE
    assert abs((index_b - index_a) - elapsed) <= 1024
    # the position the page shows ran on with the context clock across the switch
    (t1, p1), (t2, p2) = result["clock"]
    assert p2 - p1 == pytest.approx(t2 - t1, abs=128 / SAMPLE_RATE) and t2 - t1 > 0.2


def test_loop_region_keeps_playback_inside(browser, page):
    _open(browser, page)
    browser.execute_script("window.soundstage.setLoop(1.0, 1.4, true); window.soundstage.play(1.0);")
    positions = []
    for _ in range(6):
        time.sleep(0.2)
        positions.append(browser.execute_script("return window.soundstage.position()"))
    browser.execute_script("window.soundstage.pause()")
    assert all(1.0 <= p <= 1.4 for p in positions), positions
    assert browser.execute_script("return window.soundstage.sources.length") == 0


def test_blind_mode_hides_names_and_scores_abx(browser, blind_page, comparison):
    decoded = _open(browser, blind_page)
    assert decoded == 5
    text = browser.execute_script("return document.body.innerText")
    for name in PRESETS:
        assert name not in text
    labels = browser.execute_script("return window.soundstage.data.players.map((p) => p.label)")
    assert labels[2:] == ["A", "B", "C"]
    # the pair pickers start on A and B; picking B and C through the page starts a new run
    from selenium.webdriver.support.ui import Select

    assert browser.execute_script("return [document.getElementById('abx-pair-a').value,"
                                  " document.getElementById('abx-pair-b').value]") == ["2", "3"]
    Select(browser.find_element("id", "abx-pair-a")).select_by_visible_text("B")
    Select(browser.find_element("id", "abx-pair-b")).select_by_visible_text("C")
    browser.find_element("id", "abx-pair-go").click()
    assert browser.execute_script("return window.soundstage.abx.pair") == [3, 4]
    # scripted answers: 9 right, 3 wrong
    script = [True] * 9 + [False] * 3
    for correct in script:
        x, pair = browser.execute_script("return [window.soundstage.abx.x, window.soundstage.abx.pair]")
        which = pair.index(x) if correct else 1 - pair.index(x)
        browser.execute_script("window.soundstage.abx.answer(arguments[0])", which)
    outcome = browser.execute_script("return window.soundstage.abx.finish()")
    assert (outcome["k"], outcome["n"]) == (9, 12)
    assert browser.execute_script("return document.getElementById('abx-count').innerText") == \
        "run finished after 12 trials"
    expected = scipy.stats.binomtest(9, 12, 0.5, alternative="greater").pvalue
    assert outcome["p"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(299 / 4096, rel=1e-12)
    assert "9 of 12 correct" in browser.execute_script("return document.getElementById('abx-result').innerText")
    # a reversed pick keeps A before B; a version against itself is refused and the run kept
    Select(browser.find_element("id", "abx-pair-a")).select_by_visible_text("C")
    Select(browser.find_element("id", "abx-pair-b")).select_by_visible_text("A")
    browser.find_element("id", "abx-pair-go").click()
    assert browser.execute_script("return window.soundstage.abx.pair") == [2, 4]
    assert browser.execute_script("return [document.getElementById('abx-a').innerText,"
                                  " document.getElementById('abx-b').innerText]") == ["A = A", "B = C"]
    Select(browser.find_element("id", "abx-pair-b")).select_by_visible_text("C")
    browser.find_element("id", "abx-pair-go").click()
    assert browser.execute_script("return window.soundstage.abx.pair") == [2, 4]
    assert "two different versions" in browser.execute_script("return document.getElementById('abx-result').innerText")
    # the key: hidden until asked for, then the seeded order
    key = browser.execute_script("return window.soundstage.revealKey()")
    order = blind_order([f"preset:{name}" for name in PRESETS], 7)
    assert [v["key"] for v in key["order"]] == order
    assert [v["label"] for v in key["order"]] == ["A", "B", "C"]
    assert order[0].split(":")[1] in browser.execute_script("return document.getElementById('key-table').innerText")
    assert _severe(browser) == []


def test_blind_key_in_the_file_decodes_to_the_mapping(blind_page):
    html = blind_page.read_text(encoding="utf-8")
    start = html.index('id="soundstage-key">') + len('id="soundstage-key">')
    key = json.loads(base64.b64decode(html[start:html.index("</script>", start)]))
    assert key["seed"] == 7
    assert {v["preset"] for v in key["order"]} == set(PRESETS)

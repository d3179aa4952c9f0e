"""Tests of soundstage.compare with stand-in renderers (gains, noise): loudness matching, peak
guard, measurements against BS.1770 / Tech 3342 oracles, the metrics table, the HTML file and bad
input. The real processor is exercised in test_compare_integration.py, the page in a browser in
test_compare_browser.py."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pyloudnorm
import pytest
import soundfile
from scipy.signal.windows import tukey

from soundstage import AudioFormatError, ParameterError, PresetError
from soundstage.cli.compare import add_compare_parser, run_compare
from soundstage.compare import TABLE_COLUMNS, compare
from soundstage.compare.html import blind_order
from soundstage.compare.loudness import match_loudness, measure_loudness, true_peak_dbtp
from soundstage.compare.render import RenderOutput

SR = 48000
PRESETS = ["compact-speaker", "soundbar", "laptop"]


def _noise(seconds=2.0, level=0.1, seed=0, sample_rate=SR):
    return (np.random.default_rng(seed).standard_normal((2, int(seconds * sample_rate))) * level).astype(np.float32)


def _lufs(audio, sample_rate=SR):
    return pyloudnorm.Meter(sample_rate).integrated_loudness(np.asarray(audio, dtype=np.float64).T)


def gain_renderer(gains: dict, latency: int = 0):
    """Stand-in: each version is the input times a gain (by preset name or kind)."""
    def render(request, audio, sample_rate):
        name = request.preset.name if request.kind == "preset" else request.kind
        ears = (audio * np.float32(gains.get(name, 1.0))).astype(np.float32)
        return RenderOutput(ears=ears, driver_feeds=ears.copy(), driver_names=("l", "r"), latency_samples=latency)
    return render


# ---------------------------------------------------------------- loudness matching
def test_versions_at_different_levels_are_matched_within_a_tenth_of_a_lu():
    gains = {"input": 1.0, "reference": 0.7, "compact-speaker": 0.05, "soundbar": 1.9, "laptop": 0.3,
             "unprocessed": 0.01}
    result = compare(_noise(level=0.05), SR, PRESETS, renderer=gain_renderer(gains), analyzer=None)
    before = [_lufs(r.ears) for r in result.renders]
    assert max(before) - min(before) > 40  # deliberately far apart
    after = {r.key: _lufs(result.matched(r.key)) for r in result.renders}
    target = after["reference"]
    for key, value in after.items():
        assert abs(value - target) <= 0.1, key
        assert value == pytest.approx(result.match.loudness_after_lufs[key], abs=0.01)
    assert result.match.guard_db == 0.0 and result.notes == []
    assert target == pytest.approx(_lufs(result.render("reference").ears), abs=0.01)  # reference keeps its level


def test_matching_iterates_where_the_absolute_gate_bends_the_scale():
    # a very quiet version whose blocks straddle BS.1770's -70 LUFS gate: scaling it up lets more
    # blocks through the gate, so one gain step misses the target and a second pass is needed
    ramp = np.linspace(-80.0, -60.0, 10 * 16000)
    quiet = (_noise(10.0, 1.0, seed=3, sample_rate=16000) * 10 ** (ramp / 20)).astype(np.float64)
    loud = _noise(10.0, 0.1, seed=4, sample_rate=16000).astype(np.float64)
    naive = _lufs(loud, 16000) - _lufs(quiet, 16000)
    assert abs(_lufs(quiet * 10 ** (naive / 20), 16000) - _lufs(loud, 16000)) > 0.1  # one step is not enough
    match = match_loudness({"loud": loud, "quiet": quiet}, 16000, reference="loud")
    assert match.iterations >= 2
    assert abs(_lufs(quiet * match.gain("quiet"), 16000) - _lufs(loud, 16000)) <= 0.1


def test_peak_guard_lowers_everything_together():
    clicks = np.zeros((2, 2 * SR), dtype=np.float32)
    clicks[:, ::4800] = 0.5  # sparse clicks: high peak, low loudness

    def render(request, audio, sample_rate):
        ears = clicks.copy() if request.kind == "preset" and request.preset.name == "laptop" else audio.copy()
        return RenderOutput(ears=ears, driver_feeds=ears.copy(), driver_names=("l", "r"))

    result = compare(_noise(level=0.2), SR, PRESETS, renderer=render, analyzer=None, unprocessed="none")
    match = result.match
    assert match.guard_engaged and match.guard_db < -3.0
    peaks = {r.key: 20 * np.log10(np.max(np.abs(result.matched(r.key)))) for r in result.renders}
    assert max(peaks.values()) <= -1.0 + 1e-4  # the stated ceiling, -1 dBFS
    assert max(peaks.values()) >= -1.01  # and the guard lowered no more than needed
    after = [_lufs(result.matched(r.key)) for r in result.renders]
    assert max(after) - min(after) <= 0.1  # still matched to one another
    assert any("-1 dBFS" in note and "lowered" in note for note in result.notes)
    assert "every version was lowered by" in compare_html_text(result)  # and the report says so


def compare_html_text(result) -> str:
    from soundstage.compare.html import build_html

    return build_html(result, max_seconds=0.5)


def test_peak_guard_honours_another_ceiling():
    result = compare(_noise(level=0.3), SR, PRESETS[:2], renderer=gain_renderer({}), analyzer=None,
                     ceiling_dbfs=-12.0)
    assert result.match.guard_engaged
    assert max(np.max(np.abs(result.matched(r.key))) for r in result.renders) <= 10 ** (-12 / 20) * 1.0001


# ---------------------------------------------------------------- measurements
def test_sine_loudness_crest_factor_and_true_peak():
    t = np.arange(2 * SR) / SR
    sine = np.stack([0.5 * np.sin(2 * np.pi * 997 * t)] * 2)
    stats = measure_loudness(sine, SR)
    assert stats.integrated_lufs == pytest.approx(20 * np.log10(0.5), abs=0.05)  # BS.1770: 0 dBFS sine = -3.01 LUFS/channel
    assert stats.crest_factor_db == pytest.approx(10 * np.log10(2), abs=0.01)
    steady = np.stack([0.5 * np.sin(2 * np.pi * 997 * np.arange(30 * 16000) / 16000)] * 2)
    assert measure_loudness(steady, 16000).loudness_range_lu == pytest.approx(0.0, abs=0.1)  # a steady tone
    # fs/4 at 45°: every sample at ±0.707 of the crest (faded in and out: an abrupt start rings)
    quarter = np.stack([np.cos(2 * np.pi * 0.25 * np.arange(4800) + np.pi / 4) * tukey(4800, 0.2)] * 2)
    assert 20 * np.log10(np.max(np.abs(quarter))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(quarter) == pytest.approx(0.0, abs=0.05)  # the 4x grid hits the crest


def test_loudness_range_of_two_levels_is_their_difference():
    # EBU Tech 3342: 10th to 95th percentile of gated short-term loudness; 12 s at two levels 10 dB apart
    sr = 16000
    x = _noise(24.0, 0.1, seed=5, sample_rate=sr)
    x[:, 12 * sr:] *= 10 ** (-10 / 20)
    assert measure_loudness(x, sr).loudness_range_lu == pytest.approx(10.0, abs=0.5)


# ---------------------------------------------------------------- table, analysis, provenance
def test_metrics_table_reference_first_with_spatial_columns_and_latency():
    def analyzer(request, sample_rate):
        if request.kind != "preset":
            return None
        from matplotlib.figure import Figure

        figure = Figure(figsize=(2, 2))
        figure.subplots().plot([0, 1], [1, 0])
        return {"mean_separation_db": 12.5, "hard_left_azimuth_deg": 28.0, "colouration_db": 1.5,
                "centre_drr_gain_db": 3.0, "zone_area_m2": 0.12, "figures": {"chi": figure}}

    result = compare(_noise(), SR, PRESETS[:2], renderer=gain_renderer({"soundbar": 0.5}, latency=480),
                     analyzer=analyzer, parameters={"soundbar": {"width_deg": 20}}, input_name="x.wav")
    rows = result.rows()
    assert [r["kind"] for r in rows] == ["reference", "preset", "preset", "unprocessed", "input"]
    bar = next(r for r in rows if r["key"] == "preset:soundbar")
    assert bar["gain_db"] == pytest.approx(20 * np.log10(2), abs=0.02)
    assert bar["latency_ms"] == 10.0
    assert bar["mean_separation_db"] == 12.5 and bar["zone_area_m2"] == 0.12
    assert rows[0]["mean_separation_db"] is None
    assert bar["crest_factor_db"] == pytest.approx(rows[0]["crest_factor_db"], abs=1e-3)  # gain-invariant
    assert bar["sample_peak_after_dbfs"] == pytest.approx(rows[0]["sample_peak_after_dbfs"], abs=0.1)
    prov = result.provenance
    versions = {v["key"]: v for v in prov["versions"]}
    from soundstage import presets

    assert versions["preset:soundbar"]["content_hash"] == presets.load("soundbar").content_hash
    assert versions["preset:soundbar"]["parameters"] == {"width_deg": 20}
    assert prov["input"] == "x.wav" and prov["loudness"]["ceiling_dbfs"] == -1.0
    assert len(result.figures["preset:soundbar"]["chi"]) > 1000


def test_analysis_failure_is_reported_not_fatal():
    def analyzer(request, sample_rate):
        raise RuntimeError("no room model")

    result = compare(_noise(), SR, PRESETS[:2], renderer=gain_renderer({}), analyzer=analyzer)
    assert any("no room model" in note for note in result.notes)


# ---------------------------------------------------------------- HTML and directory output
def _visible(html: str) -> str:
    html = re.sub(r'<script type="application/json" id="soundstage-key">.*?</script>', "", html, flags=re.S)
    return re.sub(r"data:[a-z]+/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html)


def _embedded_audio(html: str) -> list[np.ndarray]:
    data = json.loads(re.search(r'id="soundstage-data">(.*?)</script>', html, flags=re.S).group(1))
    out = []
    for player in data["players"]:
        raw = base64.b64decode(player["src"].split(",", 1)[1])
        audio, rate = soundfile.read(io.BytesIO(raw), dtype="float64", always_2d=True)
        assert rate == SR
        out.append(audio.T)
    return out


@pytest.fixture(scope="module")
def result():
    gains = {"reference": 0.8, "compact-speaker": 0.1, "soundbar": 0.6, "laptop": 2.0}
    return compare(_noise(3.0, 0.05), SR, PRESETS, renderer=gain_renderer(gains), analyzer=None,
                   input_name="song.wav")


def test_html_is_self_contained_and_embeds_the_matched_excerpt(result, tmp_path):
    path = result.to_html(tmp_path / "r.html", max_seconds=1.5)
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    embedded = _embedded_audio(html)
    assert len(embedded) == len(result.renders) == 6
    span = result.excerpt(1.5)  # 1.5 s of the 3 s input, from its most active window
    assert span.frames == int(1.5 * SR) and f"{span.start / SR:.1f}–{span.stop / SR:.1f} s" in html
    for render, audio in zip(result.renders, embedded):
        expected = result.matched(render.key)[:, span.start:span.stop]
        assert audio.shape == expected.shape
        assert np.max(np.abs(audio - expected)) <= 1.0 / 32767
    assert "song.wav" in html and "±0.1 LU" in html and "-1 dBFS" in html
    assert html.count("data:image/png;base64,") == 1  # the loudness chart
    for name in PRESETS:
        assert result.render(f"preset:{name}").preset.content_hash[:16] in html


def test_flac_embedding_is_smaller_and_as_exact(result, tmp_path):
    wav = result.to_html(tmp_path / "w.html", max_seconds=1.0, audio_format="wav")
    flac = result.to_html(tmp_path / "f.html", max_seconds=1.0, audio_format="flac")
    assert flac.stat().st_size < wav.stat().st_size
    span = result.excerpt(1.0)
    for render, a, b in zip(result.renders, _embedded_audio(wav.read_text()), _embedded_audio(flac.read_text())):
        expected = result.matched(render.key)[:, span.start:span.stop]
        assert np.max(np.abs(a - expected)) <= 1 / 32767 and np.max(np.abs(b - expected)) <= 1 / 32767


def test_blind_page_hides_names_and_records_a_seeded_key(result, tmp_path):
    html = result.to_html(tmp_path / "b.html", blind=True, seed=11, excerpt_start_s=0.0).read_text(encoding="utf-8")
    visible = _visible(html)
    for name in PRESETS:
        assert name not in visible
    data = json.loads(re.search(r'id="soundstage-data">(.*?)</script>', html, flags=re.S).group(1))
    assert [p["label"] for p in data["players"]] == ["input", "reference (stereo-pair)", "A", "B", "C", "unprocessed"]
    key = json.loads(base64.b64decode(re.search(r'id="soundstage-key">(.*?)</script>', html, flags=re.S).group(1)))
    order = blind_order([f"preset:{n}" for n in PRESETS], 11)
    assert [v["key"] for v in key["order"][:3]] == order
    assert order != [f"preset:{n}" for n in PRESETS] or blind_order(order, 12) != order  # it is a shuffle
    # the embedded audio follows the blind order
    embedded = _embedded_audio(html)
    for i, key_name in enumerate(order):
        np.testing.assert_allclose(embedded[2 + i], result.matched(key_name)[:, : embedded[2 + i].shape[1]],
                                   atol=1.0 / 32767)


def test_to_dir_writes_renders_metrics_and_page(result, tmp_path):
    out = result.to_dir(tmp_path / "report", max_seconds=1.0)
    rows = (out / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + len(result.renders) and rows[1].startswith("reference,")
    ears, rate = soundfile.read(out / "renders" / "preset.soundbar.ears.wav", dtype="float32", always_2d=True)
    np.testing.assert_array_equal(ears.T, result.render("preset:soundbar").ears)
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["ceiling_dbfs"] == -1.0 and (out / "report.html").is_file()


# ---------------------------------------------------------------- bad input
def test_unknown_preset_names_it():
    with pytest.raises(PresetError, match="no-such-speaker"):
        compare(_noise(), SR, ["compact-speaker", "no-such-speaker"], renderer=gain_renderer({}))


@pytest.mark.parametrize("presets, reference", [(["soundbar"], None), ([], "stereo-pair")])
def test_fewer_than_two_versions(presets, reference):
    with pytest.raises(ParameterError, match="at least two versions"):
        compare(_noise(), SR, presets, reference=reference, renderer=gain_renderer({}))


def test_duplicate_preset_and_stray_parameters():
    with pytest.raises(ParameterError, match="once"):
        compare(_noise(), SR, ["soundbar", "soundbar"], renderer=gain_renderer({}))
    with pytest.raises(ParameterError, match="laptop"):
        compare(_noise(), SR, ["soundbar", "compact-speaker"], parameters={"laptop": {}}, renderer=gain_renderer({}))


def test_input_shorter_than_a_gating_block():
    with pytest.raises(ParameterError, match="0.4 s"):
        compare(_noise(0.39), SR, PRESETS[:2], renderer=gain_renderer({}))
    short = compare(_noise(0.41), SR, PRESETS[:2], renderer=gain_renderer({}), analyzer=None)  # one block is enough
    assert np.isnan(short.loudness["reference"].loudness_range_lu)  # but no loudness range below 1.5 s
    assert short.rows()[0]["loudness_range_lu"] is None


def test_bad_audio_and_silent_renders():
    with pytest.raises(AudioFormatError, match="mono or stereo"):
        compare(np.zeros((3, SR), np.float32), SR, PRESETS[:2], renderer=gain_renderer({}))
    with pytest.raises(AudioFormatError, match="float32 or float64"):
        compare(np.zeros((2, SR), np.int16), SR, PRESETS[:2], renderer=gain_renderer({}))
    bad = _noise()
    bad[0, 10] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        compare(bad, SR, PRESETS[:2], renderer=gain_renderer({}))
    with pytest.raises(ParameterError, match="silent"):
        compare(_noise(), SR, PRESETS[:2], renderer=gain_renderer({"soundbar": 0.0}), analyzer=None)


def test_blind_needs_two_presets(tmp_path):
    single = compare(_noise(), SR, ["soundbar"], renderer=gain_renderer({}), analyzer=None)
    with pytest.raises(ParameterError, match="blind mode needs at least two presets"):
        single.to_html(tmp_path / "x.html", blind=True)


def _cli(argv):
    import argparse

    parser = argparse.ArgumentParser(prog="soundstage")
    add_compare_parser(parser.add_subparsers(dest="command"))
    return run_compare(parser.parse_args(["compare", *argv]))


@pytest.mark.parametrize("case", ["unknown preset", "unreadable", "short", "missing"])
def test_cli_reports_one_line_and_fails(case, tmp_path, capsys):
    good = tmp_path / "in.wav"
    soundfile.write(good, _noise(1.0).T, SR)
    argv = {"unknown preset": [str(good), "-p", "soundbar", "-p", "no-such-speaker"],
            "unreadable": [str(tmp_path / "junk.wav"), "-p", "soundbar", "-p", "laptop"],
            "short": [str(tmp_path / "short.wav"), "-p", "soundbar", "-p", "laptop"],
            "missing": [str(tmp_path / "absent.wav"), "-p", "soundbar", "-p", "laptop"]}[case]
    (tmp_path / "junk.wav").write_bytes(b"RIFF....not audio at all")
    soundfile.write(tmp_path / "short.wav", _noise(0.2).T, SR)
    code = _cli(argv + ["-o", str(tmp_path / "r.html"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and err.startswith("soundstage compare: ")
    assert not (tmp_path / "r.html").exists()


def test_loudness_chart_legend_never_covers_a_bar_and_blind_charts_hide_levels():
    import io

    import matplotlib.image
    from matplotlib.figure import Figure

    from soundstage.compare.html import loudness_figure

    captured = []
    original = Figure.savefig

    def keep(self, *args, **kwargs):
        captured.append(self)
        return original(self, *args, **kwargs)

    Figure.savefig = keep
    try:
        loudness_figure(["input", "reference", "A", "B", "C"], [-20, -18, -12, -11, -14], [-23] * 5,
                        ceiling_dbfs=-1.0, guard_db=0.0)
        loudness_figure(["input", "reference", "A", "B"], None, [-23] * 4, ceiling_dbfs=-1.0, guard_db=0.0)
    finally:
        Figure.savefig = original
    full, blind = captured
    full.canvas.draw()
    axes = full.axes[0]
    legend_box = axes.get_legend().get_window_extent()
    assert all(not legend_box.overlaps(bar.get_window_extent()) for bar in axes.patches)
    assert len(blind.axes[0].patches) == 4  # matched bars only: no per-label levels before matching
    assert [t.get_text() for t in blind.axes[0].get_legend().get_texts()] == ["matched"]
    del io, matplotlib


def test_empty_columns_are_left_out_and_overlays_share_axes():
    from soundstage.compare.html import _table
    from soundstage.compare.overlays import overlay_figures

    class Rows:
        def rows(self):
            base = {key: None for key, _, _ in TABLE_COLUMNS}
            return [{**base, "key": "a", "label": "a", "kind": "preset", "loudness_after_lufs": -23.0,
                     "mean_separation_db": 20.0}]

    table = _table(Rows(), None)
    assert "loudness after" in table and "mean χ" in table and "centre DRR gain" not in table
    curve = {"bands_hz": [100.0, 1000.0], "chi_db": [3.0, 20.0], "pans": [-1.0, 1.0], "pan_azimuth_deg": [-30.0, 30.0]}
    figures = overlay_figures({"reference": curve, "A": curve, "B": {**curve, "chi_db": [1.0, 9.0]}})
    assert [title for title, _ in figures] == ["Separation χ, all versions", "Image azimuth vs pan, all versions"]
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for _, png in figures)
    assert overlay_figures({"A": curve}) == []

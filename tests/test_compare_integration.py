"""soundstage.compare with the real chain: SpatialProcessor, Auralizer, StereoReference, analyze."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
import soundfile

from soundstage import presets
from soundstage.cli import main
from soundstage.compare import compare
from soundstage.compare.render import UNPROCESSED_BYPASS
from soundstage.monitor import Auralizer, StereoReference
from soundstage.processor import SpatialProcessor

SR = 48000


def _mix(seconds=1.5, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    left = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)
    right = 0.2 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(t.size)
    return np.stack([left, right]).astype(np.float32)


@pytest.fixture(scope="module")
def result():
    return compare(_mix(), SR, ["compact-speaker", "soundbar"], parameters={"soundbar": {"width_deg": 20}},
                   analyzer=None)


def test_renders_are_the_processor_and_the_listening_simulation(result):
    audio = _mix()
    for name, params in (("compact-speaker", {}), ("soundbar", {"width_deg": 20})):
        render = result.render(f"preset:{name}")
        preset = presets.load(name)
        processor = SpatialProcessor(preset, **params)
        feeds = processor(audio, SR)  # the report renders on the offline engine, bitwise the one-shot call
        assert render.output.driver_feeds.shape == (preset.enclosure.num_drivers, audio.shape[1])
        np.testing.assert_array_equal(render.output.driver_feeds, feeds)
        assert render.output.latency_samples == processor.latency_samples > 0
        ears = Auralizer(preset.enclosure, listener=processor.listener).process(feeds, SR)
        np.testing.assert_array_equal(render.ears, ears)
    np.testing.assert_array_equal(result.render("reference").ears, StereoReference().process(audio, SR))
    plain = SpatialProcessor("compact-speaker", bypass=UNPROCESSED_BYPASS)(audio, SR)
    np.testing.assert_array_equal(result.render("unprocessed:compact-speaker").output.driver_feeds, plain)
    np.testing.assert_array_equal(result.render("input").ears, audio)


def test_real_renders_are_matched_within_a_tenth_of_a_lu(result):
    meter = pyloudnorm.Meter(SR)
    after = [meter.integrated_loudness(result.matched(r.key).T.astype(np.float64)) for r in result.renders]
    assert max(after) - min(after) <= 0.1
    assert max(np.max(np.abs(result.matched(r.key))) for r in result.renders) <= 10 ** (-1 / 20)


def test_spatial_columns_from_the_analysis(tmp_path):
    result = compare(_mix(0.5), SR, ["compact-speaker"], analyzer="default")
    rows = {r["key"]: r for r in result.rows()}
    processed, plain, reference = rows["preset:compact-speaker"], rows["unprocessed:compact-speaker"], rows["reference"]
    assert reference["hard_left_azimuth_deg"] == pytest.approx(30.0, abs=2.0)  # the ±30° pair
    assert processed["mean_separation_db"] > plain["mean_separation_db"] + 3.0  # cancellation works
    assert processed["hard_left_azimuth_deg"] > plain["hard_left_azimuth_deg"] + 10.0  # and widens the image
    assert processed["zone_area_m2"] is not None and rows["input"]["mean_separation_db"] is None
    # the overlay figures draw the same analysis: the curves' band means are the table's χ
    from soundstage.monitor.analysis import CHI_BAND_HZ

    curves = result.curves["preset:compact-speaker"]
    bands, chi = np.array(curves["bands_hz"]), np.array(curves["chi_db"])
    in_band = (bands >= CHI_BAND_HZ[0]) & (bands <= CHI_BAND_HZ[1])
    assert chi[in_band].mean() == pytest.approx(processed["mean_separation_db"], abs=1e-9)
    assert set(result.curves) == {"preset:compact-speaker", "unprocessed:compact-speaker", "reference"}
    page = result.to_html(tmp_path / "r.html", max_seconds=0.2).read_text()
    assert "Separation χ, all versions" in page and "Image azimuth vs pan, all versions" in page


def test_cli_writes_a_report(tmp_path, capsys):
    source = tmp_path / "mix.wav"
    soundfile.write(source, _mix(1.0).T, SR, subtype="FLOAT")
    out = tmp_path / "report.html"
    code = main(["compare", str(source), "-p", "compact-speaker", "-p", "laptop", "--no-spatial", "--quiet",
                 "--blind", "--seed", "3", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "matched to" in err
    html = out.read_text(encoding="utf-8")
    assert "ABX test" in html and 'id="soundstage-key"' in html


def test_cli_error_is_one_line(tmp_path, capsys):
    source = tmp_path / "mix.wav"
    soundfile.write(source, _mix(1.0).T, SR, subtype="FLOAT")
    code = main(["compare", str(source), "-p", "compact-speaker", "-p", "no-such-speaker", "-o",
                 str(tmp_path / "r.html")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "no-such-speaker" in err


def test_measured_head_is_used_for_every_version():
    from kemar_data import kemar_path

    KEMAR = str(kemar_path())
    audio = _mix(0.5)
    result = compare(audio, SR, ["compact-speaker"], head=KEMAR, analyzer=None, unprocessed="none")
    np.testing.assert_array_equal(result.render("reference").ears, StereoReference(head=KEMAR).process(audio, SR))
    preset = presets.load("compact-speaker")
    feeds = result.render("preset:compact-speaker").output.driver_feeds
    np.testing.assert_array_equal(result.render("preset:compact-speaker").ears,
                                  Auralizer(preset.enclosure, listener=preset.listener, head=KEMAR).process(feeds, SR))
    assert result.provenance["head"] == KEMAR

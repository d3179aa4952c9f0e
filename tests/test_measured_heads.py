"""The built-in measured head, personal (SOFA) designs and designs robust to the listener's head."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import scipy.signal

from soundstage import PresetError, presets
from soundstage.acoustics.frame import spherical_to_cartesian
from soundstage.acoustics.heads import SofaHead, builtin_kemar_path, make_head
from soundstage.design import design_filterset, design_report, head_separation

from kemar_data import kemar_path

FS = 48000.0
BAND_1_6K = np.geomspace(1000.0, 6000.0, 48)


@pytest.fixture(scope="module")
def studio():
    return presets.load("studio-speaker")


def ctc_alone(preset, **changes):
    parameters = preset.parameters.replace(bypass=frozenset({"virtualizer"}), **changes)
    return design_filterset(preset.enclosure, preset.listener, parameters, FS)


def worse_side_chi(filterset, head, lateral_m=0.0) -> float:
    listener = filterset.listener.moved(lateral_offset_m=lateral_m)
    report = design_report(filterset, frequencies_hz=BAND_1_6K, listener=listener, head=head)
    return float(np.min(np.mean(report.separation_db, axis=-1)))


# --- the built-in KEMAR -----------------------------------------------------------------------

def test_kemar_is_package_data_with_its_licence_and_citation():
    path = builtin_kemar_path()
    assert path.is_file() and path.parent.name == "data" and "soundstage" in path.parts
    notice = (path.parent / "LICENSE.MIT_KEMAR").read_text()
    assert "provided free with no restrictions on use" in notice and "Gardner" in notice
    assert "Gardner and K. D. Martin" in (path.parent / "CITATION.MIT_KEMAR").read_text()
    head = make_head("kemar")
    assert isinstance(head, SofaHead) and head.path == path and head.interpolation == "linear"


def test_kemar_ears_by_an_independent_measure_the_left_ear_leads_for_a_left_source():
    """Cross-correlation of the HRIRs (scipy), not the reader's onsets: +30° reaches the left ear first."""
    ir = make_head("kemar").impulse_responses(spherical_to_cartesian(30.0, 0.0, 1.4), FS, 512)
    lags = scipy.signal.correlation_lags(512, 512)
    lag = lags[np.argmax(scipy.signal.correlate(ir[1], ir[0]))]  # > 0: right ear later
    assert 10 <= lag <= 20  # 0.21–0.42 ms; Woodworth gives ~0.26 ms for 8.75 cm at 30°
    level_db = 10 * np.log10(np.sum(ir[0] ** 2) / np.sum(ir[1] ** 2))
    assert level_db > 6.0


def test_kemar_in_a_preset_and_in_the_listening_simulation(tmp_path):
    from soundstage.monitor import Auralizer

    (tmp_path / "k.toml").write_text('schema_version = 1\nextends = "studio-speaker"\nname = "k"\n'
                                     '[listener]\ndistance_m = 2.5\nhead = "kemar"\n')
    preset = presets.load(tmp_path / "k.toml")
    assert preset.head == "kemar" and preset.parameters.head_model == "kemar"
    aur = Auralizer(preset.enclosure, preset.listener, head="kemar")
    feeds = np.zeros((5, 2048), dtype=np.float32)
    feeds[0, 0] = 1.0  # the left midrange: louder at the left ear
    ears = aur(feeds, FS)
    assert np.sum(ears[0] ** 2) > np.sum(ears[1] ** 2)


# --- personal designs -------------------------------------------------------------------------

def test_a_preset_with_a_sofa_path_designs_for_that_head(tmp_path, studio):
    mine = tmp_path / "heads" / "my_head.sofa"
    mine.parent.mkdir()
    mine.write_bytes(kemar_path().read_bytes())
    (tmp_path / "mine.toml").write_text('schema_version = 1\nextends = "studio-speaker"\nname = "mine"\n'
                                        '[listener]\ndistance_m = 2.5\nhead = "heads/my_head.sofa"\n')
    preset = presets.load(tmp_path / "mine.toml")
    assert preset.head == str(mine.resolve())
    personal = design_filterset(preset.enclosure, preset.listener, preset.parameters, FS)
    assert personal.diagnostics["head"].path == mine.resolve()
    builtin = design_filterset(preset.enclosure, preset.listener, preset.parameters.replace(head_model="kemar"), FS)
    np.testing.assert_array_equal(personal.fir, builtin.fir)  # same HRIRs, same filters
    sphere = design_filterset(studio.enclosure, studio.listener, studio.parameters, FS)
    assert np.max(np.abs(personal.fir - sphere.fir)) > 1e-3 * np.max(np.abs(sphere.fir))


def test_analyze_evaluates_a_design_on_another_head(tmp_path):
    from soundstage.cli import main

    out = tmp_path / "out"
    assert main(["analyze", "studio-speaker", "--head", "kemar", "-o", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    heads = metrics["metrics"]["heads"]
    assert heads["sphere"]["role"] == "design" and heads["kemar"]["role"] == "held-out"
    assert heads["kemar"]["centre_db"] < heads["sphere"]["centre_db"]  # the design head is the one it fits
    assert "## Separation on each head" in (out / "summary.md").read_text()


# --- a design on a head holds on that head --------------------------------------------------

@pytest.mark.parametrize("head", ["sphere", "brown-duda", "kemar"])
def test_a_design_reaches_its_target_on_its_own_head_null_region_included(studio, head):
    """Self-consistency: designed on head H (null region of ±5 cm as shipped), evaluated on H.

    The region's rows once competed with the design ear's, and the gain cap blended the
    gain-hungry region solution toward the plain feed: on KEMAR the design ear kept 17 dB of a
    25 dB target. The region must give way first, and still buy robustness at ±5 cm."""
    model = make_head(head)
    design = ctc_alone(studio, head_model=head)
    point = ctc_alone(studio, head_model=head, null_region_m=0.0)
    target = float(np.mean(design.parameters.effective_target.at(BAND_1_6K)))
    assert worse_side_chi(design, model) >= target - 1.0
    region_side = min(worse_side_chi(design, model, s * 0.05) for s in (-1, 1))
    point_side = min(worse_side_chi(point, model, s * 0.05) for s in (-1, 1))
    assert region_side >= point_side + 1.5
    assert np.all(design.headroom_db[:2] <= design.parameters.max_gain_db + 1e-6)


def test_the_shipped_studio_design_holds_on_a_measured_head_it_never_saw(studio):
    """Designed on the rigid sphere, evaluated on KEMAR (realised filters, CTC alone): the
    issue's held-out goals, 1–6 kHz ≥ 20 dB at the sweet spot and ≥ 12 dB at the worse side of
    ±5 cm (benchmarks/design.py prints the same in the listening simulation)."""
    single = ctc_alone(studio)
    kemar = make_head("kemar")
    assert worse_side_chi(single, kemar) >= 20.0
    assert min(worse_side_chi(single, kemar, s * 0.05) for s in (-1, 1)) >= 12.0


def test_per_frequency_row_weights_solve_each_frequency_with_its_own_weights():
    from soundstage.design.crosstalk import weighted_least_norm

    rng = np.random.default_rng(3)
    for k, n in ((5, 3), (2, 4)):  # over- and under-determined
        rows = rng.standard_normal((k, n, 6)) + 1j * rng.standard_normal((k, n, 6))
        targets = rng.standard_normal((k, 6)) + 1j * rng.standard_normal((k, 6))
        weights = rng.uniform(0.01, 10.0, (k, 6))
        together = weighted_least_norm(rows, targets, weights)
        for f in range(6):
            alone = weighted_least_norm(rows[..., f:f + 1], targets[:, f:f + 1], weights[:, f])
            np.testing.assert_allclose(together[:, f], alone[:, 0], rtol=1e-10, atol=1e-12)


# --- robust (ensemble) designs ----------------------------------------------------------------

def test_an_ensemble_design_holds_better_on_a_measured_head_it_never_saw(studio):
    single = ctc_alone(studio)
    robust = ctc_alone(studio, robust_heads=("default",))
    kemar = make_head("kemar")
    # Since the plain feeds tile and the drivers are time-aligned (the tweeter's 255 µs lead was
    # a timing error the held-out head punished), the single-sphere design itself holds on KEMAR
    # about as well as the ensemble: the ensemble must keep that robustness, and the goal
    # at ±5 cm.
    assert worse_side_chi(robust, kemar) >= worse_side_chi(single, kemar) - 0.5
    assert min(worse_side_chi(robust, kemar, s * 0.05) for s in (-1, 1)) >= 12.0  # the goal at ±5 cm
    for fs in (single, robust):
        assert np.all(fs.headroom_db[:2] <= fs.parameters.max_gain_db)


def test_the_per_head_report_lists_design_ensemble_and_held_out_heads(studio):
    robust = ctc_alone(studio, robust_heads=("sphere:0.075", "brown-duda"))
    table = head_separation(robust)
    assert [(k, v["role"]) for k, v in table.items()] == [
        ("sphere", "design"), ("sphere 7.50 cm", "ensemble"), ("brown-duda", "ensemble"), ("kemar", "held-out")]
    # each row is design_report's own figure on that head
    assert table["kemar"]["centre_db"] == pytest.approx(worse_side_chi(robust, make_head("kemar")), abs=1e-9)
    from soundstage.acoustics.heads import RigidSphereHead

    assert table["sphere 7.50 cm"]["centre_db"] == pytest.approx(worse_side_chi(robust, RigidSphereHead(0.075)), abs=1e-9)


def test_robust_heads_in_a_preset(tmp_path, studio):
    mine = tmp_path / "other.sofa"
    mine.write_bytes(kemar_path().read_bytes())
    (tmp_path / "r.toml").write_text('schema_version = 1\nextends = "studio-speaker"\nname = "r"\n'
                                     '[design]\nrobust_heads = ["default", "sphere:0.08:95", "other.sofa"]\n')
    preset = presets.load(tmp_path / "r.toml")
    assert preset.parameters.robust_heads == ("default", "sphere:0.08:95", str(mine.resolve()))
    assert preset.content_hash != studio.content_hash
    assert dataclasses.replace(preset, parameters=preset.parameters.replace(robust_heads=())).parameters == \
        studio.parameters
    for bad, where in (('["sphere:0.5"]', r"design\.robust_heads\[0\].*0\.05 … 0\.15 m"),
                       ('["default", "nowhere.sofa"]', r"design\.robust_heads\[1\].*'nowhere.sofa'"),
                       ('"default"', r"design\.robust_heads: expected an array of strings")):
        (tmp_path / "bad.toml").write_text('schema_version = 1\nextends = "studio-speaker"\nname = "b"\n'
                                           f'[design]\nrobust_heads = {bad}\n')
        with pytest.raises(PresetError, match=where):
            presets.load(tmp_path / "bad.toml")

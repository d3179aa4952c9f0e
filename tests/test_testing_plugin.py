"""The audio_regression pytest plugin, end to end: pytester projects that use the fixture.

Each project holds one test module whose render is steered by environment variables (gain,
shift, seed, an added click, length, tolerance), so one golden can be checked against
controlled changes. Signals are 0.5 s long.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile

from pathlib import Path

import numpy as np
import pytest
import soundfile

import soundstage

from soundstage.testing import signals
from soundstage.testing import goldens as goldens_module

# Imported here so that pytester's in-process runs, which forget every module imported during
# a run, find them loaded (otherwise each run re-imports matplotlib and pyloudnorm).
import matplotlib.backends.backend_agg  # noqa: E402,F401
import matplotlib.figure  # noqa: E402,F401
import pyloudnorm  # noqa: E402,F401
import soundstage.testing.artefacts  # noqa: E402,F401
import soundstage.testing.regression  # noqa: E402,F401
import soundstage.testing.spatial  # noqa: E402,F401

pytest_plugins = ["pytester"]

SAMPLE_RATE = 48000
SECONDS = 0.5

PROJECT_TEST = '''
import json, os
import numpy as np
from soundstage.testing import Tolerance, signals

def render():
    env = os.environ
    seconds = float(env.get("SS_SECONDS", "0.5"))
    audio = signals.generate(env.get("SS_SIGNAL", "sine-sweep"), int(env.get("SS_RATE", "48000")),
                             seconds, seed=int(env.get("SS_SEED", "0"))).astype(np.float64)
    audio *= 10 ** (float(env.get("SS_GAIN_DB", "0")) / 20)
    shift = int(env.get("SS_SHIFT", "0"))
    if shift:
        audio = np.concatenate([np.zeros((2, shift)), audio[:, :-shift]], axis=1)
    if "SS_CLICK" in env:
        channel, index, amplitude = json.loads(env["SS_CLICK"])
        audio[channel, index] += amplitude
    audio = audio.astype(np.float32)
    if "SS_ULP" in env:
        audio[0, int(env["SS_ULP"])] = np.nextafter(audio[0, int(env["SS_ULP"])], np.float32(2))
    return audio[:1] if env.get("SS_MONO") else audio

def tolerance():
    spec = os.environ.get("SS_TOLERANCE")
    if spec == "strict":
        return Tolerance.strict()
    return None if spec is None else Tolerance(**json.loads(spec))

def test_render(audio_regression):
    names = os.environ.get("SS_CHANNEL_NAMES")
    audio_regression.check(render(), int(os.environ.get("SS_RATE", "48000")),
                           tolerance=tolerance(), preset=os.environ.get("SS_PRESET", "demo-preset"),
                           metadata={"signal": os.environ.get("SS_SIGNAL", "sine-sweep")},
                           channel_names=None if names is None else json.loads(names),
                           golden_format=os.environ.get("SS_GOLDEN_FORMAT", "wav"))
'''


@pytest.fixture
def project(pytester, monkeypatch):
    """A pytester project with the steered test module; returns a runner."""
    for name in list(os.environ):
        if name.startswith("SS_"):
            monkeypatch.delenv(name)
    pytester.makepyfile(test_render=PROJECT_TEST)

    def run(*args, tolerance=None, subprocess=False, **env):
        for name in list(os.environ):
            if name.startswith("SS_"):
                monkeypatch.delenv(name)
        for key, value in env.items():
            monkeypatch.setenv(f"SS_{key.upper()}", value if isinstance(value, str) else json.dumps(value))
        if tolerance is not None:
            monkeypatch.setenv("SS_TOLERANCE", tolerance if isinstance(tolerance, str) else json.dumps(tolerance))
        runner = pytester.runpytest_subprocess if subprocess else pytester.runpytest
        # hypothesis's plugin would re-import hypothesis in every in-process run (≈ 1.5 s).
        return runner("-p", "soundstage.testing.plugin", "-p", "no:cacheprovider",
                      "-p", "no:hypothesispytest", *args)

    run.pytester = pytester
    run.golden_dir = pytester.path / "test_render"
    run.golden = run.golden_dir / "test_render.wav"
    run.paths = goldens_module.GoldenPaths(run.golden_dir, "test_render")
    return run


def _sweep(gain_db: float = 0.0) -> np.ndarray:
    audio = signals.generate("sine-sweep", SAMPLE_RATE, SECONDS).astype(np.float64)
    return (audio * 10 ** (gain_db / 20)).astype(np.float32)


def _figure(output: str, metric: str) -> float:
    """The measured value of ``metric`` in a failure message."""
    match = re.search(rf"- {metric}: (-?[\d.]+) ", output)
    assert match, f"no {metric} failure in:\n{output}"
    return float(match.group(1))


def _with_golden(project):
    result = project()
    result.assert_outcomes(failed=1)
    assert project.golden.is_file()


def test_fresh_golden_fails_writes_float32_wav_and_sidecar_then_passes(project):
    result = project()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no golden*test_render.wav*wrote it*"])
    info = soundfile.info(str(project.golden))
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
        "WAV", "FLOAT", SAMPLE_RATE, 2, int(SAMPLE_RATE * SECONDS))
    stored, _ = soundfile.read(str(project.golden), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(stored.T, _sweep())  # lossless, bit for bit
    sidecar = json.loads(project.paths.sidecar.read_text())
    assert sidecar["sample_rate"] == SAMPLE_RATE
    assert (sidecar["num_channels"], sidecar["num_samples"]) == (2, 24000)
    assert sidecar["preset"] == {"name": "demo-preset", "sha256": None}
    assert sidecar["metadata"] == {"signal": "sine-sweep"}
    assert sidecar["audio_sha256"] == goldens_module.audio_sha256(_sweep())
    assert sidecar["tolerance"]["active"] == ["residual_rms_dbfs", "band_db", "loudness_lu"]
    assert "soundstage_version" in sidecar
    # A −3 dBFS-peak sine has an RMS of −6.02 dBFS (less a little for the 10 ms fades).
    assert sidecar["metrics"]["peak_dbfs"] == [-3.0, -3.0]
    assert -6.2 < sidecar["metrics"]["rms_dbfs"][0] < -6.02
    project().assert_outcomes(passed=1)
    assert not any(p.exists() for p in project.paths.artefacts)


def test_small_gain_change_passes_bands_and_fails_null_test(project):
    _with_golden(project)
    # +0.05 dB: every band moves by 0.05 dB, inside a 0.1 dB spectral tolerance …
    project(tolerance={"band_db": 0.1}, gain_db=0.05).assert_outcomes(passed=1)
    project(tolerance={"residual_rms_dbfs": -45.0}, gain_db=0.05).assert_outcomes(passed=1)
    # … but the residual (10^(0.05/20) − 1)·x lies ≈ 44.8 dB below the signal: fails −60 dBFS.
    result = project(tolerance={"residual_rms_dbfs": -60.0, "band_db": 0.1}, gain_db=0.05)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    golden = _sweep().astype(np.float64)
    expected = 20 * np.log10(np.sqrt(np.mean((_sweep(0.05) - golden) ** 2)))
    assert abs(_figure(output, "residual_rms_dbfs") - expected) < 0.01
    assert -51.5 < expected < -50.0
    assert "exceeds the limit -60.000 dBFS by" in output
    assert "worst 100 ms window" in output and "band_db" not in output.split("measured:")[0]
    # A tighter spectral tolerance sees the 0.05 dB.
    result = project(tolerance={"band_db": 0.04}, gain_db=0.05)
    result.assert_outcomes(failed=1)
    assert abs(_figure(result.stdout.str(), "band_db") - 0.05) < 1e-3
    result.stdout.fnmatch_lines(["*1/3-octave band centred at * Hz of channel *(+0.050 dB)*"])


def test_one_sample_shift_fails_null_test_only(project):
    _with_golden(project)
    result = project(shift=1)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    failures = output.split("measured:")[0]
    assert "- residual_rms_dbfs:" in failures
    assert "- band_db:" not in failures and "- loudness_lu:" not in failures
    # Shifting a sweep by one sample leaves a residual that grows with frequency: the worst
    # 100 ms window is at the end of the sweep.
    match = re.search(r"worst 100 ms window ([\d.]+)–([\d.]+) s", output)
    assert float(match.group(2)) > 0.45


def test_changed_signal_parameter_fails(project):
    _with_golden(project)
    result = project(signal="sine-sweep", seconds="0.5", seed=0, gain_db=0.0)
    result.assert_outcomes(passed=1)
    project(signal="pink-noise-sweep").assert_outcomes(failed=1)  # golden for the pink noise
    result = project(signal="pink-noise-sweep", seed=1)
    result.assert_outcomes(failed=1)
    failures = result.stdout.str().split("measured:")[0]
    assert "- residual_rms_dbfs:" in failures and "- band_db:" in failures


def test_loudness_tolerance(project):
    _with_golden(project)
    project(tolerance={"loudness_lu": 0.3}, gain_db=0.2).assert_outcomes(passed=1)
    result = project(tolerance={"loudness_lu": 0.1}, gain_db=0.2)
    result.assert_outcomes(failed=1)
    assert abs(_figure(result.stdout.str(), "loudness_lu") - 0.2) < 1e-3
    result.stdout.fnmatch_lines(["*integrated loudness (BS.1770) of channel *LUFS*"])


def test_peak_tolerance_locates_a_click(project):
    _with_golden(project)
    click = [1, 12000, 0.01]  # −40 dBFS in channel 1 at 0.25 s
    project(tolerance={"residual_peak_dbfs": -35.0}, click=click).assert_outcomes(passed=1)
    result = project(tolerance={"residual_peak_dbfs": -45.0, "residual_rms_dbfs": -90.0}, click=click)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert abs(_figure(output, "residual_peak_dbfs") - (-40.0)) < 1e-3
    assert "at sample 12000 (0.2500 s) in channel 1" in output
    window = re.search(r"worst 100 ms window ([\d.]+)–([\d.]+) s in channel (\d)", output)
    assert float(window.group(1)) <= 0.25 < float(window.group(2)) and window.group(3) == "1"


def test_strict_mode_is_bit_exact(project):
    _with_golden(project)
    project(tolerance="strict").assert_outcomes(passed=1)
    project(ulp=5000).assert_outcomes(passed=1)  # one float32 ulp: default tolerance passes
    result = project(tolerance="strict", ulp=5000)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bit_exact: 1 of 48000 samples differ; the first at sample 5000*"])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"seconds": "0.4"}, "19200 samples (0.4000 s), golden has 24000 (0.5000 s)"),
        ({"rate": "44100"}, "sample rate 44100 Hz, golden has 48000 Hz"),
        ({"mono": "1"}, "1 channels, golden has 2"),
    ],
)
def test_format_mismatch_always_fails(project, env, message):
    _with_golden(project)
    result = project(tolerance={"band_db": 100.0}, **env)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*does not match the format of*: obtained*{message}*"])


def test_regen_flags(project):
    _with_golden(project)
    before = project.golden.read_bytes()
    result = project("--audio-regen", gain_db=1.0)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--audio-regen rewrote*test_render.wav*"])
    assert project.golden.read_bytes() != before
    project(gain_db=1.0).assert_outcomes(passed=1)
    project("--audio-regen-all", gain_db=2.0).assert_outcomes(passed=1)
    stored, _ = soundfile.read(str(project.golden), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(stored.T, _sweep(2.0))
    project(gain_db=2.0).assert_outcomes(passed=1)


def test_failure_writes_obtained_residual_and_png(project):
    _with_golden(project)
    result = project(gain_db=0.5)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*artefacts: *test_render.obtained.wav*test_render.residual.wav*"
                                 "test_render.residual.png*"])
    obtained, rate = soundfile.read(str(project.paths.obtained), dtype="float32", always_2d=True)
    residual, _ = soundfile.read(str(project.paths.residual), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE
    np.testing.assert_array_equal(obtained.T, _sweep(0.5))
    expected = (_sweep(0.5).astype(np.float64) - _sweep().astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(residual.T, expected)
    assert project.paths.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(project.golden_dir.glob(".*.tmp"))
    project().assert_outcomes(passed=1)  # a passing check clears the stale artefacts
    assert not any(p.exists() for p in project.paths.artefacts)


def test_parametrised_tests_under_xdist(project, monkeypatch):
    pytester = project.pytester
    # The workers run in other processes from the project folder: give them this soundstage.
    package_root = str(Path(soundstage.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    pytester.makepyfile(test_many='''
import pytest
from soundstage.testing import signals

@pytest.mark.parametrize("name", ["pink-noise-sweep", "impulse-pan", "sine-sweep", "voice-like"])
def test_signal(audio_regression, name):
    audio_regression.check(signals.generate(name, 48000, 0.5), 48000)
''')
    first = project("-n", "2", "test_many.py", subprocess=True)
    first.assert_outcomes(failed=4)
    folder = pytester.path / "test_many"
    assert sorted(p.name for p in folder.glob("*.wav")) == [
        "test_signal_impulse-pan.wav", "test_signal_pink-noise-sweep.wav",
        "test_signal_sine-sweep.wav", "test_signal_voice-like.wav"]
    project("-n", "2", "test_many.py", subprocess=True).assert_outcomes(passed=4)
    assert not list(folder.glob(".*"))  # no temporary files left behind


def _read_only_golden_folder(monkeypatch, folder):
    """Make writes into ``folder`` fail as on a read-only file system (EROFS).

    A real ``chmod`` does not stop root, so the file system's answer is simulated where the
    plugin asks for it: creating the temporary file of an atomic write.
    """
    original = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and os.path.realpath(dir).startswith(os.path.realpath(folder)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return original(*args, dir=dir, **kwargs)

    monkeypatch.setattr(goldens_module.tempfile, "mkstemp", mkstemp)


def test_read_only_golden_folder(project, monkeypatch, tmp_path):
    _with_golden(project)
    _read_only_golden_folder(monkeypatch, project.golden_dir)
    project().assert_outcomes(passed=1)  # reading is enough when nothing changed
    # A golden that must be written but cannot be: a clear failure with path and reason.
    result = project("--audio-regen")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*the golden must be written but cannot be: cannot write *test_render*test_render.wav: "
        "Read-only file system*"])
    # A mismatch still reports, and its artefacts go to the session's --basetemp instead.
    basetemp = tmp_path / "basetemp"
    result = project(f"--basetemp={basetemp}", gain_db=0.5)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*artefacts could not go beside the golden (cannot write *"
                                 "Read-only file system*); written to the session's temporary "
                                 "folder instead"])
    written = sorted(p.name for p in basetemp.rglob("test_render.*"))
    assert written == ["test_render.obtained.wav", "test_render.residual.png",
                       "test_render.residual.wav"]
    assert not any(p.exists() for p in project.paths.artefacts)


def test_plugin_loads_once_with_and_without_explicit_p(project):
    pytester = project.pytester
    pytester.makeconftest('pytest_plugins = ["soundstage.testing.plugin"]')
    project().assert_outcomes(failed=1)  # entry point (if installed) + -p + pytest_plugins
    result = pytester.runpytest("-p", "no:cacheprovider", "--help")
    result.stdout.fnmatch_lines(["*--audio-regen*", "*--audio-regen-all*"])



# --- names, presets and formats in reports ---------------------------------------------------

def test_failure_names_each_channel(project):
    _with_golden(project)
    result = project(gain_db=0.5, channel_names=["left_ear", "right_ear"])
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*band_db:*of channel ? (*_ear): obtained*"])
    assert "channel 0 (left_ear)" in result.stdout.str() or "channel 1 (right_ear)" in result.stdout.str()


def test_channel_names_are_stored_and_reused(project):
    project(channel_names=["left_ear", "right_ear"]).assert_outcomes(failed=1)
    assert json.loads(project.paths.sidecar.read_text())["channel_names"] == ["left_ear", "right_ear"]
    result = project(gain_db=0.5)  # no names given now: the golden's names serve
    result.stdout.fnmatch_lines(["*of channel ? (*_ear): obtained*"])


def _user_preset(folder: Path, distance_m: float) -> Path:
    path = folder / "my_speaker_file.toml"
    path.write_text('schema_version = 1\nextends = "studio-speaker"\nname = "my-speaker"\n'
                    f'[listener]\ndistance_m = {distance_m}\n', encoding="utf-8")
    return path


def test_sidecar_names_the_preset_by_its_name_and_content_hash(project):
    preset = _user_preset(project.pytester.path, 1.8)
    project(preset=str(preset)).assert_outcomes(failed=1)
    stored = json.loads(project.paths.sidecar.read_text())["preset"]
    assert stored == {"name": "my-speaker", "sha256": soundstage.presets.load(preset).content_hash}


def test_a_changed_preset_is_reported(project):
    preset = _user_preset(project.pytester.path, 1.8)
    project(preset=str(preset)).assert_outcomes(failed=1)
    _user_preset(project.pytester.path, 1.9)
    passing = project(preset=str(preset))
    passing.assert_outcomes(passed=1, warnings=1)
    passing.stdout.fnmatch_lines(["*PresetChangedWarning*preset 'my-speaker' changed since the golden*"])
    failing = project(preset=str(preset), gain_db=0.5)
    failing.assert_outcomes(failed=1)
    failing.stdout.fnmatch_lines(["*The preset 'my-speaker' changed since the golden was written*"])


def test_a_changed_channel_count_writes_the_obtained_render(project):
    _with_golden(project)
    result = project(mono="1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 channels, golden has 2*", "*obtained render written to*test_render.obtained.wav*"])
    obtained, _ = soundfile.read(str(project.paths.obtained), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(obtained.T, _sweep()[:1])


def test_flac_sidecar_says_flac(project):
    project(golden_format="flac").assert_outcomes(failed=1)
    sidecar = json.loads((project.golden_dir / "test_render.json").read_text())
    assert sidecar["storage"].startswith("FLAC, 24-bit")


def test_residual_plot_has_a_log_frequency_axis_and_driver_names():
    from soundstage.testing.artefacts import plot_residual
    from soundstage.testing import Tolerance
    import io
    import matplotlib.figure

    golden = _sweep()
    captured = {}
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):
        captured["figure"] = self
        return original(self, *args, **kwargs)

    matplotlib.figure.Figure.savefig = keep
    try:
        plot_residual(io.BytesIO(), golden * np.float32(1.1), golden, SAMPLE_RATE, Tolerance.default(), "t",
                      ("woofer", "tweeter"))
    finally:
        matplotlib.figure.Figure.savefig = original
    top, _, bottom = captured["figure"].axes[0], None, captured["figure"].axes[1]
    assert top.get_yscale() == "log"
    assert "(woofer)" in top.get_title() or "(tweeter)" in top.get_title()
    assert [t.get_text() for t in bottom.get_legend().get_texts()] == ["channel 0 (woofer)", "channel 1 (tweeter)"]

"""The command-line contract, through the real entry point in a subprocess: one-line errors
naming the flag or file, exit codes (0 / 1 failure / 2 usage / 130 Ctrl-C / 143 SIGTERM),
``-y/--overwrite`` everywhere, no traceback unless ``--debug``, signals clean up, ``--version``
and help with defaults."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

import soundstage

COMMAND = [sys.executable, "-m", "soundstage.cli"]


def run(*args, cwd=None, timeout=120):
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def one_line_error(result, *expected):
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "in.wav"
    rng = np.random.default_rng(0)
    soundfile.write(path, (rng.standard_normal((4800, 2)) * 0.05).astype(np.float32), 48000, subtype="FLOAT")
    return path


def test_version_and_bare_command_help():
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"soundstage {soundstage.__version__}"
    bare = run()
    assert bare.returncode == 0 and "render" in bare.stdout and "usage: soundstage" in bare.stdout


def test_help_shows_defaults():
    result = run("render", "--help")
    assert result.returncode == 0
    assert "(default: studio-speaker)" in result.stdout and "(default: 8192)" in result.stdout


def test_usage_error_exits_2():
    result = run("render")
    assert result.returncode == 2 and "the following arguments are required" in result.stderr


@pytest.mark.parametrize("name", ["out", "out.w64", "out.txt"])
def test_unwritable_output_names_the_file_not_a_temporary(tmp_path, stereo_wav, name):
    line = one_line_error(run("render", stereo_wav, "-o", tmp_path / name, "--quiet"), str(tmp_path / name))
    assert "writable formats" in line
    assert list(tmp_path.iterdir()) == []


def test_output_that_is_a_directory(tmp_path, stereo_wav):
    one_line_error(run("render", stereo_wav, "-o", tmp_path, "--quiet"), "is a directory")


@pytest.mark.parametrize("suffix", [".aiff", ".flac", ".wav"])
def test_every_writable_format_renders(tmp_path, stereo_wav, suffix):
    target = tmp_path / f"out{suffix}"
    result = run("render", stereo_wav, "-o", target, "--quiet", "-p", "stereo-pair")
    assert result.returncode == 0, result.stderr
    assert soundfile.info(str(target)).frames == 4800


def test_existing_output_needs_overwrite(tmp_path, stereo_wav):
    target = tmp_path / "out.wav"
    target.write_bytes(b"keep")
    one_line_error(run("render", stereo_wav, "-o", target, "--quiet"), "-y/--overwrite", str(target))
    assert target.read_bytes() == b"keep"
    assert run("render", stereo_wav, "-o", target, "--quiet", "--overwrite").returncode == 0
    assert soundfile.info(str(target)).frames == 4800


def test_missing_empty_and_non_audio_inputs(tmp_path):
    one_line_error(run("render", tmp_path / "missing.wav", "-o", tmp_path / "o.wav"), "missing.wav", "does not exist")
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros((0, 2), np.float32), 48000)
    one_line_error(run("render", empty, "-o", tmp_path / "o.wav", "--quiet"), "empty.wav", "no audio samples")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    one_line_error(run("render", text, "-o", tmp_path / "o.wav", "--quiet"), "notes.wav", "not a readable audio file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.wav", "notes.wav"]


def test_debug_shows_the_traceback(tmp_path, stereo_wav):
    result = run("render", stereo_wav, "-o", tmp_path / "out.w64", "--debug")
    assert result.returncode == 1 and "Traceback" in result.stderr


@pytest.mark.parametrize(("args", "text"), [(["--seconds", "0"], "--seconds"), (["--seconds", "-1"], "--seconds"),
                                            (["--sample-rate", "8000"], "--sample-rate")])
def test_demo_refuses_bad_values_before_making_anything(tmp_path, args, text):
    one_line_error(run("demo", "-o", tmp_path / "demo", *args), text)
    assert not (tmp_path / "demo").exists()


def test_demo_and_compare_refuse_existing_outputs(tmp_path, stereo_wav):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mine.txt").write_text("x")
    one_line_error(run("demo", "-o", tmp_path / "demo"), "-y/--overwrite")
    report = tmp_path / "r.html"
    report.write_text("x")
    one_line_error(run("compare", stereo_wav, "-p", "soundbar", "-o", report, "--quiet"), "-y/--overwrite")


def test_compare_refuses_a_file_name_that_is_not_html_before_rendering(tmp_path, stereo_wav):
    one_line_error(run("compare", stereo_wav, "-p", "soundbar", "-o", tmp_path / "c_x.txt", "--quiet"), ".html")
    assert list(tmp_path.iterdir()) == []
    one_line_error(run("compare", stereo_wav, "-p", "soundbar", "-o", tmp_path / "nodir" / "x.html"), "does not exist")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_signals_clean_up_and_exit_with_their_code(tmp_path, signum, code):
    source = tmp_path / "long.wav"
    rng = np.random.default_rng(1)
    soundfile.write(source, (rng.standard_normal((48000 * 8, 2)) * 0.05).astype(np.float32), 48000,
                    subtype="PCM_16")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = subprocess.Popen([*COMMAND, "render", str(source), "-o", str(out_dir / "out.wav"), "--quiet",
                                "--buffer-size", "64"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(out_dir.iterdir()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "the render ended before it could be interrupted"
    time.sleep(0.2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert list(out_dir.iterdir()) == []


def test_presets_list_says_where_the_listener_sits():
    result = run("presets", "list")
    assert result.returncode == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == set(soundstage.presets.list())
    assert "1.73 m from the enclosure's centre, 2.00 m from its drivers" in lines["stereo-pair"]  # ±30° at 2 m
    assert "worn" in lines["headphones"]


def test_truncated_input_warns_in_one_line_and_renders_only_what_is_there(tmp_path):
    full = tmp_path / "full.wav"
    rng = np.random.default_rng(2)
    soundfile.write(full, (rng.standard_normal((48000 * 4, 2)) * 0.1).astype(np.float32), 48000, subtype="PCM_16")
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(full.read_bytes()[:40044])  # header + 10 000 frames of the 192 000 it announces
    result = run("render", truncated, "-o", tmp_path / "out.wav", "--quiet", "-p", "stereo-pair")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("soundstage render: warning:") and "truncated" in line and "10000" in line
               for line in lines), result.stderr
    assert soundfile.info(str(tmp_path / "out.wav")).frames == 10000


def test_compare_on_an_empty_file_is_one_line(tmp_path):
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros((0, 2), np.float32), 48000)
    one_line_error(run("compare", empty, "-p", "soundbar", "-o", tmp_path / "r.html", "--quiet"), "no audio samples")


def test_a_bad_head_is_explained_in_a_users_words(tmp_path):
    """A CLI user can give a head name or a SOFA file, never a Python object: the message says so
    (it used to offer "a HeadModel instance")."""
    result = run("analyze", "compact-speaker", "--head", tmp_path / "missing.sofa", "-o", tmp_path / "a", "--quiet")
    line = one_line_error(result, "head must be one of 'sphere', 'brown-duda', 'free-field', 'kemar'", ".sofa file",
                          "missing.sofa' does not exist")
    assert "HeadModel" not in line and "instance" not in line

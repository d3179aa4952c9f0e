"""``soundstage batch`` on this machine: manifests, bit-identical outputs, sidecars, resuming,
incremental re-renders, failures and the report (the Dask engine is in test_batch_dask.py)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile

from soundstage import presets
from soundstage.batch import ManifestError, load_manifest, manifest_from_dict, measure_levels, render_batch
from soundstage.batch.plan import plan_jobs
from soundstage.cli import main

from batch_catalogue import (INPUTS, PARAMS, PRESETS, USER_PRESET, expected_files, every_file, output_path, single_render,
                             write_catalogue, write_inputs)


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """The catalogue rendered once on the local process pool, and the single renders of its jobs."""
    root = tmp_path_factory.mktemp("catalogue")
    manifest = write_catalogue(root)
    report = render_batch(manifest, root / "out", engine="local", workers=2, progress=False)
    singles = {}
    for name in INPUTS:
        for preset in PRESETS:
            for params in PARAMS:
                singles[name, preset, params] = single_render(root, name, preset, params,
                                                              root / f"single-{name}-{preset}-{params}.wav")
    return root, manifest, report, singles


def test_a_twelve_job_catalogue_renders_bit_for_bit_like_single_renders(catalogue):
    root, _, report, singles = catalogue
    assert report.counts == {"rendered": 12, "skipped": 0, "failed": 0, "total": 12} and report.ok
    assert report.engine == "local" and report.workers == 2
    for (name, preset, params), single in singles.items():
        batch = output_path(root / "out", name, preset, params)
        assert batch.read_bytes() == single.read_bytes(), batch
    # the parameter sets and presets really differ: no two outputs of one input are the same
    for name in INPUTS:
        outputs = {output_path(root / "out", name, p, s).read_bytes() for p in PRESETS for s in PARAMS}
        assert len(outputs) == 4
    assert every_file(root / "out") == expected_files()  # no staging or temporary file is left


def test_sidecars_record_hashes_parameters_and_independently_checked_levels(catalogue):
    root, *_ = catalogue
    output = output_path(root / "out", "bravo", "kitchen", "narrow")
    sidecar = json.loads(Path(f"{output}.json").read_text())
    source = root / "music" / "bravo.wav"
    assert sidecar["input_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert sidecar["preset_sha256"] == presets.load(root / "kitchen.toml").content_hash
    assert sidecar["output_sha256"] == hashlib.sha256(output.read_bytes()).hexdigest()
    assert sidecar["output_bytes"] == output.stat().st_size
    assert sidecar["parameters"] == {"bypass": ["beam"], "centre_gain_db": -3.0, "width_deg": 20.0}
    assert sidecar["frames"] == 48000 and sidecar["sample_rate"] == 48000 and sidecar["render_time_s"] > 0
    feeds, rate = soundfile.read(output, dtype="float64", always_2d=True)
    meter = pyloudnorm.Meter(rate)
    np.testing.assert_allclose(sidecar["loudness_lufs"], [meter.integrated_loudness(c) for c in feeds.T], atol=1e-3)
    assert len(sidecar["channels"]) == feeds.shape[1] == len(sidecar["true_peak_dbtp"])


def test_true_peak_in_blocks_equals_the_whole_signal_across_block_edges(tmp_path):
    # 6 s: longer than one measuring block (2**18 samples); a burst straddles the first block edge
    rate, n = 48000, 6 * 48000
    x = np.random.default_rng(7).standard_normal((2, n)).astype(np.float32) * 0.01
    t = np.arange(400) / rate
    x[0, 2 ** 18 - 200:2 ** 18 + 200] += 0.9 * np.sin(2 * np.pi * 11025.3 * t + 0.7).astype(np.float32)
    soundfile.write(tmp_path / "x.wav", x.T, rate, subtype="FLOAT")
    levels = measure_levels(tmp_path / "x.wav")
    whole = [20 * np.log10(np.max(np.abs(scipy.signal.resample_poly(c, 4, 1)))) for c in x]
    np.testing.assert_allclose(levels["true_peak_dbtp"], whole, atol=1e-3)
    assert levels["true_peak_dbtp"][0] > 20 * np.log10(np.max(np.abs(x[0])))  # inter-sample peak found


def test_a_rerun_renders_nothing_and_an_edited_preset_rerenders_only_its_jobs(tmp_path):
    manifest = write_catalogue(tmp_path)
    out = tmp_path / "out"
    assert render_batch(manifest, out, engine="threads", workers=2, progress=False).counts["rendered"] == 12
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")}

    again = render_batch(manifest, out, engine="threads", workers=2, progress=False)
    assert again.counts == {"rendered": 0, "skipped": 12, "failed": 0, "total": 12}
    os.utime(tmp_path / "kitchen.toml")  # a new time stamp alone changes nothing
    assert render_batch(manifest, out, engine="threads", progress=False).counts["rendered"] == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.wav")} == stamps

    (tmp_path / "kitchen.toml").write_text(USER_PRESET.format(gain=9))  # the user preset edited
    edited = render_batch(manifest, out, engine="threads", workers=2, progress=False)
    assert edited.counts == {"rendered": 6, "skipped": 6, "failed": 0, "total": 12}
    assert {Path(r["preset"]).stem for r in edited.results if r["status"] == "rendered"} == {"kitchen"}
    for path, stamp in stamps.items():
        assert (path.stat().st_mtime_ns == stamp) == ("kitchen" not in path.parts), path
    single = single_render(tmp_path, "alpha", "kitchen", "wide", tmp_path / "single.wav")
    assert output_path(out, "alpha", "kitchen", "wide").read_bytes() == single.read_bytes()

    write_inputs(tmp_path / "music", names=["charlie"], seconds=0.75)  # one input changed
    changed = render_batch(manifest, out, engine="serial", progress=False)
    assert sorted(Path(r["input"]).stem for r in changed.results if r["status"] == "rendered") == ["charlie"] * 4


def test_a_corrupt_input_fails_only_its_jobs_and_the_command_exits_1(tmp_path, capsys):
    manifest = write_catalogue(tmp_path)
    (tmp_path / "music" / "delta.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(200))
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "2", "--quiet"]) == 1
    report = json.loads((out / "batch-report.json").read_text())
    assert report["counts"] == {"rendered": 12, "skipped": 0, "failed": 4, "total": 16} and not report["ok"]
    failed = [job for job in report["jobs"] if job["status"] == "failed"]
    assert {Path(job["input"]).name for job in failed} == {"delta.wav"}
    assert all(job["reason"] and not Path(job["output"]).exists() for job in failed)
    assert every_file(out) == expected_files()  # nothing partial, no staging left
    err = capsys.readouterr().err
    assert err.count("FAILED delta.wav") == 4 and "batch-report.json" in err
    # the failures are retried on the next run, the rest is up to date
    assert main(["batch", str(manifest), "-o", str(out), "--engine", "serial", "--quiet"]) == 1
    assert json.loads((out / "batch-report.json").read_text())["counts"]["skipped"] == 12


def test_a_bad_preset_or_parameter_fails_only_its_jobs(tmp_path):
    manifest = write_catalogue(tmp_path)
    (tmp_path / "broken.toml").write_text('schema_version = 1\nextends = "laptop"\n[design]\nmax_gain_db = 99\n')
    data = {"inputs": ["music/alpha.wav"], "presets": ["laptop", "broken.toml"],
            "params": {"ok": {"width_deg": 25}, "too-wide": {"width_deg": 500}}}
    report = render_batch(manifest_from_dict(data, base_dir=tmp_path), tmp_path / "out", engine="serial",
                          progress=False)
    status = {(Path(r["preset"]).stem, r["parameter_set"]): r for r in report.results}
    assert status["laptop", "ok"]["status"] == "rendered"
    assert status["laptop", "too-wide"]["status"] == "failed" and "width_deg" in status["laptop", "too-wide"]["reason"]
    assert all(status["broken", s]["status"] == "failed" and "max_gain_db" in status["broken", s]["reason"]
               for s in ("ok", "too-wide"))


def test_manifest_inputs_patterns_and_errors_name_the_key(tmp_path):
    write_inputs(tmp_path / "a")
    write_inputs(tmp_path / "b" / "live", names=["alpha"])
    (tmp_path / "b" / "notes.txt").write_text("not audio")
    manifest = manifest_from_dict({"inputs": ["a/*.wav", "b", "a/alpha.wav"], "presets": ["laptop"],
                                   "output": {"pattern": "{relpath}.{preset}.{ext}", "format": "flac"}},
                                  base_dir=tmp_path)
    assert [(i.path.parent.name, i.relpath) for i in manifest.inputs] == [
        ("a", "alpha"), ("a", "bravo"), ("a", "charlie"), ("live", "live/alpha")]
    plan = plan_jobs(manifest, tmp_path / "out")
    assert [Path(j.output).relative_to(tmp_path / "out").as_posix() for j in plan.pending] == [
        "alpha.laptop.flac", "bravo.laptop.flac", "charlie.laptop.flac", "live/alpha.laptop.flac"]
    assert {j.bit_depth for j in plan.pending} == {24} and set(manifest.parameter_sets) == {"default"}

    clash = dict(inputs=["a/*.wav", "b"], presets=["laptop"], output={"pattern": "{stem}.{ext}"})
    with pytest.raises(ManifestError, match=r"alpha.wav \| laptop \| default.*would both write 'alpha.wav'"):
        plan_jobs(manifest_from_dict(clash, base_dir=tmp_path), tmp_path / "out")
    for bad, key in [({"inputs": ["nothing/*.wav"]}, "inputs[0]"), ({"output": {"pattern": "{song}.wav"}}, "output.pattern"),
                     ({"monitor": "ears"}, "monitor"), ({"param": {}}, "param"),
                     ({"params": {"x": {"width_deg": [1]}}}, "params.x.width_deg")]:
        with pytest.raises(ManifestError, match=key.replace("[", r"\[").replace("]", r"\]")):
            manifest_from_dict({"inputs": ["a"], "presets": ["laptop"], **bad}, base_dir=tmp_path, source="m.toml")
    (tmp_path / "bad.toml").write_text("inputs = [")
    with pytest.raises(ManifestError, match="bad.toml: TOML syntax"):
        load_manifest(tmp_path / "bad.toml")


KILL_ONE_WORKER = r'''
import json, os, signal, sys
from soundstage.board import file_stream
from soundstage.batch import render_batch

marker, original = sys.argv[3], file_stream._write


def write_then_die(writer, block):  # the first block any worker writes kills that worker
    written = original(writer, block)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return written
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    file_stream._write = write_then_die  # the pool's workers are forked from here and inherit it
    report = render_batch(sys.argv[1], sys.argv[2], engine="local", workers=2, progress=False)
    print(json.dumps(report.to_dict()))
'''


def test_a_local_worker_killed_mid_job_costs_no_job_and_leaves_no_partial_output(catalogue, tmp_path):
    import subprocess
    import sys

    from soundstage.batch.engines import RETRIED

    root, manifest, _, singles = catalogue
    out, marker = tmp_path / "out", tmp_path / "killed-once"
    script = tmp_path / "kill_one_worker.py"
    script.write_text(KILL_ONE_WORKER)
    done = subprocess.run([sys.executable, str(script), str(manifest), str(out), str(marker)], capture_output=True,
                          text=True, timeout=240, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert marker.exists() and report["counts"]["rendered"] == 12 and report["ok"]
    retried = [job for job in report["jobs"] if job.get("note") == RETRIED]
    assert 1 <= len(retried) <= 2  # the killed job (and the one its death interrupted on the other worker)
    for (name, preset, params), single in singles.items():
        assert output_path(out, name, preset, params).read_bytes() == single.read_bytes()
    assert every_file(out) == expected_files()


def test_outputs_inside_an_input_directory_are_not_inputs_and_inputs_are_never_overwritten(tmp_path):
    write_inputs(tmp_path / "music", names=["alpha"], seconds=0.5)
    manifest = manifest_from_dict({"inputs": ["music"], "presets": ["laptop"]}, base_dir=tmp_path)
    out = tmp_path / "music" / "renders"
    assert render_batch(manifest, out, engine="serial", progress=False).counts["rendered"] == 1
    again = render_batch(load_manifest_again(manifest, tmp_path), out, engine="serial", progress=False)
    assert again.counts == {"rendered": 0, "skipped": 1, "failed": 0, "total": 1}
    before = (tmp_path / "music" / "alpha.wav").read_bytes()
    in_place = manifest_from_dict({"inputs": ["music/alpha.wav"], "presets": ["laptop"],
                                   "output": {"pattern": "{stem}.{ext}"}}, base_dir=tmp_path, source="m.toml")
    with pytest.raises(ManifestError, match="would overwrite its input"):
        render_batch(in_place, tmp_path / "music", engine="serial", progress=False)
    assert (tmp_path / "music" / "alpha.wav").read_bytes() == before


def load_manifest_again(manifest, base_dir):
    """The manifest expanded anew (the directory now also holds the first run's outputs)."""
    return manifest_from_dict({"inputs": ["music"], "presets": list(manifest.presets)}, base_dir=base_dir)

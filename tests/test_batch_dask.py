"""``soundstage batch`` on a real Dask ``LocalCluster`` (2 worker processes, no mocks): the same
files as single renders, resuming, a worker killed mid-job, a job that raises, and the command's
own cluster, which shuts down and leaves no process behind."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import dask  # the test extra installs dask[distributed]; the default install does without
import distributed
import psutil  # a dependency of distributed
import pytest

from soundstage.batch import render_batch
from soundstage.batch.engines import WORKER_DIED
from soundstage.cli import main

from batch_catalogue import INPUTS, PARAMS, PRESETS, expected_files, every_file, output_path, single_render, write_catalogue


#: No Dask test may hang CI: each run gets this long before the test fails.
RUN_TIMEOUT_S = 240


def within(seconds: float, function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a daemon thread; fail the test if it does not return in time."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(function, '__name__', function)} did not finish within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a job whose worker dies fails at once (no retries)."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR)
    client = distributed.Client(local)
    try:
        yield local, client
    finally:
        client.close(timeout=60)
        local.close(timeout=60)


@pytest.fixture(scope="module")
def singles(tmp_path_factory):
    root = tmp_path_factory.mktemp("singles")
    write_catalogue(root)
    return root, {(n, p, s): single_render(root, n, p, s, root / f"{n}-{p}-{s}.wav")
                  for n in INPUTS for p in PRESETS for s in PARAMS}


def test_workers_import_this_soundstage(cluster):
    import soundstage

    _, client = cluster

    def where():
        import soundstage as loaded

        return loaded.__file__

    assert set(client.run(where).values()) == {soundstage.__file__}


def test_dask_outputs_equal_single_renders_and_a_rerun_renders_nothing(cluster, singles, tmp_path):
    local, client = cluster
    root, references = singles
    manifest = write_catalogue(tmp_path)
    out = tmp_path / "out"
    report = within(RUN_TIMEOUT_S, render_batch, manifest, out, scheduler=local.scheduler_address, progress=False)
    assert report.engine == "dask" and report.workers == 2
    assert report.counts == {"rendered": 12, "skipped": 0, "failed": 0, "total": 12}
    for (name, preset, params), single in references.items():
        assert output_path(out, name, preset, params).read_bytes() == single.read_bytes()
    worker_pids = set(client.run(os.getpid).values())
    pids = {json.loads(p.read_text())["pid"] for p in out.rglob("*.wav.json")}
    assert pids <= worker_pids and os.getpid() not in pids
    assert every_file(out) == expected_files()
    again = within(RUN_TIMEOUT_S, render_batch, manifest, out, scheduler=local.scheduler_address, progress=False)
    assert again.counts == {"rendered": 0, "skipped": 12, "failed": 0, "total": 12}


def test_a_worker_killed_mid_job_is_reported_and_leaves_no_partial_output(cluster, singles, tmp_path):
    local, client = cluster
    root, references = singles
    marker = str(tmp_path / "killed-once")

    def arm():
        """In each worker: the first output block written by any worker kills that worker's process
        (after the block is on disk, so a partial file exists)."""
        import signal

        from soundstage.board import file_stream

        original = file_stream._write

        def write_then_die(writer, block):
            written = original(writer, block)
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return written
            writer.flush() if hasattr(writer, "flush") else None
            os.kill(os.getpid(), signal.SIGKILL)

        file_stream._write = write_then_die

    manifest = write_catalogue(tmp_path)
    out = tmp_path / "out"
    client.run(arm)
    report = within(RUN_TIMEOUT_S, render_batch, manifest, out, scheduler=local.scheduler_address, progress=False)
    assert os.path.exists(marker)
    assert report.counts == {"rendered": 11, "skipped": 0, "failed": 1, "total": 12}, [(r["index"], r["reason"]) for r in report.failed]
    (failed,) = report.failed
    assert failed["reason"] == WORKER_DIED and not Path(failed["output"]).exists()
    saved = json.loads((out / "batch-report.json").read_text())
    assert [job["output"] for job in saved["jobs"] if job["status"] == "failed"] == [failed["output"]]
    lost = Path(failed["output"]).relative_to(out).as_posix()
    assert every_file(out) == expected_files() - {lost, lost + ".json"}  # no partial file anywhere

    # the next run renders exactly the lost job, the same as its single render
    resumed = within(RUN_TIMEOUT_S, render_batch, manifest, out, scheduler=local.scheduler_address, progress=False)
    assert resumed.counts == {"rendered": 1, "skipped": 11, "failed": 0, "total": 12}
    for (name, preset, params), single in references.items():
        assert output_path(out, name, preset, params).read_bytes() == single.read_bytes()


def test_a_job_that_raises_on_a_worker_fails_only_itself(cluster, tmp_path):
    local, _ = cluster
    manifest = write_catalogue(tmp_path, extra_inputs=', "broken.flac"')
    (tmp_path / "broken.flac").write_bytes(b"fLaC" + os.urandom(300))
    out = tmp_path / "out"
    report = within(RUN_TIMEOUT_S, render_batch, manifest, out, scheduler=local.scheduler_address, progress=False)
    assert report.counts == {"rendered": 12, "skipped": 0, "failed": 4, "total": 16}
    assert {Path(r["input"]).name for r in report.failed} == {"broken.flac"}
    assert all(r["reason"] and r["reason"] != WORKER_DIED for r in report.failed)
    assert every_file(out) == expected_files()


def test_the_command_starts_and_stops_its_own_cluster(singles, tmp_path, capsys):
    root, references = singles
    manifest = write_catalogue(tmp_path)
    manifest.write_text(manifest.read_text().replace('"music/*.wav"', '"music/alpha.wav"'))
    out = tmp_path / "out"
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    argv = ["batch", str(manifest), "-o", str(out), "--engine", "dask", "--workers", "2", "--quiet"]
    assert within(RUN_TIMEOUT_S, main, argv) == 0
    report = json.loads((out / "batch-report.json").read_text())
    assert report["engine"] == "dask" and report["workers"] == 2 and report["counts"]["rendered"] == 4
    for preset in PRESETS:
        for params in PARAMS:
            assert output_path(out, "alpha", preset, params).read_bytes() == references["alpha", preset, params].read_bytes()
    left = [p for p in me.children(recursive=True) if p.pid not in before]
    gone, alive = psutil.wait_procs(left, timeout=30)
    assert alive == []
    assert "4 rendered" in capsys.readouterr().err

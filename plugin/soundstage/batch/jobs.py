"""Batch jobs: the product of a manifest's inputs, presets and parameter sets, and the function a
worker runs for one of them.

A :class:`Job` is plain data (it travels to worker processes and Dask workers by pickle; pedalboard
objects cannot). :func:`run_job` renders it into a private staging directory with
:func:`~soundstage.batch.render.render_file` — the code path of ``soundstage render`` — measures the
result, moves it under its final name with one ``os.replace`` and writes its sidecar. Whatever goes
wrong, nothing partial appears under the final name; an exception is caught and returned as a failed
result, and a worker that dies leaves only its staging directory, which the run removes.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from .render import render_file, measure_levels
from .sidecars import file_sha256, json_parameters, write_sidecar

__all__ = ["Job", "DEFAULT_BIT_DEPTH", "run_job", "failed_result", "expected_record"]

#: Bit depth per output format when the manifest gives none (as ``soundstage render``'s files).
DEFAULT_BIT_DEPTH = {"wav": 32, "aiff": 32, "flac": 24}


@dataclass(frozen=True)
class Job:
    """One render: an input, a preset and a parameter set, and where the result goes.

    Attributes
    ----------
    index : int
        Position in the run's job list.
    input : str
        Absolute path of the input file.
    preset : str
        Built-in preset name or absolute path of a preset file.
    parameter_set : str
        Name of the parameter set in the manifest.
    parameters : dict
        Processor parameters (as ``soundstage render --param`` would give them).
    output : str
        Absolute path of the output file.
    monitor, format : str
    gain : None, "auto" or float
        Output gain as ``soundstage render --gain`` (None: the format's default rule).
    bit_depth, buffer_size : int
    input_sha256, preset_sha256 : str
        Hashes the plan saw (the sidecar records the preset hash the worker loaded).
    staging : str
        Private directory the job renders in before publishing (set when the run starts).
    """

    index: int
    input: str
    preset: str
    parameter_set: str
    parameters: dict = field(hash=False)
    output: str
    monitor: str = "drivers"
    format: str = "wav"
    bit_depth: int = 32
    gain: float | str | None = None
    buffer_size: int = 8192
    input_sha256: str = ""
    preset_sha256: str = ""
    staging: str = ""

    @property
    def label(self) -> str:
        """``input | preset | parameter set``, for tables and messages."""
        return f"{Path(self.input).name} | {Path(self.preset).stem if self.preset.endswith('.toml') else self.preset}" \
               f" | {self.parameter_set}"


def expected_record(job: Job) -> dict:
    """The values a sidecar must hold for ``job``'s output to be up to date."""
    return {"soundstage_version": __version__, "input_sha256": job.input_sha256, "preset_sha256": job.preset_sha256,
            "parameters": json_parameters(job.parameters), "monitor": job.monitor, "buffer_size": job.buffer_size,
            "format": job.format, "bit_depth": job.bit_depth, "gain": job.gain}


def _result(job: Job, status: str, **fields) -> dict:
    return {"index": job.index, "input": job.input, "preset": job.preset, "parameter_set": job.parameter_set,
            "output": job.output, "status": status, **fields}


def failed_result(job: Job, reason: str, **fields) -> dict:
    """The result of a job that did not render, with the ``reason``."""
    return _result(job, "failed", reason=reason, **fields)


def run_job(job: Job) -> dict:
    """Render ``job`` (in whatever process runs it) and return its result record.

    Returns
    -------
    dict
        ``status`` ``"rendered"`` with ``audio_s``, ``elapsed_s`` and the sidecar's measurements,
        or ``"failed"`` with ``reason`` (the exception type and message).
    """
    from .. import presets

    start = time.perf_counter()
    staging = Path(job.staging)
    output = Path(job.output)
    try:
        staging.mkdir(parents=True, exist_ok=True)
        preset = presets.load(job.preset)
        staged = staging / output.name
        rendered = render_file(job.input, staged, preset, job.parameters, monitor=job.monitor, gain=job.gain,
                               bit_depth=job.bit_depth, buffer_size=job.buffer_size, overwrite=True)
        stats = rendered.stats
        levels = measure_levels(staged)
        elapsed = time.perf_counter() - start
        record = {**expected_record(job), "preset_sha256": preset.content_hash,
                  "input": job.input, "preset": job.preset, "preset_name": preset.name,
                  "parameter_set": job.parameter_set, "output": output.name, "output_bytes": staged.stat().st_size,
                  "output_sha256": file_sha256(staged), "channels": list(rendered.channel_names),
                  "gain_db": round(rendered.gain_db, 6), "gain_rule": rendered.gain_rule,
                  "sample_rate": stats.sample_rate, "frames": stats.frames,
                  "duration_s": stats.frames / stats.sample_rate, **levels,
                  "render_time_s": round(elapsed, 4), "realtime_factor": round(stats.realtime_factor, 2),
                  "rendered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "host": socket.gethostname(), "pid": os.getpid()}
        output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, output)
        write_sidecar(output, record)
        return _result(job, "rendered", audio_s=record["duration_s"], elapsed_s=elapsed,
                       loudness_lufs=levels["loudness_lufs"], max_true_peak_dbtp=levels["max_true_peak_dbtp"],
                       host=record["host"])
    except Exception as exc:  # a failed job is reported and does not stop the others
        return failed_result(job, f"{type(exc).__name__}: {exc}", elapsed_s=time.perf_counter() - start)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

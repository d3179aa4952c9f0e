"""From a manifest to the run's jobs: expand the product, name the outputs, hash inputs and presets,
and sort out what is already up to date.

A preset that does not load, or a parameter set a preset rejects, fails only its own jobs (with the
error as the reason); two jobs that would write the same file are a :class:`ManifestError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .jobs import DEFAULT_BIT_DEPTH, Job, expected_record, failed_result
from .manifest import FORMATS, Manifest, ManifestError
from .render import build_processor
from .sidecars import file_sha256, is_up_to_date, read_sidecar

__all__ = ["Plan", "plan_jobs", "stage"]


@dataclass
class Plan:
    """The jobs of a run, sorted by what has to happen to them.

    Attributes
    ----------
    pending : list of Job
        Jobs to render (no sidecar, or one that records other inputs).
    skipped : list of dict
        Results of jobs whose output is up to date.
    failed : list of dict
        Results of jobs that cannot run (their preset or parameters are invalid, their input is
        unreadable).
    total : int
        Number of jobs in the manifest's product.
    """

    pending: list
    skipped: list
    failed: list
    total: int


def _preset_label(reference: str) -> str:
    return Path(reference).stem if reference.endswith(".toml") else reference


def plan_jobs(manifest: Manifest, output_dir: str | Path, *, monitor: str | None = None, force: bool = False) -> Plan:
    """Expand ``manifest`` into jobs writing below ``output_dir`` (inputs that are batch outputs
    themselves — found by a directory or glob that covers the output directory — are left out).

    Parameters
    ----------
    manifest : Manifest
    output_dir : str or Path
    monitor : {"drivers", "headphones"}, optional
        Overrides the manifest's monitor.
    force : bool
        Render every job even when its output is up to date.
    """
    from .. import presets

    output_dir = Path(output_dir).resolve()
    monitor = monitor or manifest.monitor
    ext = FORMATS[manifest.format]
    bit_depth = manifest.bit_depth or DEFAULT_BIT_DEPTH[manifest.format]
    preset_hash, preset_error = {}, {}
    for reference in manifest.presets:
        try:
            preset_hash[reference] = presets.load(reference).content_hash
        except Exception as exc:  # noqa: BLE001 - reported per job
            preset_error[reference] = f"{type(exc).__name__}: {exc}"
    inputs = [item for item in manifest.inputs if not _is_batch_output(item.path)]
    input_hash, input_error = {}, {}
    for item in inputs:
        try:
            input_hash[item.path] = file_sha256(item.path)
        except OSError as exc:
            input_error[item.path] = f"cannot read the input: {exc.strerror or exc}"
    rejected = {}
    for reference in preset_hash:
        for name, parameters in manifest.parameter_sets.items():
            try:
                build_processor(reference, parameters, monitor)
            except Exception as exc:  # noqa: BLE001 - reported per job
                rejected[reference, name] = f"{type(exc).__name__}: {exc}"

    jobs, owners = [], {}
    for item in inputs:
        for reference in manifest.presets:
            for name, parameters in manifest.parameter_sets.items():
                relative = manifest.pattern.format(stem=item.path.stem, relpath=item.relpath,
                                                   preset=_preset_label(reference), params=name, ext=ext)
                output = (output_dir / relative).resolve()
                if output_dir not in output.parents:
                    raise ManifestError(f"{manifest.source}: output.pattern: {relative!r} leaves the output directory")
                job = Job(index=len(jobs), input=str(item.path), preset=reference, parameter_set=name,
                          parameters=dict(parameters), output=str(output), monitor=monitor, format=manifest.format,
                          bit_depth=bit_depth, gain=manifest.gain, buffer_size=manifest.buffer_size,
                          input_sha256=input_hash.get(item.path, ""), preset_sha256=preset_hash.get(reference, ""))
                if output in input_hash or output in input_error:
                    raise ManifestError(f"{manifest.source}: output.pattern: job '{job.label}' would overwrite its "
                                        f"input {str(output)!r}; choose another output directory or pattern")
                if output in owners:
                    raise ManifestError(
                        f"{manifest.source}: output.pattern: jobs '{owners[output].label}' and '{job.label}' would "
                        f"both write {relative!r}; add placeholders ({{relpath}}, {{preset}}, {{params}}) to tell them apart")
                owners[output] = job
                jobs.append(job)

    plan = Plan([], [], [], len(jobs))
    for job in jobs:
        reason = (preset_error.get(job.preset) or input_error.get(Path(job.input))
                  or rejected.get((job.preset, job.parameter_set)))
        if reason:
            plan.failed.append(failed_result(job, reason))
        elif not force and is_up_to_date(job.output, expected_record(job)):
            plan.skipped.append({"index": job.index, "input": job.input, "preset": job.preset,
                                 "parameter_set": job.parameter_set, "output": job.output, "status": "skipped"})
        else:
            plan.pending.append(job)
    return plan


def _is_batch_output(path: Path) -> bool:
    recorded = read_sidecar(path)
    return recorded is not None and "input_sha256" in recorded and "preset_sha256" in recorded


def stage(jobs: list[Job], staging_root: str | Path) -> list[Job]:
    """The jobs with their private staging directories below ``staging_root``."""
    return [replace(job, staging=str(Path(staging_root) / f"job-{job.index:06d}")) for job in jobs]

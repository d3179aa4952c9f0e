"""What a batch run did: a summary table for people and ``batch-report.json`` for machines."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .._atomic import write_text_atomic

__all__ = ["REPORT_NAME", "BatchReport"]

#: File name of the machine-readable report in the output directory.
REPORT_NAME = "batch-report.json"
STATUSES = ("rendered", "skipped", "failed")


@dataclass
class BatchReport:
    """The outcome of :func:`~soundstage.batch.render_batch`.

    Attributes
    ----------
    manifest : str
        The manifest it ran.
    output_dir : str
    engine : str
        ``"local"``, ``"threads"``, ``"serial"`` or ``"dask"``.
    workers : int or None
    dashboard_link : str or None
        The Dask dashboard, when Dask ran and has one.
    wall_s : float
        Wall-clock time of the whole run, planning included.
    results : list of dict
        One record per job, in job order: ``index``, ``input``, ``preset``, ``parameter_set``,
        ``output``, ``status`` (``"rendered"``, ``"skipped"`` or ``"failed"``) and, for failures,
        ``reason``; rendered jobs add ``audio_s``, ``elapsed_s``, loudness and true peak.
    """

    manifest: str
    output_dir: str
    engine: str
    workers: int | None
    wall_s: float = 0.0
    results: list = field(default_factory=list)
    dashboard_link: str | None = None

    @property
    def counts(self) -> dict:
        """Jobs per status (every status present, zero included), and ``total``."""
        counted = Counter(r["status"] for r in self.results)
        return {**{s: counted.get(s, 0) for s in STATUSES}, "total": len(self.results)}

    @property
    def failed(self) -> list:
        """The failed jobs' records."""
        return [r for r in self.results if r["status"] == "failed"]

    @property
    def ok(self) -> bool:
        """No job failed."""
        return not self.failed

    @property
    def audio_s(self) -> float:
        """Seconds of audio rendered in this run."""
        return float(sum(r.get("audio_s", 0.0) for r in self.results if r["status"] == "rendered"))

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio rendered per second of wall-clock time, over the whole run."""
        return self.audio_s / max(self.wall_s, 1e-9)

    @property
    def jobs_per_s(self) -> float:
        """Rendered jobs per second of wall-clock time."""
        return self.counts["rendered"] / max(self.wall_s, 1e-9)

    def to_dict(self) -> dict:
        return {"manifest": self.manifest, "output_dir": self.output_dir, "engine": self.engine,
                "workers": self.workers, "dashboard_link": self.dashboard_link, "wall_s": round(self.wall_s, 3),
                "counts": self.counts, "audio_s": round(self.audio_s, 3),
                "realtime_factor": round(self.realtime_factor, 2), "jobs_per_s": round(self.jobs_per_s, 3),
                "ok": self.ok, "jobs": self.results}

    def write(self, path: str | os.PathLike | None = None) -> Path:
        """Write the report as JSON, atomically (default: ``batch-report.json`` in the output directory)."""
        path = Path(path) if path is not None else Path(self.output_dir) / REPORT_NAME
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def summary_table(self) -> str:
        """Jobs per preset and parameter set by status, the totals, then every failure with its reason."""
        rows = Counter((_preset(r["preset"]), r["parameter_set"], r["status"]) for r in self.results)
        groups = sorted({(p, s) for p, s, _ in rows})
        head = ("preset", "params", *STATUSES)
        body = [(p, s, *(str(rows.get((p, s, status), 0)) for status in STATUSES)) for p, s in groups]
        body.append(("all", "", *(str(self.counts[s]) for s in STATUSES)))
        widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                 for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"{self.counts['rendered']} rendered ({self.audio_s:.1f} s of audio, "
                     f"{self.realtime_factor:.1f}x real time, {self.jobs_per_s:.2f} jobs/s) in {self.wall_s:.1f} s "
                     f"on {self.engine} ({self.workers} workers)")
        for record in self.failed:
            lines.append(f"FAILED {Path(record['input']).name} | {_preset(record['preset'])} | "
                         f"{record['parameter_set']}: {record['reason']}")
        return "\n".join(lines)


def _preset(reference: str) -> str:
    return Path(reference).stem if reference.endswith(".toml") else reference

"""soundstage.batch: render a catalogue — inputs × presets × parameter sets — on one machine or a
Dask cluster, resumably.

* :mod:`.manifest` — the TOML manifest (inputs, presets, parameter sets, output format and naming);
* :mod:`.plan` — the jobs it expands into, and which of them are already up to date;
* :mod:`.render` — :func:`render_file`, the one-file render ``soundstage render`` runs too (so batch
  outputs are the command's outputs bit for bit), and the level measurements of a sidecar;
* :mod:`.levels`, :mod:`.loudness_match` — that render's output gain (``auto``: true peak <= -1 dBTP;
  metered, refused rather than clipped in integer formats) and the headphone loudness matching;
* :mod:`.jobs` — :class:`Job` and :func:`run_job`, what a worker runs: staged, atomic, with a
  sidecar;
* :mod:`.sidecars` — the JSON sidecar beside each output (hashes, parameters, levels, version);
* :mod:`.engines`, :mod:`.dask_engine` — a process pool, a thread pool, this process, or Dask;
* :mod:`.report` — the summary table and ``batch-report.json``;
* :mod:`.run` — :func:`render_batch`, all of the above in order.

May import: the root helpers and every layer up to ``monitor``; not the other tools (``compare``,
``testing``, ``cli``). Dask is imported only by :mod:`.dask_engine`, and only when it runs.
"""

from .jobs import Job, run_job
from .manifest import Manifest, ManifestError, load_manifest, manifest_from_dict
from .render import RenderResult, build_processor, measure_levels, render_file
from .report import REPORT_NAME, BatchReport
from .run import render_batch

__all__ = ["render_batch", "BatchReport", "REPORT_NAME", "Manifest", "ManifestError", "load_manifest",
           "manifest_from_dict", "Job", "run_job", "render_file", "RenderResult", "build_processor", "measure_levels"]

"""A/B comparison of presets: loudness-matched renders, a metrics table and an HTML report.

:func:`compare` renders one stereo excerpt through several presets — driver feeds and the
headphone render of the listening simulation — next to the input, a reference (a real ±30°
stereo pair in the same room) and the unprocessed enclosure; measures every headphone render
(ITU-R BS.1770 loudness, EBU Tech 3342 loudness range, peaks, crest factor) and finds the gains
that match them to within ±0.1 LU under a −1 dBFS sample-peak ceiling
(:mod:`soundstage.compare.loudness`); and collects spatial metrics per preset when
``soundstage.monitor.analysis`` is available (:mod:`soundstage.compare.spatial`). The
:class:`Comparison` it returns writes one self-contained HTML page with synchronised players
(:mod:`soundstage.compare.html`) or a directory with the renders as WAV files.
"""

from __future__ import annotations

import concurrent.futures
import csv
import datetime
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._errors import ParameterError, PresetError
from .loudness import (
    MATCH_TOLERANCE_LU,
    MIN_DURATION_S,
    PEAK_CEILING_DBFS,
    LoudnessMatch,
    LoudnessStats,
    match_loudness,
    measure_loudness,
)
from .table import TABLE_COLUMNS
from .render import ProcessorRenderer, Render, Renderer, RenderRequest, coerce_stereo
from .spatial import Analyzer, analysis_figures, default_analyzer, spatial_curves, spatial_values

__all__ = ["compare", "Comparison", "TABLE_COLUMNS", "DEFAULT_MAX_SECONDS"]

#: Default length of the excerpt embedded in an HTML report (s): ≈ 7.7 MB per version as 16-bit WAV.
DEFAULT_MAX_SECONDS = 30.0



def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "version"


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes
    ----------
    sample_rate : float
        Sample rate of every render (Hz).
    renders : list of Render
        In player order: input, reference, presets (in the order given), unprocessed.
    loudness : dict of str to LoudnessStats
        Measurements of each headphone render before matching, by render key.
    match : LoudnessMatch
        The matching gains (peak guard included) and the loudness after matching.
    spatial : dict of str to dict
        :data:`~soundstage.compare.spatial.SPATIAL_COLUMNS` values per render key (None: n/a).
    figures : dict of str to dict of str to bytes
        Analysis figures (PNG) per render key, by title.
    curves : dict of str to dict
        Per render key, the analysis curves the overlay figures draw on shared axes (χ per band,
        image azimuth of a pan sweep); keys without an analysis are absent.
    provenance : dict
        soundstage version, presets with content hashes and parameters, input, room, head, date.
    notes : list of str
        Things the report should say (the peak guard engaging, analyses that failed).
    """

    sample_rate: float
    renders: list
    loudness: dict
    match: LoudnessMatch
    spatial: dict
    figures: dict
    provenance: dict
    notes: list = field(default_factory=list)
    curves: dict = field(default_factory=dict)

    def render(self, key: str) -> Render:
        """The render with key ``key`` (``"input"``, ``"reference"``, ``"preset:<name>"`` ...)."""
        for render in self.renders:
            if render.key == key:
                return render
        raise ParameterError(f"no version {key!r}; versions: {[r.key for r in self.renders]}")

    def matched(self, key: str) -> np.ndarray:
        """Headphone render of ``key`` with its matching gain applied, ``(2, n)`` float32."""
        return (self.render(key).ears * np.float32(self.match.gain(key))).astype(np.float32)

    def rows(self) -> list[dict]:
        """The metrics table: one dict per version, the reference first.

        Keys: ``key``, ``label``, ``kind`` and those of :data:`TABLE_COLUMNS` (floats or None).
        """
        order = {"reference": 0, "preset": 1, "unprocessed": 2, "input": 3}
        rows = []
        for render in sorted(self.renders, key=lambda r: order[r.kind]):
            before: LoudnessStats = self.loudness[render.key]
            gain = self.match.gains_db[render.key]
            row = {
                "key": render.key, "label": render.label, "kind": render.kind,
                "loudness_before_lufs": before.integrated_lufs, "gain_db": gain,
                "loudness_after_lufs": self.match.loudness_after_lufs[render.key],
                "loudness_range_lu": None if np.isnan(before.loudness_range_lu) else before.loudness_range_lu,
                "sample_peak_after_dbfs": before.sample_peak_dbfs + gain,
                "true_peak_after_dbtp": before.true_peak_dbtp + gain,
                "crest_factor_db": before.crest_factor_db,
                "latency_ms": 1000.0 * render.output.latency_samples / self.sample_rate,
            }
            row.update(self.spatial.get(render.key, {}))
            rows.append(row)
        return rows

    def to_html(self, path, *, blind: bool = False, seed: int | None = None,
                max_seconds: float | None = DEFAULT_MAX_SECONDS, audio_format: str = "flac") -> Path:
        """Write the self-contained HTML report.

        Parameters
        ----------
        path : str or os.PathLike
            Output file.
        blind : bool
            Hide the preset names (labels A, B, C … in a seeded random order) and add the ABX
            test; the key is stored in the page, unshown until revealed.
        seed : int, optional
            Seed of the blind order (recorded in the key); default a random one.
        max_seconds : float or None
            Length of the embedded excerpt (s), from the start; None embeds everything.
        audio_format : {"flac", "wav"}
            16-bit FLAC (lossless, about a third of WAV's size; the default) or 16-bit WAV.

        Returns
        -------
        pathlib.Path
        """
        from .html import build_html

        path = Path(path)
        page = build_html(self, blind=blind, seed=seed, max_seconds=max_seconds, audio_format=audio_format)
        path.write_text(page, encoding="utf-8")
        return path

    def to_dir(self, path, **html_options) -> Path:
        """Write ``report.html``, ``metrics.csv``, ``metrics.json`` and the renders to a directory.

        Renders are float32 WAV files at their rendered (unmatched) level:
        ``renders/<key>.ears.wav`` and ``renders/<key>.drivers.wav``; the gains are in
        ``metrics.json``. ``html_options`` go to :meth:`to_html`.
        """
        import soundfile

        path = Path(path)
        (path / "renders").mkdir(parents=True, exist_ok=True)
        rate = int(round(self.sample_rate))
        for render in self.renders:
            stem = path / "renders" / _slug(render.key.replace(":", "."))
            soundfile.write(f"{stem}.ears.wav", render.ears.T, rate, subtype="FLOAT")
            if render.output.driver_feeds is not None:
                soundfile.write(f"{stem}.drivers.wav", render.output.driver_feeds.T, rate, subtype="FLOAT")
        rows = self.rows()
        with open(path / "metrics.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        summary = {"rows": rows, "matched_lufs": self.match.matched_lufs, "guard_db": self.match.guard_db,
                   "ceiling_dbfs": self.match.ceiling_dbfs, "notes": self.notes, "provenance": self.provenance}
        (path / "metrics.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        self.to_html(path / "report.html", **html_options)
        return path


def _load_preset(reference, what: str):
    from .. import presets

    if isinstance(reference, presets.Preset):
        return reference
    if not isinstance(reference, (str, Path)):
        raise ParameterError(f"{what}: expected a preset name, path or Preset, got {type(reference).__name__}")
    return presets.load(reference)


def _requests(presets, reference, parameters, room, head, unprocessed) -> list[tuple[str, str, RenderRequest]]:
    loaded = [_load_preset(p, "presets") for p in presets]
    names = [p.name for p in loaded]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ParameterError(f"presets: each preset may appear once, got {duplicates} more than once")
    parameters = dict(parameters or {})
    unknown = sorted(set(parameters) - {str(p) for p in presets} - set(names))
    if unknown:
        raise ParameterError(f"parameters: keys {unknown} name no preset of this comparison; presets: {names}")
    count = len(loaded) + (reference is not None)
    if count < 2:
        raise ParameterError(f"a comparison needs at least two versions (presets plus the reference), got {count}: "
                             f"presets={names}, reference={reference!r}")
    if unprocessed not in ("first", "all", "none"):
        raise ParameterError(f"unprocessed must be 'first', 'all' or 'none', got {unprocessed!r}")
    out = [("input", "input", RenderRequest("input", room=room, head=head))]
    if reference is not None:
        ref = _load_preset(reference, "reference")
        out.append(("reference", f"reference ({ref.name})", RenderRequest("reference", ref, {}, room, head)))
    for given, preset in zip(presets, loaded):
        params = dict(parameters.get(preset.name, parameters.get(str(given), {})))
        out.append((f"preset:{preset.name}", preset.name, RenderRequest("preset", preset, params, room, head)))
    for preset in {"first": loaded[:1], "all": loaded, "none": []}[unprocessed]:
        out.append((f"unprocessed:{preset.name}", f"unprocessed ({preset.name})",
                    RenderRequest("unprocessed", preset, {}, room, head)))
    return out


def _provenance(requests, audio: np.ndarray, sample_rate: float, input_name, room, head, match) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        loudnorm_version = version("pyloudnorm")
    except PackageNotFoundError:  # pragma: no cover
        loudnorm_version = "unknown"
    versions = []
    for key, label, request in requests:
        if request.preset is None:
            continue
        versions.append({"key": key, "label": label, "kind": request.kind, "preset": request.preset.name,
                         "content_hash": request.preset.content_hash, "source": request.preset.source,
                         "parameters": {k: sorted(v) if isinstance(v, (set, frozenset)) else v
                                        for k, v in request.parameters.items()}})
    return {
        "soundstage_version": __version__,
        "pyloudnorm_version": loudnorm_version,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "input": input_name or "<array>",
        "input_sha256": hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest(),
        "sample_rate": sample_rate,
        "duration_s": audio.shape[1] / sample_rate,
        "room": getattr(room, "name", room) or "anechoic",
        "head": str(head) if head is not None else "default",
        "versions": versions,
        "loudness": {"standard": "ITU-R BS.1770-4 (pyloudnorm)", "loudness_range": "EBU Tech 3342 (pyloudnorm)",
                     "true_peak": "4x oversampled sample peak (scipy.signal.resample_poly)",
                     "matched_lufs": match.matched_lufs, "tolerance_lu": MATCH_TOLERANCE_LU,
                     "ceiling_dbfs": match.ceiling_dbfs, "guard_db": match.guard_db},
    }


def compare(
    audio,
    sample_rate: float,
    presets: Sequence,
    reference: str | None = "stereo-pair",
    room=None,
    head=None,
    parameters: Mapping[str, Mapping] | None = None,
    input_name: str | None = None,
    progress: bool = False,
    *,
    unprocessed: str = "first",
    ceiling_dbfs: float = PEAK_CEILING_DBFS,
    target_lufs: float | None = None,
    renderer: Renderer | None = None,
    analyzer: Analyzer | None | str = "default",
) -> Comparison:
    """Render ``audio`` through ``presets`` and match the headphone renders' loudness.

    Parameters
    ----------
    audio : np.ndarray [shape=(2, n) or (n, 2) or (n,)]
        Stereo (or mono) float32/float64 input, at least 0.4 s (BS.1770's gating block).
    sample_rate : float
        Sample rate in Hz.
    presets : sequence of str, os.PathLike or Preset
        The presets to compare (each once).
    reference : str or None
        Reference preset; ``"stereo-pair"`` is heard as a real ±30° pair in ``room``. None: no
        reference version.
    room : None, str or Room
        Room of the listening simulation (``"living-room"``, ``"studio"``; None: free field).
    head : None, str or os.PathLike
        Head of the listening simulation (``"sphere"``, a .sofa file; None: the monitor's default).
    parameters : mapping of preset name to mapping, optional
        ``SpatialProcessor`` parameters per preset, e.g. ``{"soundbar": {"width_deg": 20}}``.
    input_name : str, optional
        Name of the input (a file name) for the report's provenance.
    progress : bool
        Show a tqdm progress bar on stderr.
    unprocessed : {"first", "all", "none"}, keyword-only
        Which presets' enclosures also play the plain mix (all spatial stages bypassed).
    ceiling_dbfs : float, keyword-only
        Sample-peak ceiling of the loudness matching (dBFS).
    target_lufs : float, optional, keyword-only
        Loudness to match to (LUFS); default the reference's (or the quietest version's).
    renderer : callable, optional, keyword-only
        ``renderer(request, audio, sample_rate) -> RenderOutput``; default
        :class:`~soundstage.compare.render.ProcessorRenderer`.
    analyzer : callable, None or "default", keyword-only
        ``analyzer(request, sample_rate) -> result or None`` for the spatial columns (see
        :mod:`soundstage.compare.spatial`); ``"default"`` uses :func:`soundstage.monitor.analyze`
        when available; None leaves them empty.

    Returns
    -------
    Comparison

    Raises
    ------
    PresetError
        An unknown preset name or a bad preset file.
    ParameterError
        Fewer than two versions, a preset given twice, parameters for a preset not compared,
        input shorter than 0.4 s or non-finite, or a silent render.
    AudioFormatError
        Audio that is not float mono/stereo.

    Examples
    --------
    >>> import numpy as np
    >>> from soundstage.compare import compare
    >>> stereo = np.random.default_rng(0).standard_normal((2, 48000)).astype(np.float32) * 0.1
    >>> result = compare(stereo, 48000, ["compact-speaker", "soundbar"])  # doctest: +SKIP
    >>> result.to_html("report.html")  # doctest: +SKIP
    """
    audio = coerce_stereo(audio, name="audio")
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ParameterError(f"sample_rate must be a positive number of Hz, got {sample_rate!r}")
    if audio.shape[1] < MIN_DURATION_S * sample_rate:
        raise ParameterError(f"audio is {audio.shape[1] / sample_rate:.3f} s long; loudness matching needs at least "
                             f"{MIN_DURATION_S} s (one ITU-R BS.1770 gating block)")
    if isinstance(presets, (str, Path)):
        raise ParameterError("presets must be a sequence of preset names, not a single name; use [name]")
    requests = _requests(list(presets), reference, parameters, room, head, unprocessed)
    renderer = renderer or ProcessorRenderer()
    analyzer = default_analyzer() if analyzer == "default" else analyzer
    from tqdm import tqdm

    steps = tqdm(total=3 * len(requests) + 1, desc="compare", unit="step", disable=not progress, leave=False)
    renders: list[Render] = []
    loudness: dict[str, LoudnessStats] = {}
    # Each render is measured on a worker thread while the next one renders (the convolution
    # kernels and most of pyloudnorm's filtering run without the GIL).
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundstage-loudness")
    try:
        pending = {}
        for key, label, request in requests:
            steps.set_description(f"render {label}")
            output = renderer(request, audio, sample_rate)
            ears = np.asarray(output.ears)
            if ears.shape != audio.shape:
                raise ParameterError(f"renderer returned ears of shape {ears.shape} for {label!r}; expected {audio.shape}")
            renders.append(Render(key, label, request, output))
            pending[key] = pool.submit(measure_loudness, ears, sample_rate, name=label)
            steps.update()
        for key, future in pending.items():
            steps.set_description("measure loudness")
            loudness[key] = future.result()
            steps.update()
        steps.set_description("match loudness")
        ref_key = "reference" if reference is not None else None
        match = match_loudness({r.key: r.ears for r in renders}, sample_rate, reference=ref_key,
                               target_lufs=target_lufs, ceiling_dbfs=ceiling_dbfs,
                               measured_lufs={k: s.integrated_lufs for k, s in loudness.items()})
        steps.update()
        spatial, figures, curves, notes = {}, {}, {}, []
        if match.guard_engaged:
            notes.append(f"peak guard: matching to {match.target_lufs:.1f} LUFS would put a sample peak above the "
                         f"{match.ceiling_dbfs:g} dBFS ceiling; every version was lowered by {-match.guard_db:.2f} dB "
                         f"together (matched loudness {match.matched_lufs:.1f} LUFS)")
        rank = {"preset": 0, "unprocessed": 1, "reference": 2, "input": 3}  # presets first: analyses are shared
        for key, label, request in sorted(requests, key=lambda item: rank[item[2].kind]):
            steps.set_description(f"analyse {label}")
            result = None
            if analyzer is not None:
                try:
                    result = analyzer(request, sample_rate)
                except (PresetError, ParameterError):
                    raise
                except Exception as exc:  # a failing analysis must not lose the listening report
                    notes.append(f"spatial metrics of {label} unavailable: {type(exc).__name__}: {exc}")
            spatial[key] = spatial_values(result)
            figures[key] = analysis_figures(result)
            if spatial_curves(result) is not None:
                curves[key] = spatial_curves(result)
            steps.update()
    finally:
        pool.shutdown(cancel_futures=True)
        steps.close()
    provenance = _provenance(requests, audio, sample_rate, input_name, room, head, match)
    return Comparison(sample_rate=float(sample_rate), renders=renders, loudness=loudness, match=match,
                      spatial=spatial, figures=figures, provenance=provenance, notes=notes, curves=curves)

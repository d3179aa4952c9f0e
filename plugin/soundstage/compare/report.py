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

import csv
import json
import re
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._errors import ParameterError, PresetError
from .loudness import MIN_DURATION_S, PEAK_CEILING_DBFS, LoudnessMatch, LoudnessStats, match_gains
from .render import Render, Renderer, coerce_stereo
from .stream import InputSource, render_version
from .table import TABLE_COLUMNS
from .versions import provenance, version_requests
from .spatial import Analyzer, analysis_figures, default_analyzer, spatial_curves, spatial_values

__all__ = ["compare", "compare_file", "Comparison", "TABLE_COLUMNS", "DEFAULT_MAX_SECONDS"]

#: Length of the excerpt embedded in an HTML report: chosen from the input (see
#: :mod:`soundstage.compare.excerpt`); a number of seconds overrides it, None embeds everything.
DEFAULT_MAX_SECONDS = "auto"

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
    measured : dict of str to MeasuredLoudness
        The streaming meter's measurements per render key (gating-block and 100 ms hop energies).
    workdir : Path or None
        Directory of the renders' temporary files; removed by :meth:`close`, on leaving a
        ``with`` block, or when the comparison is garbage-collected.
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
    measured: dict = field(default_factory=dict)
    workdir: Path | None = None

    def __post_init__(self) -> None:
        self._cleanup = (weakref.finalize(self, shutil.rmtree, str(self.workdir), True)
                         if self.workdir is not None else None)

    def close(self) -> None:
        """Delete the renders' temporary files (the comparison's audio is gone afterwards)."""
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> "Comparison":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, key: str) -> Render:
        """The render with key ``key`` (``"input"``, ``"reference"``, ``"preset:<name>"`` ...)."""
        for render in self.renders:
            if render.key == key:
                return render
        raise ParameterError(f"no version {key!r}; versions: {[r.key for r in self.renders]}")

    def matched(self, key: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Headphone render of ``key`` (samples ``[start, stop)``) with its matching gain applied,
        ``(2, n)`` float32."""
        output = self.render(key).output
        ears = output.read_ears(start, stop) if hasattr(output, "read_ears") else output.ears[:, start:stop]
        return (ears * np.float32(self.match.gain(key))).astype(np.float32)

    @property
    def frames(self) -> int:
        """Length of the input and of every render (samples)."""
        output = self.renders[0].output
        return int(getattr(output, "frames", None) or output.ears.shape[1])

    def excerpt(self, max_seconds: float | str | None = DEFAULT_MAX_SECONDS, start_s: float | None = None):
        """The span the report's players hold (:func:`~soundstage.compare.excerpt.choose_excerpt`):
        ``max_seconds="auto"`` chooses the length and the most active window of the input; a number
        sets the length; None is the whole input; ``start_s`` fixes the start."""
        from .excerpt import choose_excerpt

        if isinstance(max_seconds, str):
            if max_seconds != "auto":
                raise ParameterError(f"max_seconds must be 'auto', a number of seconds > 0 or None, got {max_seconds!r}")
            max_seconds = None
        elif max_seconds is None:
            max_seconds = self.frames / self.sample_rate
        return choose_excerpt(self.frames, self.sample_rate, self.measured.get("input"), versions=len(self.renders),
                              max_seconds=max_seconds, start_s=start_s)

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
                max_seconds: float | str | None = DEFAULT_MAX_SECONDS, audio_format: str = "flac",
                excerpt_start_s: float | None = None) -> Path:
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
        max_seconds : "auto", float or None
            Length of the embedded excerpt (s). ``"auto"``: the whole input up to 30 s, else 20–30 s
            (all players together hold about 150 s) from the most active part of the input (loudness
            and side level, :mod:`soundstage.compare.excerpt`); a number sets the length (the start is
            still the most active window unless ``excerpt_start_s``); None embeds everything.
        audio_format : {"flac", "wav"}
            16-bit FLAC (lossless, about a third of WAV's size; the default) or 16-bit WAV.
        excerpt_start_s : float, optional
            Start of the excerpt (s); default the most active window.

        Returns
        -------
        pathlib.Path
        """
        from .html import build_html

        path = Path(path)
        page = build_html(self, blind=blind, seed=seed, max_seconds=max_seconds, excerpt_start_s=excerpt_start_s,
                          audio_format=audio_format)
        path.write_text(page, encoding="utf-8")
        return path

    def to_dir(self, path, **html_options) -> Path:
        """Write ``report.html``, ``metrics.csv``, ``metrics.json`` and the renders to a directory.

        Renders are float32 WAV files at their rendered (unmatched) level:
        ``renders/<key>.ears.wav`` and ``renders/<key>.drivers.wav``; the gains are in
        ``metrics.json``. ``html_options`` go to :meth:`to_html`.
        """
        path = Path(path)
        (path / "renders").mkdir(parents=True, exist_ok=True)
        for render in self.renders:
            stem = path / "renders" / _slug(render.key.replace(":", "."))
            shutil.copyfile(render.output.ears_path, f"{stem}.ears.wav")
            if render.output.feeds_path is not None:
                shutil.copyfile(render.output.feeds_path, f"{stem}.drivers.wav")
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
    keep_driver_feeds: bool = True,
    workdir=None,
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
    keep_driver_feeds : bool, keyword-only
        Store every version's driver feeds too (for :meth:`Comparison.to_dir`); an HTML-only
        report does not need them.
    workdir : str or os.PathLike, optional, keyword-only
        Where the renders' temporary files go (default the system's temporary directory); they
        are removed by :meth:`Comparison.close` or when the comparison is garbage-collected.

    Notes
    -----
    Memory stays bounded whatever the input's length: every version streams block by block into
    float32 WAV files under ``workdir`` and is measured as it streams
    (:mod:`soundstage.compare.stream`, :mod:`soundstage.monitor.loudness_meter`); use
    :func:`compare_file` to stream the input from its file too.

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
    return _compare(InputSource.from_array(audio, float(sample_rate)), presets, reference, room, head, parameters,
                    input_name, progress, unprocessed=unprocessed, ceiling_dbfs=ceiling_dbfs, target_lufs=target_lufs,
                    renderer=renderer, analyzer=analyzer, keep_driver_feeds=keep_driver_feeds, workdir=workdir)


def compare_file(path, presets: Sequence, reference: str | None = "stereo-pair", room=None, head=None,
                 parameters: Mapping[str, Mapping] | None = None, progress: bool = False, **options) -> Comparison:
    """:func:`compare` of an audio file, streamed from the file: memory does not grow with its length.

    Parameters
    ----------
    path : str or os.PathLike
        Any file ``pedalboard.io.AudioFile`` reads (mono or stereo).
    presets, reference, room, head, parameters, progress, **options
        As :func:`compare` (``input_name`` is the file's name).

    Raises
    ------
    AudioFormatError
        A missing, unreadable or empty file, or more than two channels.
    """
    source = InputSource.from_file(path)
    return _compare(source, presets, reference, room, head, parameters, Path(path).name, progress, **options)


def _stats(measured) -> LoudnessStats:
    return LoudnessStats(measured.integrated_lufs, measured.loudness_range_lu, measured.sample_peak_dbfs,
                         measured.true_peak_dbtp, measured.crest_factor_db)


def _compare(source: InputSource, presets, reference, room, head, parameters, input_name, progress, *,
             unprocessed: str = "first", ceiling_dbfs: float = PEAK_CEILING_DBFS, target_lufs: float | None = None,
             renderer: Renderer | None = None, analyzer: Analyzer | None | str = "default",
             keep_driver_feeds: bool = True, workdir=None) -> Comparison:
    rate = source.sample_rate
    if source.frames < MIN_DURATION_S * rate:
        raise ParameterError(f"audio is {source.frames / rate:.3f} s long; loudness matching needs at least "
                             f"{MIN_DURATION_S} s (one ITU-R BS.1770 gating block)")
    if isinstance(presets, (str, Path)):
        raise ParameterError("presets must be a sequence of preset names, not a single name; use [name]")
    requests = version_requests(list(presets), reference, parameters, room, head, unprocessed)
    analyzer = default_analyzer() if analyzer == "default" else analyzer
    from tqdm import tqdm

    directory = Path(tempfile.mkdtemp(prefix="soundstage-compare-", dir=workdir))
    steps = tqdm(total=2 * len(requests) + 1, desc="compare", unit="step", disable=not progress, leave=False)
    renders: list[Render] = []
    measured, loudness = {}, {}
    try:
        for key, label, request in requests:
            steps.set_description(f"render {label}")
            stored, measured[key] = render_version(request, source, directory, _slug(key.replace(":", ".")),
                                                   keep_feeds=keep_driver_feeds, renderer=renderer)
            renders.append(Render(key, label, request, stored))
            loudness[key] = _stats(measured[key])
            steps.update()
        steps.set_description("match loudness")
        match = match_gains({k: m.integrated_lufs for k, m in measured.items()},
                            {k: m.sample_peak_dbfs for k, m in measured.items()},
                            lambda k, gain_db: measured[k].integrated_lufs_at(gain_db),
                            reference="reference" if reference is not None else None, target_lufs=target_lufs,
                            ceiling_dbfs=ceiling_dbfs)
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
                    result = analyzer(request, rate)
                except (PresetError, ParameterError):
                    raise
                except Exception as exc:  # a failing analysis must not lose the listening report
                    notes.append(f"spatial metrics of {label} unavailable: {type(exc).__name__}: {exc}")
            spatial[key] = spatial_values(result)
            figures[key] = analysis_figures(result)
            if spatial_curves(result) is not None:
                curves[key] = spatial_curves(result)
            steps.update()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        steps.close()
    record = provenance(requests, source.sha256(), source.frames, rate, input_name, room, head, match)
    return Comparison(sample_rate=rate, renders=renders, loudness=loudness, match=match, spatial=spatial,
                      figures=figures, provenance=record, notes=notes, curves=curves, measured=measured,
                      workdir=directory)

"""``analyze``: what a preset does to a listener — cancellation, image, zone, beam, depth, effort.

Three systems are compared, all heard by the same head in the same room through the listening
simulation (:class:`~.auralizer.Auralizer`'s impulse responses):

* **processed** — the preset's design (:func:`soundstage.design.design_filterset`);
* **unprocessed** — the same enclosure with every stage bypassed (the plain mix);
* **reference** — the ±30° loudspeaker pair at 2 m (:func:`~.reference.stereo_pair`).

What is measured (see :class:`Analysis` for the keys):

* χ(f), the channel separation per one-third octave, of the crosstalk cancellation *alone*
  (virtualizer bypassed, so the ipsilateral/contralateral ratio is the cancellation itself), at
  the design position and with the head moved ±5 and ±10 cm sideways; the mean over
  300 Hz–6 kHz; the full chain's ILD per band and ITD beside the reference's;
* the image azimuth of a hard-left source (0.5 s of noise, left channel only) and of a
  constant-power pan sweep (9 positions), located by an
  :class:`~.metrics_azimuth.AzimuthEstimator` built from the same head. The noise is *white*:
  the estimator's tables come from impulse responses (a white spectrum), and the sphere's ITD
  grows toward low frequencies (Kuhn's 3a/c limit), so pink noise weights the cross-correlation
  toward larger ITDs and reads a true 30° source as 31.3°; white noise reads it as 30.0°;
* the listening zone (:func:`~.metrics_zone.listening_zone`): the same filters heard from a grid
  of moved heads;
* the centre beam: its far-field pattern (from :func:`soundstage.design.design_report`), the
  level toward ±90° over 700 Hz–4 kHz, its **horizontal-plane (cylindrical) directivity index**
  (the pattern is a horizontal cut of a non-axisymmetric enclosure, so no full-sphere figure is
  claimed), and in a room the direct-to-reverberant ratio of the centre path at the ears with the
  beam versus the plain centre feed (``beam=False``), from the room model's separate direct
  sound;
* colouration of the ipsilateral ear response re the reference's, and the driver effort.

The filters are never redesigned for a moved head: a zone map shows what one design does.

In a room, χ, the image azimuths and the zone are computed on the **direct sound** (the filters
convolved with the direct part of the room response, which is the free-field plant): crosstalk
cancellation acts only on it, and by the precedence effect reflections arriving more than about
a millisecond later do not move the image. What the room does is reported beside it: the
steady-state χ of the whole response (every reflection included — a floor reflection 3 ms
after the direct sound and only ≈ 4 dB below it bounds that figure to a few dB), the centre
path's DRR, and the colouration of the whole ipsilateral response.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import ParameterError
from .analysis_ears import (
    EarResponses,
    System,
    ear_responses,
    pan_gains,
    reference_system,
    system_from_filterset,
    through,
    white_noise,
)
from .metrics import (
    AzimuthEstimator,
    band_energies,
    channel_separation_db,
    colouration_db,
    diffuse_drr_db,
    directivity_index_db,
    driver_effort,
    interaural_differences,
    listening_zone,
    third_octave_bands,
)

__all__ = ["Analysis", "analyze", "ANALYSIS_STAGES", "CHI_BAND_HZ", "BEAM_BAND_HZ", "LATERAL_PROBES_M", "PAN_POSITIONS"]

#: The stages :func:`analyze` reports to its ``progress`` callback, in order.
ANALYSIS_STAGES = ("designs", "separation", "image", "listening zone", "centre beam", "colouration and effort")

#: Band over which χ is averaged (Hz, one-third-octave centres inside it).
CHI_BAND_HZ = (300.0, 6000.0)
#: Band of the beam figures (null level at ±90°, DI, DRR gain), Hz.
BEAM_BAND_HZ = (700.0, 4000.0)
#: Lateral head offsets (m, positive to the left) reported beside the design position.
LATERAL_PROBES_M = (-0.10, -0.05, 0.05, 0.10)
#: Constant-power pan positions of the pan sweep (−1 hard right … +1 hard left).
PAN_POSITIONS = np.linspace(-1.0, 1.0, 9)
#: Length of the white-noise test signal (s).
NOISE_SECONDS = 0.5


@dataclass(frozen=True)
class Analysis:
    """Result of :func:`analyze`.

    Attributes
    ----------
    preset, room, head : str
        What was analysed: the preset name, the room (``"anechoic"`` for free field), the head.
    sample_rate : float
        Hz.
    metrics : dict
        Scalar figures (JSON-ready): ``chi_mean_db`` {processed_ctc, unprocessed, reference}
        and ``chi_lateral_db`` {offset_cm: value}; ``hard_left_deg`` {processed, unprocessed,
        reference}, ``hard_right_deg`` {...}, ``hard_left_lateral_deg`` {offset_cm: value};
        ``itd_us`` {...}; ``beam`` {level_at_90_max_db, level_at_90_mean_db, di_horizontal_db,
        di_horizontal_plain_db}; ``centre_drr`` {beam_db, plain_db, gain_db, ...} or None in free
        field; ``colouration`` {processed, unprocessed: {mean_db, shape_rms_db}};
        ``driver`` {names, peak_gain_db, effort_peak_db, effort_rms_db, max_gain_db};
        ``zone`` {area_m2, min_chi_db, min_azimuth_deg}; ``targets`` {name: {value, goal, met}}.
    curves : dict
        Arrays behind the figures: ``bands_hz``, ``chi_db`` {label: (B,)}, ``target_db``,
        ``ild_db`` {system: (B,)}, ``pans``, ``pan_azimuth_deg`` {system: (9,)}, ``zone``
        {lateral_m, fore_aft_m, chi_db, azimuth_deg, in_zone}, ``beam`` {frequencies_hz,
        azimuths_deg, pattern_db, plain_pattern_db} or None, ``colouration_db`` {system: (B,)}.
    """

    preset: str
    room: str
    head: str
    sample_rate: float
    metrics: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Everything as plain JSON types (arrays → lists)."""
        return _jsonable({"preset": self.preset, "room": self.room, "head": self.head,
                          "sample_rate": self.sample_rate, "metrics": self.metrics, "curves": self.curves})

    def to_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON to ``path``."""
        import json
        from pathlib import Path

        Path(path).write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n", encoding="utf-8")

    def summary_markdown(self) -> str:
        """A one-page Markdown summary (tables of the figures and the targets)."""
        from .analysis_summary import summary_markdown

        return summary_markdown(self)

    def figures(self, directory) -> list:
        """Write the PNG figures into ``directory``; returns their paths (see :mod:`.figures`)."""
        from .figures import write_figures

        return write_figures(self, directory)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


class _Evaluator:
    """Ear responses and figures of the systems at moved heads, memoised per position.

    ``part="direct"`` — the direct sound only (what localisation and the cancellation act on;
    by the precedence effect reflections arriving later than ≈ 1 ms do not move the image) — is
    the free-field plant, so moved heads never need a room response; ``part="full"`` is the
    whole room response (the steady-state energy a microphone would measure).
    """

    def __init__(self, systems: dict[str, System], sample_rate, room, head, max_order, estimator, bands):
        self.systems, self.fs, self.room, self.head = systems, float(sample_rate), room, head
        self.max_order, self.estimator, self.bands = max_order, estimator, bands
        self.noise = white_noise(int(round(NOISE_SECONDS * sample_rate)), seed=1)
        self._ears: dict = {}
        self.chi_band = (bands >= CHI_BAND_HZ[0]) & (bands <= CHI_BAND_HZ[1])

    def ears(self, name: str, lateral_m: float = 0.0, fore_aft_m: float = 0.0, part: str = "direct") -> np.ndarray:
        """``(2, 3, n)`` ear responses of a system's three inputs."""
        room = self.room if part == "full" else None
        key = (name, round(lateral_m, 9), round(fore_aft_m, 9), room is None)
        if key not in self._ears:
            self._ears[key] = ear_responses(self.systems[name], self.fs, room=room, head=self.head,
                                            lateral_offset_m=lateral_m, fore_aft_offset_m=fore_aft_m,
                                            max_order=self.max_order)
        responses = self._ears[key]
        return responses.full if part == "full" else responses.direct

    def stereo(self, name: str, gains, lateral_m: float = 0.0, fore_aft_m: float = 0.0, part: str = "direct"):
        """``(2, n)`` ear responses of a mono source fed with ``gains`` = (left, right)."""
        responses = EarResponses(self.ears(name, lateral_m, fore_aft_m, part), None, self.fs)
        return responses.for_stereo(gains[0], gains[1], self.systems[name].extraction)

    def separation(self, name: str, lateral_m: float = 0.0, fore_aft_m: float = 0.0, part: str = "direct"):
        return channel_separation_db(self.stereo(name, (1, 0), lateral_m, fore_aft_m, part),
                                     self.stereo(name, (0, 1), lateral_m, fore_aft_m, part), self.fs, self.bands)

    def chi_mean(self, name: str, lateral_m: float = 0.0, fore_aft_m: float = 0.0, part: str = "direct") -> float:
        return float(np.mean(self.separation(name, lateral_m, fore_aft_m, part).mean_db[self.chi_band]))

    def source_ears(self, name: str, pan: float, lateral_m: float = 0.0, fore_aft_m: float = 0.0) -> np.ndarray:
        return through(self.noise, self.stereo(name, pan_gains(pan), lateral_m, fore_aft_m))

    def azimuth(self, name: str, pan: float, lateral_m: float = 0.0, fore_aft_m: float = 0.0) -> float:
        """Image azimuth (degrees); NaN where the ears carry no interaural cue (e.g. one ear silent)."""
        try:
            return self.estimator.estimate(self.source_ears(name, pan, lateral_m, fore_aft_m))
        except ParameterError:
            return float("nan")

    def zone_point(self, lateral_m: float, fore_aft_m: float) -> tuple[float, float]:
        # listening_zone's lateral/fore-aft are the frame's +y / +x offsets (left / toward the enclosure).
        return self.chi_mean("ctc", lateral_m, fore_aft_m), self.azimuth("processed", 1.0, lateral_m, fore_aft_m)


def _cues(ears: np.ndarray, sample_rate: float, bands: np.ndarray):
    """ILD per band and ITD; the ITD is NaN where one ear is silent (headphones without crosstalk)."""
    try:
        return interaural_differences(ears, sample_rate, bands)
    except ParameterError:
        energies = band_energies(ears, sample_rate, bands)
        with np.errstate(divide="ignore"):
            ild = 10 * np.log10(energies[0] / energies[1])
        return _Cues(bands, ild, float("nan"))


@dataclass(frozen=True)
class _Cues:
    centres_hz: np.ndarray
    ild_db: np.ndarray
    itd_s: float


def _designs(preset, sample_rate):
    from ..design import STAGES, design_filterset

    enc, lis, par = preset.enclosure, preset.listener, preset.parameters
    return {
        "processed": design_filterset(enc, lis, par, sample_rate),
        "ctc": design_filterset(enc, lis, par.replace(bypass=par.bypass | {"virtualizer"}), sample_rate),
        "unprocessed": design_filterset(enc, lis, par.replace(bypass=frozenset(STAGES)), sample_rate),
        "plain_centre": design_filterset(enc, lis, par.replace(beam=False), sample_rate),
    }


def _beam(processed_fs, plain_fs) -> tuple[dict, dict | None]:
    from ..design import design_report

    if processed_fs.enclosure.kind == "headphones":
        return {}, None
    report, plain = design_report(processed_fs), design_report(plain_fs)
    f, az = report.frequencies_hz, report.beam_azimuths_deg
    band = (f >= BEAM_BAND_HZ[0]) & (f <= BEAM_BAND_HZ[1])
    side = np.isin(az, (90.0, -90.0))
    toward_90 = report.beam_pattern_db[side][:, band]
    di = directivity_index_db(10 ** (report.beam_pattern_db / 20), az, geometry="horizontal")
    di_plain = directivity_index_db(10 ** (plain.beam_pattern_db / 20), az, geometry="horizontal")
    metrics = {
        "enabled": bool(processed_fs.parameters.beam and "beam" not in processed_fs.parameters.bypass),
        "band_hz": BEAM_BAND_HZ,
        "level_at_90_max_db": float(np.max(toward_90)),
        "level_at_90_mean_db": float(10 * np.log10(np.mean(10 ** (toward_90 / 10)))),
        "di_horizontal_db": float(np.mean(di[band])),
        "di_horizontal_plain_db": float(np.mean(di_plain[band])),
        "di_geometry": "horizontal (2-D, cylindrical): a dipole gives 3.01 dB",
    }
    curves = {"frequencies_hz": f, "azimuths_deg": az, "pattern_db": report.beam_pattern_db,
              "plain_pattern_db": plain.beam_pattern_db, "di_horizontal_db": di, "di_horizontal_plain_db": di_plain}
    return metrics, curves


def _centre_drr(ev: _Evaluator, room, preset) -> dict | None:
    """DRR of the centre path at the ears (both ears' energies summed), beam vs plain centre feed."""
    if room is None or preset.enclosure.kind == "headphones":
        return None
    edges = third_octave_bands(BEAM_BAND_HZ[0], BEAM_BAND_HZ[1])
    out = {"band_hz": BEAM_BAND_HZ}
    for name, label in (("processed", "beam"), ("plain_centre", "plain")):
        full, direct = ev.ears(name, part="full")[:, 2], ev.ears(name)[:, 2]
        n = min(full.shape[-1], direct.shape[-1])
        direct = np.pad(direct, ((0, 0), (0, full.shape[-1] - direct.shape[-1]))) if n < full.shape[-1] else direct[:, : full.shape[-1]]
        reverberant = full - direct
        out[f"{label}_db"] = float(10 * np.log10(np.sum(band_energies(direct, ev.fs, edges))
                                                 / np.sum(band_energies(reverberant, ev.fs, edges))))
        out[f"{label}_broadband_db"] = float(10 * np.log10(np.sum(direct**2) / np.sum(reverberant**2)))
    out["gain_db"] = out["beam_db"] - out["plain_db"]
    out["gain_broadband_db"] = out["beam_broadband_db"] - out["plain_broadband_db"]
    distance = float(np.linalg.norm(preset.listener.enclosure_position_m - preset.listener.head_position_m))
    out["diffuse_omni_db"] = diffuse_drr_db(distance, room.volume_m3, room.sabine_t60_s())
    return out


def analyze(preset, *, room=None, head=None, sample_rate: float = 48000,
            zone_lateral_m=np.linspace(-0.2, 0.2, 9), zone_fore_aft_m=None, max_order: int = 10,
            progress=None) -> Analysis:
    """Analyse a preset at its design listener: see the module docstring.

    Parameters
    ----------
    preset : str, os.PathLike or Preset
        A built-in preset name, a preset file or a loaded preset.
    room : None, str or Room, keyword-only
        ``None``/``"anechoic"`` (free field), ``"living-room"``, ``"studio"`` or a Room.
    head : None, str, os.PathLike or HeadModel, keyword-only
        The listener's head (auralization and azimuth tables); default the preset's design head.
        The filters are always the preset's design.
    sample_rate : float, keyword-only
        Hz (22 050 … 192 000).
    zone_lateral_m, zone_fore_aft_m : array_like, keyword-only
        Grid of head offsets of the listening-zone map (m, strictly increasing); the default
        fore/aft grid is 5 points over ±min(0.5 m, 0.4 × the listening distance).
    max_order : int, keyword-only
        Image-source order in a room.
    progress : callable, optional, keyword-only
        Called with the name of each stage as it starts (``ANALYSIS_STAGES``), e.g. to drive a
        progress bar.

    Returns
    -------
    Analysis
    """
    from .. import presets
    from ..acoustics.heads import make_head
    from .auralizer import resolve_room
    from .reference import stereo_pair

    step = progress if progress is not None else (lambda stage: None)
    step(ANALYSIS_STAGES[0])
    loaded = preset if isinstance(preset, presets.Preset) else presets.load(preset)
    room_obj = resolve_room(room)
    head_spec = loaded.parameters.head_model if head is None else head
    head_model = make_head(head_spec, radius_m=loaded.listener.head_radius_m)
    fs = float(sample_rate)
    designs = _designs(loaded, fs)
    systems = {name: system_from_filterset(filterset, name) for name, filterset in designs.items()}
    systems["reference"] = reference_system(*stereo_pair(2.0, 30.0))
    bands = third_octave_bands(100.0, min(16000.0, fs / 2 / 1.13))
    estimator = _estimator(head_spec, head_model, fs)
    ev = _Evaluator(systems, fs, room_obj, head_spec, max_order, estimator, bands)

    step(ANALYSIS_STAGES[1])
    chi = {"processed_ctc": ev.separation("ctc"), "unprocessed": ev.separation("unprocessed"),
           "reference": ev.separation("reference")}
    for offset in LATERAL_PROBES_M:
        chi[f"processed_ctc_{offset * 100:+.0f}cm"] = ev.separation("ctc", offset)
    main = ("processed", "unprocessed", "reference")
    step(ANALYSIS_STAGES[2])
    hard_left = {name: ev.azimuth(name, 1.0) for name in main}
    hard_right = {name: ev.azimuth(name, -1.0) for name in main}
    cues = {name: _cues(ev.stereo(name, (1, 0)), fs, bands) for name in main}
    pans = {name: np.array([ev.azimuth(name, float(p)) for p in PAN_POSITIONS]) for name in main}
    if zone_fore_aft_m is None:
        reach = min(0.5, 0.4 * loaded.listener.distance_m)
        zone_fore_aft_m = np.linspace(-reach, reach, 5)
    step(ANALYSIS_STAGES[3])
    zone = listening_zone(ev.zone_point, zone_lateral_m, zone_fore_aft_m)
    lateral_chi = {f"{o * 100:+.0f}": float(np.mean(chi[f"processed_ctc_{o * 100:+.0f}cm"].mean_db[ev.chi_band]))
                   for o in LATERAL_PROBES_M}
    lateral_az = {f"{o * 100:+.0f}": ev.azimuth("processed", 1.0, o) for o in LATERAL_PROBES_M}
    step(ANALYSIS_STAGES[4])
    beam_metrics, beam_curves = _beam(designs["processed"], designs["plain_centre"])
    step(ANALYSIS_STAGES[5])
    colour = {name: colouration_db(ev.stereo(name, (1, 0), part="full")[0],
                                   ev.stereo("reference", (1, 0), part="full")[0], fs, bands)
              for name in ("processed", "unprocessed")}
    effort = driver_effort(designs["processed"].fir)

    metrics = {
        "chi_band_hz": CHI_BAND_HZ,
        "chi_mean_db": {k: float(np.mean(chi[k].mean_db[ev.chi_band])) for k in ("processed_ctc", "unprocessed", "reference")},
        "chi_lateral_db": lateral_chi,
        "chi_steady_state_db": None if room_obj is None else {
            k: ev.chi_mean(n, part="full") for k, n in (("processed_ctc", "ctc"), ("unprocessed", "unprocessed"),
                                                        ("reference", "reference"))},
        "hard_left_deg": hard_left,
        "hard_right_deg": hard_right,
        "hard_left_lateral_deg": lateral_az,
        "itd_us": {name: cues[name].itd_s * 1e6 for name in main},
        "beam": beam_metrics,
        "centre_drr": _centre_drr(ev, room_obj, loaded),
        "colouration": {name: {"mean_db": c.mean_db, "shape_rms_db": float(np.sqrt(max(c.rms_db**2 - c.mean_db**2, 0.0)))}
                        for name, c in colour.items()},
        "driver": {"names": list(designs["processed"].driver_names),
                   "peak_gain_db": designs["processed"].headroom_db,
                   "effort_peak_db": effort.peak_db, "effort_rms_db": effort.rms_db,
                   "max_gain_db": loaded.parameters.max_gain_db},
        "zone": {"area_m2": zone.area_m2, "min_chi_db": 10.0, "min_azimuth_deg": 20.0},
        "design": {"kind": loaded.kind, "width_deg": loaded.parameters.width_deg,
                   "target_chi_mean_db": float(np.mean(
                       designs["processed"].parameters.effective_target.at(bands)[ev.chi_band])),
                   "beam_enabled": bool(loaded.parameters.beam)},
    }
    from ..design.robust_report import head_table

    metrics["heads"] = head_table(designs["ctc"], head_spec)  # per-head χ: design, ensemble, held-out
    from .analysis_summary import target_checks

    metrics["targets"] = target_checks(metrics)
    curves = {
        "bands_hz": bands,
        "chi_db": {k: v.mean_db for k, v in chi.items()},
        "target_db": designs["processed"].parameters.effective_target.at(bands),
        "ild_db": {name: cues[name].ild_db for name in main},
        "pans": PAN_POSITIONS,
        "pan_azimuth_deg": pans,
        "zone": {"lateral_m": zone.lateral_m, "fore_aft_m": zone.fore_aft_m, "chi_db": zone.chi_db,
                 "azimuth_deg": zone.hard_left_azimuth_deg, "in_zone": zone.in_zone},
        "beam": beam_curves,
        "colouration_db": {name: c.deviation_db for name, c in colour.items()},
    }
    head_name = head_spec if isinstance(head_spec, str) else type(head_spec).__name__
    room_name = "anechoic" if room_obj is None else room_obj.name
    return Analysis(loaded.name, room_name, str(head_name), fs, metrics, curves)


_ESTIMATORS: dict = {}


def _estimator(head_spec, head_model, sample_rate: float) -> AzimuthEstimator:
    """One AzimuthEstimator per (named head, sample rate); other heads get a fresh one."""
    if not isinstance(head_spec, str):
        return AzimuthEstimator(head_model, sample_rate)
    key = (head_spec, float(head_model.radius_m), sample_rate)
    if key not in _ESTIMATORS:
        _ESTIMATORS[key] = AzimuthEstimator(head_model, sample_rate)
    return _ESTIMATORS[key]

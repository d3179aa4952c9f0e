"""Building soundstage objects from a validated preset table, and back.

The tables have passed :mod:`soundstage.presets.schema`; this module turns them into the
:class:`~soundstage.acoustics.Driver`/``Enclosure``/``Listener`` and
:class:`~soundstage.design.DesignParameters` objects (re-raising their errors with the file and
key path), and writes the canonical dictionary a preset's content hash is computed from.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .._errors import GeometryError, ParameterError
from .schema import PARAM_PATHS, SCHEMA_VERSION, Context, is_number
from ..acoustics.frame import HEAD_RADIUS_M
from ..acoustics.geometry import Driver, Enclosure, Listener
from ..design.parameters import DesignParameters, TargetCurve

#: How far (m) a driver's centre may lie outside its body's surface (mounting, grille).
_BODY_TOLERANCE_M = 0.005


def _build_drivers(enc: dict, kind: str, ctx: Context) -> builtins.list[Driver]:
    drivers: builtins.list[Driver] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(enc["drivers"]):
        where = f"enclosure.drivers[{i}]"
        if d["name"] in seen:
            raise ctx.error(f"{where}.name", f"duplicate driver name {d['name']!r} "
                            f"(also enclosure.drivers[{seen[d['name']]}]); names must be unique")
        seen[d["name"]] = i
        if not any(d["axis"]):
            raise ctx.error(f"{where}.axis", "expected a non-zero firing direction, got the zero vector")
        band = d.get("band_hz", [0.0, math.inf])
        if not band[0] < band[1]:
            raise ctx.error(f"{where}.band_hz", f"expected [low, high] with low < high, got {band!r}")
        try:
            drivers.append(Driver(
                name=d["name"], position_m=tuple(d["position_m"]), axis=tuple(d["axis"]),
                radius_m=float(d["radius_m"]), directivity=d.get("directivity", "piston"),
                band_hz=tuple(band), plain_feed=tuple(d.get("plain_feed", [0.5, 0.5])),
                centre_feed=d.get("centre_feed"),
            ))
        except (GeometryError, ParameterError, TypeError, ValueError) as exc:
            raise ctx.error(where, str(exc)) from exc
    if kind == "headphones" and len(drivers) != 2:
        raise ctx.error("enclosure.drivers", f"headphones need exactly two drivers (left ear, right ear), "
                        f"got {len(drivers)}")
    return drivers


def _check_body(enc: dict, drivers: builtins.list[Driver], ctx: Context) -> None:
    body = enc.get("body", "none")
    radius, height = enc.get("body_radius_m", 0.0), enc.get("body_height_m", 0.0)
    if body != "none" and radius <= 0:
        raise ctx.error("enclosure.body_radius_m", f"a {body} body needs a radius > 0 m, got {radius!r}")
    if body == "cylinder" and height <= 0:
        raise ctx.error("enclosure.body_height_m", f"a cylinder body needs a height > 0 m, got {height!r}")
    for i, d in enumerate(drivers):
        x, y, z = d.position_m
        if body == "sphere":
            outside = math.sqrt(x * x + y * y + z * z) - radius
        elif body == "cylinder":
            outside = max(math.hypot(x, y) - radius, abs(z) - height / 2)
        else:
            continue
        if outside > _BODY_TOLERANCE_M:
            raise ctx.error(f"enclosure.drivers[{i}].position_m", f"lies {outside:.4f} m outside the {body} body "
                            f"(radius {radius} m); drivers sit on the body's surface")
        if outside < -_BODY_TOLERANCE_M:
            raise ctx.error(f"enclosure.drivers[{i}].position_m", f"lies {-outside:.4f} m inside the {body} body "
                            f"(radius {radius} m); drivers sit on the body's surface")
        if d.directivity == "cap" and d.radius_m > radius:
            raise ctx.error(f"enclosure.drivers[{i}].radius_m", f"a cap driver on a {body} body of radius {radius} m "
                            f"must not be larger than the body, got radius_m = {d.radius_m!r}")
    _check_drivers_apart(drivers, ctx)
    _check_plain_feeds(drivers, ctx)
    intervals = sorted(d.band_hz for d in drivers)
    reach = intervals[0][1]
    for low, high in intervals[1:]:
        if low > reach:
            raise ctx.error("enclosure.drivers", f"the drivers' band_hz leave {reach:g}-{low:g} Hz unplayed; "
                            "adjacent bands must share their crossover frequency")
        reach = max(reach, high)


def _check_drivers_apart(drivers: builtins.list[Driver], ctx: Context) -> None:
    """Two drivers at one point playing the same band cannot be told apart by any filter."""
    for i, a in enumerate(drivers):
        for j in range(i):
            b = drivers[j]
            apart = math.dist(a.position_m, b.position_m)
            overlap = max(a.band_hz[0], b.band_hz[0]) < min(a.band_hz[1], b.band_hz[1])
            if apart < 1e-3 and overlap:
                raise ctx.error(f"enclosure.drivers[{i}].position_m",
                                f"driver {a.name!r} sits {apart * 1e3:.2f} mm from enclosure.drivers[{j}] ({b.name!r}) "
                                "and plays an overlapping band: coincident drivers cannot be steered apart; "
                                "merge them or split their bands (a coaxial pair plays disjoint bands)")


def _check_plain_feeds(drivers: builtins.list[Driver], ctx: Context) -> None:
    """The plain mix must play both inputs somewhere (else a bypassed stage is silence)."""
    for side, name in ((0, "left"), (1, "right")):
        if all(d.plain_feed[side] == 0 for d in drivers):
            raise ctx.error("enclosure.drivers[*].plain_feed",
                            f"no driver plays the {name} input in the plain mix (every plain_feed[{side}] is 0): "
                            "the plain mix and every bypassed stage would drop it")


def _build_listener(lis: dict, enclosure: Enclosure, enc: dict, ctx: Context) -> Listener:
    try:
        listener = Listener(
            distance_m=float(lis["distance_m"]), lateral_offset_m=float(lis.get("lateral_offset_m", 0.0)),
            fore_aft_offset_m=float(lis.get("fore_aft_offset_m", 0.0)), yaw_deg=float(lis.get("yaw_deg", 0.0)),
            head_radius_m=float(lis.get("head_radius_m", HEAD_RADIUS_M)),
        )
    except (GeometryError, ValueError) as exc:
        raise ctx.error("listener", str(exc)) from exc
    for i, d in enumerate(enclosure.drivers):
        gap = float(((listener.enclosure_position_m + d.position_m - listener.head_position_m) ** 2).sum()) ** 0.5
        if gap <= listener.head_radius_m:
            raise ctx.error(f"enclosure.drivers[{i}].position_m", f"driver {d.name!r} is {gap:.4f} m from the head "
                            f"centre, inside the head (radius {listener.head_radius_m} m) at listener.distance_m "
                            f"= {listener.distance_m}")
    reach = listener.head_radius_m + enc.get("body_radius_m", 0.0)
    if enclosure.kind == "loudspeakers" and listener.distance_m <= reach:
        raise ctx.error("listener.distance_m", f"the head (radius {listener.head_radius_m} m) would overlap "
                        f"the enclosure (kind = 'loudspeakers'): expected > {reach:g} m, got {listener.distance_m!r}"
                        + (" (a headphones preset extended with kind = 'loudspeakers'?)" if enc.get("body", "none") == "none"
                           else ""))
    return listener


def _build_parameters(des: dict, head: str, drivers: builtins.list[Driver], ctx: Context) -> DesignParameters:
    defaults = DesignParameters()
    target = defaults.target
    if "target" in des:
        freqs, gains = des["target"]["frequencies_hz"], des["target"]["cancellation_db"]
        if len(freqs) != len(gains):
            raise ctx.error("design.target.cancellation_db", f"expected as many values as "
                            f"design.target.frequencies_hz ({len(freqs)}), got {len(gains)}")
        if any(b <= a for a, b in zip(freqs, freqs[1:])):
            raise ctx.error("design.target.frequencies_hz", f"expected strictly increasing frequencies, got {freqs!r}")
        peak = gains.index(max(gains))
        flat_zero = max(gains) == 0
        if any(b < a for a, b in zip(gains[:peak], gains[1:peak + 1])) or (gains[0] >= gains[peak] and not flat_zero):
            raise ctx.error("design.target.cancellation_db", "the target must fall toward low frequencies "
                            f"(rise monotonically from its first point up to a higher peak; only a 0 dB curve "
                            f"may be flat), got {gains!r}")
        try:
            target = TargetCurve(tuple(freqs), tuple(gains))
        except ParameterError as exc:
            raise ctx.error("design.target", str(exc)) from exc
    beam, upmix = des.get("beam", {}), des.get("upmix", {})
    kwargs = dict(
        width_deg=des.get("width_deg", defaults.width_deg), target=target,
        target_cancellation_db=des.get("target_cancellation_db"),
        max_gain_db=des.get("max_gain_db", defaults.max_gain_db),
        beam=beam.get("enabled", defaults.beam), beam_band_hz=tuple(beam.get("band_hz", defaults.beam_band_hz)),
        beam_null_azimuths_deg=tuple(beam.get("null_azimuths_deg", defaults.beam_null_azimuths_deg)),
        beam_max_effort_db=beam.get("max_effort_db", defaults.beam_max_effort_db),
        centre_gain_db=des.get("centre_gain_db", defaults.centre_gain_db),
        output_gain_db=des.get("output_gain_db", defaults.output_gain_db),
        upmix_bands=upmix.get("bands", defaults.upmix_bands),
        upmix_time_constant_ms=upmix.get("time_constant_ms", defaults.upmix_time_constant_ms),
        centre_extraction=upmix.get("centre_extraction", defaults.centre_extraction),
        null_region_m=des.get("null_region_m", defaults.null_region_m),
        filter_length_ms=des.get("filter_length_ms", defaults.filter_length_ms), head_model=head,
        crossover_order=des.get("crossover_order", defaults.crossover_order),
        bypass=frozenset(des.get("bypass", ())), robust_heads=tuple(des.get("robust_heads", ())),
        passband_hz=tuple(des["passband_hz"]) if "passband_hz" in des else None,
        voicing=des.get("voicing", defaults.voicing),
        voicing_smoothing_octaves=des.get("voicing_smoothing_octaves", defaults.voicing_smoothing_octaves),
        voicing_heads=tuple(des.get("voicing_heads", ())),
    )
    if kwargs["beam"]:
        low, high = kwargs["beam_band_hz"]
        playing = [d.name for d in drivers if d.band_hz[0] < high and d.band_hz[1] > low]
        if len(playing) < 3:
            raise ctx.error("design.beam.enabled", f"a centre beam with nulls needs at least three drivers playing "
                            f"in design.beam.band_hz {[low, high]}, got {playing}; set enabled = false")
    try:
        return DesignParameters(**kwargs)
    except ParameterError as exc:
        field_name = str(exc).split(" ", 1)[0]
        raise ctx.error(PARAM_PATHS.get(field_name, "design"), str(exc)) from exc


def _preset_dict(name: str, description: str, enclosure: Enclosure, listener: Listener, head: str,
                 params: DesignParameters) -> dict:
    """The resolved content in the TOML layout (every default written out)."""
    drivers = [{
        "name": d.name, "position_m": [*d.position_m], "axis": [*d.axis], "radius_m": d.radius_m,
        "directivity": d.directivity, "band_hz": [*d.band_hz], "plain_feed": [*d.plain_feed],
        **({} if d.centre_feed is None else {"centre_feed": d.centre_feed}),
    } for d in enclosure.drivers]
    design = {
        "width_deg": params.width_deg, "max_gain_db": params.max_gain_db,
        "filter_length_ms": params.filter_length_ms, "null_region_m": params.null_region_m,
        "crossover_order": params.crossover_order, "centre_gain_db": params.centre_gain_db,
        "output_gain_db": params.output_gain_db,
        "bypass": sorted(params.bypass),
        "target": {"frequencies_hz": [*params.target.frequencies_hz],
                   "cancellation_db": [*params.target.cancellation_db]},
        "beam": {"enabled": params.beam, "band_hz": [*params.beam_band_hz],
                 "null_azimuths_deg": [*params.beam_null_azimuths_deg], "max_effort_db": params.beam_max_effort_db},
        "upmix": {"bands": params.upmix_bands, "time_constant_ms": params.upmix_time_constant_ms,
                  "centre_extraction": params.centre_extraction},
    }
    if params.target_cancellation_db is not None:
        design["target_cancellation_db"] = params.target_cancellation_db
    if params.robust_heads:
        design["robust_heads"] = [*params.robust_heads]
    if params.passband_hz is not None:
        design["passband_hz"] = [*params.passband_hz]
    design["voicing"] = params.voicing
    design["voicing_smoothing_octaves"] = params.voicing_smoothing_octaves
    if params.voicing_heads:
        design["voicing_heads"] = [*params.voicing_heads]
    return {
        "schema_version": SCHEMA_VERSION, "name": name, "description": description, "kind": enclosure.kind,
        "enclosure": {"body": enclosure.body, "body_radius_m": enclosure.body_radius_m,
                      "body_height_m": enclosure.body_height_m, "drivers": drivers},
        "listener": {"distance_m": listener.distance_m, "head": head, "head_radius_m": listener.head_radius_m,
                     "lateral_offset_m": listener.lateral_offset_m,
                     "fore_aft_offset_m": listener.fore_aft_offset_m, "yaw_deg": listener.yaw_deg},
        "design": design,
    }


def _canonical(value: Any) -> Any:
    """JSON-ready copy with numbers at 12 significant digits (re-normalised axes hash alike)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (builtins.list, tuple)):
        return [_canonical(v) for v in value]
    if is_number(value):
        return format(float(value) + 0.0, ".12g")  # + 0.0 folds -0.0 into 0.0
    return value

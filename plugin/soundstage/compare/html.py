"""The comparison report: one self-contained HTML page.

Everything is inside the file: the audio of every version as a base64 ``data:`` URI (16-bit WAV
or FLAC of the loudness-matched excerpt, whose peaks the matching kept under the ceiling, so
16 bits do not clip), the figures as PNG data URIs, the metrics table, the provenance, and the
player script of :mod:`soundstage.compare.page`. The raw-level toggle plays each version at
``1 / matching gain`` of the stored signal.

Blind mode relabels the presets A, B, C … in a seeded random order, leaves names out of the
visible page, adds an ABX run and stores the key (base64 JSON) in a
``<script type="application/json" id="soundstage-key">`` element that the page decodes only
when asked.
"""

from __future__ import annotations

import base64
import html
import io
import json
import secrets
import string

import numpy as np

from .._errors import ParameterError
from .page import SCRIPT, STYLE
from .table import TABLE_COLUMNS
from .overlays import overlay_figures
from .spatial import figure_png

__all__ = ["build_html", "AUDIO_FORMATS", "blind_order", "loudness_figure"]

#: Embedded audio formats: (soundfile format, subtype, MIME type).
AUDIO_FORMATS = {"wav": ("WAV", "PCM_16", "audio/wav"), "flac": ("FLAC", "PCM_16", "audio/flac")}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _json_script(element_id: str, payload: str) -> str:
    # "</" would end the script element early; JSON allows "<\/".
    safe = payload.replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{safe}</script>'


def _data_uri(audio: np.ndarray, sample_rate: float, audio_format: str) -> str:
    import soundfile

    container, subtype, mime = AUDIO_FORMATS[audio_format]
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio, -1.0, 1.0).T, int(round(sample_rate)), format=container, subtype=subtype)
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def blind_order(keys: list[str], seed: int) -> list[str]:
    """``keys`` shuffled by ``numpy.random.default_rng(seed)`` (the blind order, reproducible)."""
    order = list(keys)
    np.random.default_rng(seed).shuffle(order)
    return order


def loudness_figure(labels: list[str], before_lufs: list[float] | None, after_lufs: list[float], *,
                    ceiling_dbfs: float, guard_db: float) -> bytes:
    """PNG of a grouped bar chart: integrated loudness of each version before and after matching
    (``before_lufs=None``: after only — a blind report must not tell versions apart by level).
    The legend sits beside the axes, never over a bar."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(5.0, 1.1 * len(labels) + 2.0), 3.2))
    axes = figure.subplots()
    x = np.arange(len(labels))
    floor = min(min(before_lufs or after_lufs), min(after_lufs)) - 6.0
    if before_lufs is not None:
        axes.bar(x - 0.2, np.array(before_lufs) - floor, 0.4, bottom=floor, label="as rendered", color="#9aa7b3")
        axes.bar(x + 0.2, np.array(after_lufs) - floor, 0.4, bottom=floor, label="matched", color="#0062cc")
    else:
        axes.bar(x, np.array(after_lufs) - floor, 0.5, bottom=floor, label="matched", color="#0062cc")
    axes.set_xticks(x, labels, rotation=20, ha="right")
    axes.set_ylabel("integrated loudness (LUFS)")
    guard = f"; peak guard lowered all by {-guard_db:.2f} dB" if guard_db < 0 else ""
    axes.set_title(f"ITU-R BS.1770 loudness, sample-peak ceiling {ceiling_dbfs:g} dBFS{guard}", fontsize=9)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.grid(axis="y", alpha=0.3)
    return figure_png(figure)


def _fmt(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}"


def _table(comparison, labels: dict) -> str:

    rows = comparison.rows()
    if labels is not None:
        rows = sorted(rows, key=lambda r: (r["kind"] != "reference", r["kind"] == "input", labels[r["key"]]))
    # a column no version has a number for (e.g. the centre DRR gain in free field) is left out
    columns = [c for c in TABLE_COLUMNS if any(_fmt(row[c[0]]) != "—" for row in rows)]
    head = "".join(f"<th>{_e(title)}<br><span class='muted'>{_e(unit)}</span></th>" for _, title, unit in columns)
    body = []
    for row in rows:
        cells = "".join(f"<td>{_fmt(row[key], 2 if key == 'gain_db' else 1)}</td>" for key, _, _ in columns)
        label = labels[row["key"]] if labels is not None else row["label"]
        body.append(f"<tr class='{_e(row['kind'])}'><td>{_e(label)}</td>{cells}</tr>")
    return f"<table id='metrics'><tr><th>version</th>{head}</tr>{''.join(body)}</table>"


def _provenance_html(provenance: dict, blind: bool) -> str:
    items = [("soundstage", provenance["soundstage_version"]), ("date (UTC)", provenance["date_utc"]),
             ("input", provenance["input"]), ("input SHA-256", provenance["input_sha256"][:16] + "…"),
             ("sample rate", f"{provenance['sample_rate']:g} Hz"), ("duration", f"{provenance['duration_s']:.2f} s"),
             ("room", provenance["room"]), ("head", provenance["head"]),
             ("loudness", f"{provenance['loudness']['standard']}; LRA {provenance['loudness']['loudness_range']}; "
                          f"true peak {provenance['loudness']['true_peak']}; pyloudnorm "
                          f"{provenance['pyloudnorm_version']}")]
    for version in provenance["versions"]:
        if blind and version["kind"] in ("preset", "unprocessed"):
            continue
        items.append((version["label"], f"{version['preset']} — content hash {version['content_hash'][:16]}… — "
                                        f"parameters {json.dumps(version['parameters'])}"))
    if blind:
        items.append(("presets", "hidden in blind mode; the key is stored in this file (reveal it below)"))
    return "<table class='prov'>" + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in items) + "</table>"


def build_html(comparison, *, blind: bool = False, seed: int | None = None, max_seconds="auto",
               excerpt_start_s: float | None = None, audio_format: str = "flac") -> str:
    """The report page of ``comparison`` as a string (see :meth:`Comparison.to_html`); the players
    hold :meth:`Comparison.excerpt` ``(max_seconds, excerpt_start_s)``."""
    if audio_format not in AUDIO_FORMATS:
        raise ParameterError(f"audio_format must be one of {sorted(AUDIO_FORMATS)}, got {audio_format!r}")
    excerpt = comparison.excerpt(max_seconds, excerpt_start_s)
    rate = comparison.sample_rate
    renders = list(comparison.renders)
    labels = None
    key_payload = None
    abx_pair = None
    presets = [r for r in renders if r.kind == "preset"]
    if blind:
        if len(presets) < 2:
            raise ParameterError(f"blind mode needs at least two presets to hide, got {len(presets)}")
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        order = blind_order([r.key for r in presets], seed)
        letters = {key: string.ascii_uppercase[i] for i, key in enumerate(order)}
        labels = {r.key: letters.get(r.key, "unprocessed" if r.kind == "unprocessed" else r.label) for r in renders}
        by_key = {r.key: r for r in renders}
        renders = ([r for r in renders if r.kind in ("input", "reference")] + [by_key[k] for k in order]
                   + [r for r in renders if r.kind == "unprocessed"])
        key = {"seed": seed, "order": [
            {"label": labels[r.key], "key": r.key, "preset": r.preset.name, "content_hash": r.preset.content_hash,
             "parameters": {k: sorted(v) if isinstance(v, (set, frozenset)) else v
                            for k, v in r.request.parameters.items()}}
            for r in renders if r.kind in ("preset", "unprocessed")], "provenance": comparison.provenance}
        key_payload = base64.b64encode(json.dumps(key, default=str).encode("utf-8")).decode("ascii")
        abx_pair = [renders.index(by_key[order[0]]), renders.index(by_key[order[1]])]
    shown = {r.key: (labels[r.key] if labels else r.label) for r in renders}
    n = comparison.frames
    limit = excerpt.frames
    players = []
    for r in renders:
        gain = comparison.match.gain(r.key)
        players.append({"label": shown[r.key], "kind": r.kind, "rawGain": 1.0 / gain,
                        "src": _data_uri(comparison.matched(r.key, excerpt.start, excerpt.stop), rate, audio_format)})
    data = {"sampleRate": rate, "excerptS": limit / rate, "excerptStartS": excerpt.start / rate, "players": players,
            "abxPair": abx_pair, "blind": blind}

    rows = comparison.rows()
    ordered = sorted(rows, key=lambda r: renders.index(comparison.render(r["key"])))
    before = None if blind else [r["loudness_before_lufs"] for r in ordered]
    chart = loudness_figure([shown[r["key"]] for r in ordered], before,
                            [r["loudness_after_lufs"] for r in ordered], ceiling_dbfs=comparison.match.ceiling_dbfs,
                            guard_db=comparison.match.guard_db)
    figures = [("Loudness after matching" if blind else "Loudness before and after matching", chart)]
    curves = getattr(comparison, "curves", None) or {}
    figures += overlay_figures({shown[r.key]: curves[r.key] for r in renders if r.key in curves})
    if not blind:  # per-preset analysis figures carry preset names
        for r in renders:
            figures += [(f"{r.label}: {title}", png) for title, png in comparison.figures.get(r.key, {}).items()]
    figure_html = "".join(f"<div class='figure'><div class='muted'>{_e(t)}</div><img alt='{_e(t)}' "
                          f"src='data:image/png;base64,{base64.b64encode(p).decode('ascii')}'></div>"
                          for t, p in figures)

    buttons = "".join(f"<button data-index='{i}' title='{_e(r.kind)}'><span class='k'>{i + 1 if i < 9 else ''}</span> "
                      f"{_e(shown[r.key])}</button>" for i, r in enumerate(renders))
    if blind:
        buttons += "<button data-index='-1' data-x='1' title='the unknown of the ABX trial'><span class='k'>x</span> X</button>"
    match = comparison.match
    span = ("the whole input" if limit == n else
            f"{excerpt.start / rate:.1f}–{excerpt.stop / rate:.1f} s ({limit / rate:.1f} s; {excerpt.how}) of the "
            f"input's {n / rate:.1f} s")
    excerpt_note = (f"The players hold {span}, from 0:00 on the timeline; {audio_format.upper()} 16-bit, "
                    f"{rate:g} Hz. Metrics are over the whole input.")
    notes = "".join(f"<div class='note'>{_e(note)}</div>" for note in comparison.notes)
    abx_html = key_html = ""
    if blind:
        def options(chosen: int) -> str:
            return "".join(f"<option value='{i}'{' selected' if i == chosen else ''}>{_e(shown[r.key])}</option>"
                           for i, r in enumerate(renders) if r.kind == "preset")

        abx_html = f"""<h2>ABX test</h2><div id="abx">
<p class="muted">Pick two versions, then per trial listen to A, B and X (key <b>x</b>) and say which one X is.
X is A or B at random in every trial. The result is shown when you finish: the one-sided binomial
p-value P(at least k of n correct if you were guessing).</p>
<p>compare <select id="abx-pair-a">{options(abx_pair[0])}</select> with
<select id="abx-pair-b">{options(abx_pair[1])}</select>
<button id="abx-pair-go">start a new run</button></p>
<p><span id="abx-a"></span> &nbsp; <span id="abx-b"></span> &nbsp; <span id="abx-count" class="muted"></span></p>
<p><button id="abx-answer-a">X is A</button> <button id="abx-answer-b">X is B</button>
<button id="abx-finish">finish and show the result</button></p>
<p id="abx-result"></p><table id="abx-table"></table><a id="abx-download" download="abx-results.json" hidden>download the answers (JSON)</a>
</div>"""
        key_html = f"""<h2>Key</h2><p class="muted">The names behind the labels are stored in this file.
<button id="key-reveal">reveal the key</button> <span id="key-seed"></span></p><table id="key-table"></table>
{_json_script("soundstage-key", key_payload)}"""
    table = _table(comparison, labels)
    if blind:
        table = f"<details><summary>measurements (they may give the versions away)</summary>{table}</details>"
    title = "soundstage comparison" + (" (blind)" if blind else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}: {_e(comparison.provenance['input'])}</title><style>{STYLE}</style></head><body>
<h1>{_e(title)}</h1>
<p class="muted">{_e(comparison.provenance['input'])} · room {_e(comparison.provenance['room'])} ·
head {_e(comparison.provenance['head'])} · {_e(comparison.provenance['date_utc'])}</p>
<p>Every version is heard on headphones through the listening simulation and is loudness-matched
to {match.matched_lufs:.1f} LUFS (ITU-R BS.1770, within ±0.1 LU; sample peaks at most {match.ceiling_dbfs:g} dBFS).
Keys <b>1</b>–<b>9</b> switch versions, <b>space</b> plays and pauses; switching keeps the position.</p>
{notes}<div id="errors"></div>
<div class="transport"><button id="play">Play</button><span id="time">0:00.00</span>
<input id="timeline" type="range" min="0" max="{limit / rate:.3f}" step="0.01" value="0">
<label><input id="matched" type="checkbox" checked> loudness-matched</label>
<label>volume <input id="volume" type="range" min="-40" max="0" step="1" value="0"></label></div>
<div class="transport"><label><input id="loop-on" type="checkbox"> loop</label>
from <input id="loop-start" type="number" min="0" step="0.1" value="0" style="width:6em"> s
<button id="loop-set-start">start = now</button>
to <input id="loop-end" type="number" min="0" step="0.1" value="{limit / rate:.2f}" style="width:6em"> s
<button id="loop-set-end">end = now</button> <span id="status" class="muted">decoding…</span></div>
<div class="players">{buttons}</div>
<p class="muted" id="excerpt">{_e(excerpt_note)}</p>
{abx_html}
<h2>Measurements</h2>{table}
<p class="muted">Loudness, range and peaks of the headphone renders; loudness range per EBU Tech 3342; true peak
approximated by 4× oversampling; latency is the processor's streaming latency. Spatial columns come from
soundstage.monitor.analysis where available (— otherwise).</p>
<h2>Figures</h2>{figure_html}
<h2>Provenance</h2>{_provenance_html(comparison.provenance, blind)}
{key_html}
{_json_script("soundstage-data", json.dumps(data))}
<script>{SCRIPT}</script>
</body></html>
"""

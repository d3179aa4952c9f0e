"""``index.html`` of ``soundstage demo``: every render playable on headphones, level-matched,
beside the ±30° reference, the input and each enclosure unprocessed, with each preset's key
figures, its analysis plots and what to listen for.

The page links the WAV files next to it (no copies inside the page) and matches levels in the
player: each ``<audio>`` element gets a volume (≤ 1) that brings its ITU-R BS.1770 loudness
(pyloudnorm) down to the quietest version's, so switching compares spatial impression, not level.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

__all__ = ["LISTEN_FOR", "loudness_volumes", "demo_page_html"]

#: What a listener should notice, in the order of the page.
LISTEN_FOR = (
    "Width: on the ±30° reference the hard-panned instruments sit well outside the head, left and right. "
    "A good preset puts them nearly as wide; the unprocessed enclosure collapses them toward the middle.",
    "The phantom centre: the voice-like part should stay a small, stable point straight ahead, not smeared "
    "or pulled to one side.",
    "Colour: the processed versions should not sound thinner, boxier or harsher than the reference.",
    "Switch between versions while the music plays (they are level-matched): differences in level would "
    "otherwise pass for differences in width.",
)


def loudness_volumes(paths: dict[str, Path]) -> dict[str, dict]:
    """Per key: ``{"lufs": integrated loudness, "volume": player volume}``; the quietest version
    plays at volume 1 and every other one is turned down to its loudness (silence: volume 1)."""
    import pyloudnorm
    import soundfile

    loudness = {}
    for key, path in paths.items():
        audio, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
        value = pyloudnorm.Meter(rate).integrated_loudness(audio)
        loudness[key] = float(value) if np.isfinite(value) else None
    measured = [v for v in loudness.values() if v is not None]
    floor = min(measured) if measured else 0.0
    return {key: {"lufs": value, "volume": 1.0 if value is None else float(10 ** ((floor - value) / 20))}
            for key, value in loudness.items()}


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _player(key: str, title: str, src: str, level: dict) -> str:
    lufs = "—" if level["lufs"] is None else f"{level['lufs']:.1f} LUFS"
    return (f"<div class='player'><div class='name'>{_e(title)}</div>"
            f"<audio controls preload='auto' data-key='{_e(key)}' data-volume='{level['volume']:.6f}' "
            f"src='{_e(src)}'></audio><div class='muted'>{lufs} as rendered; played at "
            f"{20 * np.log10(max(level['volume'], 1e-12)):+.1f} dB</div></div>")


def _fmt(value, digits: int = 1, unit: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def demo_page_html(summary: dict, levels: dict[str, dict], figures: dict[str, list[str]]) -> str:
    """The page for a demo ``summary`` (as written to ``summary.json``), the player ``levels``
    (:func:`loudness_volumes`, keys ``input``, ``reference``, ``<preset>`` and
    ``<preset>.unprocessed``) and each preset's analysis figures (paths relative to the page)."""
    rows = summary["presets"]
    head = ("<tr><th>preset</th><th>drivers</th><th>χ at the sweet spot</th><th>hard-left image</th>"
            "<th>listening zone</th><th>targets met</th><th>latency</th><th>filter headroom</th></tr>")
    body = []
    for row in rows:
        a = row.get("analysis") or {}
        met = a.get("targets_met")
        body.append(f"<tr><td><a href='#{_e(row['preset'])}'>{_e(row['preset'])}</a></td><td>{len(row['drivers'])}</td>"
                    f"<td>{_fmt(a.get('chi_db'), 1, ' dB')}</td><td>{_fmt(a.get('hard_left_deg'), 0, '°')}</td>"
                    f"<td>{_fmt(a.get('zone_m2'), 3, ' m²')}</td>"
                    f"<td>{'n/a' if met is None else f'{met[0]} of {met[1]}'}</td>"
                    f"<td>{1000 * row['latency_samples'] / summary['sample_rate']:.1f} ms</td>"
                    f"<td>{row['headroom_db']:.1f} dB</td></tr>")
    sections = []
    for row in rows:
        name = row["preset"]
        players = _player(name, f"{name} — processed", row["headphones"], levels[name])
        if f"{name}.unprocessed" in levels:
            players += _player(f"{name}.unprocessed", f"{name} — unprocessed (every stage bypassed)",
                               row["unprocessed_headphones"], levels[f"{name}.unprocessed"])
        images = "".join(f"<figure><img src='{_e(src)}' alt='{_e(Path(src).stem)}'><figcaption>"
                         f"{_e(Path(src).stem.replace('_', ' '))}</figcaption></figure>" for src in figures.get(name, []))
        sections.append(f"<section id='{_e(name)}'><h2>{_e(name)}</h2><div class='players'>{players}</div>"
                        f"<p class='muted'>Driver feeds: <a href='{_e(row['drivers_file'])}'>{_e(row['drivers_file'])}</a> "
                        f"({', '.join(map(_e, row['drivers']))}).</p><div class='figures'>{images}</div></section>")
    listen = "".join(f"<li>{_e(item)}</li>" for item in LISTEN_FOR)
    top = (_player("input", "input (the stereo test mix on headphones)", "input.wav", levels["input"])
           + _player("reference", "reference: a ±30° loudspeaker pair at 2 m", "reference.headphones.wav",
                     levels["reference"]))
    data = json.dumps({"players": len(levels)})
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>soundstage demo</title><style>{_STYLE}</style></head><body><main>
<h1>soundstage demo</h1>
<p>A {summary['seconds']:g} s test mix at {summary['sample_rate']:g} Hz through every built-in enclosure, heard on
headphones through the listening simulation (each enclosure's design head, free field). soundstage
{_e(summary['soundstage'])}.</p>
<h2>What to listen for</h2><ul>{listen}</ul>
<div class="players">{top}</div>
<h2>Presets</h2><table>{head}{''.join(body)}</table>
{''.join(sections)}
</main><script type="application/json" id="demo-data">{data}</script><script>{_SCRIPT}</script></body></html>
"""


_STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
main{max-width:1150px;margin:auto;padding:1em 2em}table{border-collapse:collapse}th,td{border:1px solid #ccc;
padding:.25em .6em;text-align:left}th{background:#eee}.players{display:flex;flex-wrap:wrap;gap:1em;margin:.6em 0}
.player{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em .8em}.name{font-weight:600}
.muted{color:#666;font-size:90%}.figures{display:flex;flex-wrap:wrap;gap:.6em}figure{margin:0;max-width:520px}
img{max-width:100%;border:1px solid #ddd}section{border-top:1px solid #ddd;margin-top:1.5em}"""

# Volumes from the data attributes; one playing at a time (switching keeps the position);
# window.demo.ready resolves with the number of players whose audio decoded.
_SCRIPT = """(function () {
  const players = Array.from(document.querySelectorAll("audio"));
  const demo = { errors: [] };
  window.demo = demo;
  players.forEach((a) => {
    a.volume = Number(a.dataset.volume);
    a.addEventListener("play", () => players.forEach((b) => {
      if (b !== a && !b.paused) { a.currentTime = b.currentTime; b.pause(); }
    }));
  });
  demo.ready = Promise.all(players.map((a) => new Promise((resolve) => {
    const done = (ok) => { if (!ok) demo.errors.push(a.dataset.key); resolve(ok); };
    if (a.readyState >= 1) return done(a.duration > 0);
    a.addEventListener("loadedmetadata", () => done(a.duration > 0), { once: true });
    a.addEventListener("error", () => done(false), { once: true });
  }))).then((ok) => ok.filter(Boolean).length);
})();"""

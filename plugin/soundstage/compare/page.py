"""Style sheet and script of the comparison report (package data kept as Python strings).

The script plays every version through the Web Audio API: all versions are decoded into
AudioBuffers and started together, at the same context time and offset, each through its own
gain node; switching opens one gain node and closes the others (a 3 ms ramp), so the playback
position is shared by construction and a switch is sample-synchronous. It reads the page data
from ``<script type="application/json" id="soundstage-data">`` and, in blind mode, the key from
``id="soundstage-key"`` (base64 JSON, decoded only when the listener asks for it).

``window.soundstage`` exposes the transport (``ready``, ``select``, ``play``, ``pause``,
``position``, ``setMatched``, ``setLoop``) and, in blind mode, the ABX run (``abx``) so the page
can be driven by keyboard, mouse or a test.
"""

from __future__ import annotations

__all__ = ["STYLE", "SCRIPT"]

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 1.5em; color: #1d2329; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #d5dbe1; }
.muted { color: #5f6b76; } .note { background: #fff4d6; border-left: 4px solid #e0a100; padding: .4em .8em; margin: .5em 0; }
#errors { color: #b00020; white-space: pre-wrap; }
.transport { display: flex; flex-wrap: wrap; gap: .6em; align-items: center; margin: .8em 0; }
.transport button { min-width: 5.5em; }
#timeline { flex: 1 1 320px; }
#time { font-variant-numeric: tabular-nums; min-width: 9em; }
.players { display: flex; flex-wrap: wrap; gap: .5em; }
.players button { padding: .55em .9em; border: 2px solid #9aa7b3; border-radius: 6px; background: #f4f6f8; cursor: pointer; }
.players button.selected { border-color: #0062cc; background: #dbeafe; font-weight: 600; }
.players button .k { display: inline-block; min-width: 1.3em; color: #5f6b76; }
button:disabled { opacity: .5; }
table { border-collapse: collapse; font-size: .88em; margin: .5em 0; }
th, td { border: 1px solid #d5dbe1; padding: .25em .5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.reference td { background: #eef5ee; }
img { max-width: 100%; } .figure { margin: .8em 0; }
#abx { border: 1px solid #d5dbe1; padding: .6em 1em; border-radius: 6px; }
#abx-result { font-weight: 600; }
table.prov td { text-align: left; border: none; padding: .1em .8em .1em 0; vertical-align: top; }
table.prov td:first-child { color: #5f6b76; white-space: nowrap; }
code { font-size: .9em; }
"""

SCRIPT = r"""
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("soundstage-data").textContent);
  const $ = (id) => document.getElementById(id);
  const S = { data: data, ctx: null, buffers: [], gains: [], sources: [], master: null, selected: 0,
              showingX: false, playing: false, t0: 0, offset: 0, loopOn: false, loopStart: 0,
              loopEnd: data.excerptS, matched: true, errors: [] };
  window.soundstage = S;
  window.addEventListener("error", (e) => { S.errors.push(String(e.message)); $("errors").textContent = S.errors.join("\n"); });

  function fmt(t) { const m = Math.floor(t / 60); return m + ":" + (t - 60 * m).toFixed(2).padStart(5, "0"); }
  function duration() { return S.buffers.length ? S.buffers[0].duration : data.excerptS; }
  function level(i) { return S.matched ? 1.0 : data.players[i].rawGain; }

  function applyGains(ramp) {
    if (!S.ctx) return;
    const now = S.ctx.currentTime;
    S.gains.forEach((g, i) => {
      const v = i === S.selected ? level(i) : 0.0;
      g.gain.cancelScheduledValues(now);
      if (ramp) { g.gain.setTargetAtTime(v, now, 0.003); } else { g.gain.setValueAtTime(v, now); }
    });
  }

  S.position = function () {
    if (!S.playing) return S.offset;
    let p = S.offset + Math.max(0, S.ctx.currentTime - S.t0);
    if (S.loopOn && S.loopEnd > S.loopStart && p >= S.loopEnd) {
      p = S.loopStart + ((p - S.loopStart) % (S.loopEnd - S.loopStart));
    }
    return Math.min(p, duration());
  };

  function stopSources() {
    S.sources.forEach((s) => { s.onended = null; try { s.stop(); } catch (e) { /* not started */ } s.disconnect(); });
    S.sources = [];
  }

  S.play = function (from) {
    let pos = (from === undefined || from === null) ? S.position() : Number(from);
    if (S.loopOn && (pos < S.loopStart || pos >= S.loopEnd)) pos = S.loopStart;
    if (pos >= duration() - 1e-3) pos = 0;
    stopSources();
    const when = S.ctx.currentTime + 0.05;  // every source starts on the same sample
    S.buffers.forEach((buffer, i) => {
      const src = S.ctx.createBufferSource();
      src.buffer = buffer;
      src.loop = S.loopOn; src.loopStart = S.loopStart; src.loopEnd = S.loopEnd;
      src.connect(S.gains[i]);
      src.start(when, pos);
      S.sources.push(src);
    });
    const first = S.sources[0];
    first.onended = () => { if (S.sources[0] === first) { S.playing = false; S.offset = 0; stopSources(); updateUi(); } };
    S.t0 = when; S.offset = pos; S.playing = true;
    applyGains(false);
    updateUi();
    return S.ctx.resume();
  };

  S.pause = function () {
    if (!S.playing) return;
    S.offset = S.position(); S.playing = false; stopSources(); updateUi();
  };

  S.select = function (i, asX) {
    if (i < 0 || i >= data.players.length) return;
    S.selected = i; S.showingX = !!asX; applyGains(true); updateUi();
  };

  S.setMatched = function (on) { S.matched = !!on; $("matched").checked = S.matched; applyGains(true); };

  S.setLoop = function (start, end, on) {
    const d = duration();
    start = Math.max(0, Math.min(Number(start), d)); end = Math.max(0, Math.min(Number(end), d));
    if (!(end > start + 0.05)) { end = Math.min(d, start + 0.05); }
    S.loopStart = start; S.loopEnd = end; S.loopOn = !!on;
    $("loop-start").value = start.toFixed(2); $("loop-end").value = end.toFixed(2); $("loop-on").checked = S.loopOn;
    if (S.playing) S.play(S.position());  // restart every source together with the new region
  };

  function updateUi() {
    document.querySelectorAll(".players button").forEach((b) => {
      const i = Number(b.dataset.index);
      b.classList.toggle("selected", S.showingX ? b.dataset.x === "1" : (i === S.selected && b.dataset.x !== "1"));
    });
    $("play").textContent = S.playing ? "Pause" : "Play";
  }

  function tick() {
    const p = S.position();
    $("time").textContent = fmt(p) + " / " + fmt(duration());
    if (document.activeElement !== $("timeline")) $("timeline").value = p;
    requestAnimationFrame(tick);
  }

  async function decodeAll() {
    try { S.ctx = new AudioContext({ sampleRate: data.sampleRate }); } catch (e) { S.ctx = new AudioContext(); }
    S.master = S.ctx.createGain(); S.master.connect(S.ctx.destination);
    for (let i = 0; i < data.players.length; i++) {
      const bytes = await (await fetch(data.players[i].src)).arrayBuffer();
      const buffer = await S.ctx.decodeAudioData(bytes);
      const g = S.ctx.createGain(); g.gain.value = 0; g.connect(S.master);
      S.buffers.push(buffer); S.gains.push(g);
      $("status").textContent = "decoded " + (i + 1) + " of " + data.players.length;
    }
    $("timeline").max = duration(); S.setLoop(0, duration(), false);
    $("status").textContent = "ready: " + data.players.length + " versions, " + fmt(duration()) +
      (S.ctx.sampleRate === data.sampleRate ? "" : " (resampled to " + S.ctx.sampleRate + " Hz)");
    document.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    applyGains(false); updateUi(); tick();
    return S.buffers.length;
  }

  // ---------------------------------------------------------------- ABX (blind mode)
  function lnChoose(n, k) { let s = 0; for (let j = 1; j <= k; j++) s += Math.log(n - k + j) - Math.log(j); return s; }
  S.binomialTail = function (k, n) {  // P(at least k correct of n | p = 1/2), one-sided
    let total = 0;
    for (let i = k; i <= n; i++) total += Math.exp(lnChoose(n, i) - n * Math.LN2);
    return Math.min(1, total);
  };
  const abx = { pair: data.abxPair ? data.abxPair.slice() : null, x: null, trials: [], finished: false, pValue: null };
  S.abx = abx;
  function lab(i) { return data.players[i].label; }
  abx.newTrial = function () {
    const bits = new Uint8Array(1); crypto.getRandomValues(bits);
    abx.x = abx.pair[bits[0] & 1];
    $("abx-count").textContent = "trial " + (abx.trials.length + 1) + " (" + abx.trials.length + " answered)";
    if (S.showingX) S.select(abx.x, true);
  };
  abx.setPair = function (a, b) {  // the pair in player order, so "A" is always the earlier label
    a = Number(a); b = Number(b);
    if (a === b) {
      $("abx-result").textContent = "pick two different versions: " + lab(a) + " against itself is no test";
      return false;
    }
    abx.pair = [Math.min(a, b), Math.max(a, b)]; abx.trials = []; abx.finished = false; abx.pValue = null;
    $("abx-a").textContent = "A = " + lab(abx.pair[0]); $("abx-b").textContent = "B = " + lab(abx.pair[1]);
    $("abx-result").textContent = ""; $("abx-table").innerHTML = ""; abx.newTrial();
    return true;
  };
  abx.answer = function (which) {  // 0: "X is A", 1: "X is B"
    if (abx.finished) return;
    const chosen = abx.pair[which];
    abx.trials.push({ a: lab(abx.pair[0]), b: lab(abx.pair[1]), x: lab(abx.x), answer: lab(chosen), correct: chosen === abx.x });
    abx.newTrial();
  };
  abx.finish = function () {
    const n = abx.trials.length, k = abx.trials.filter((t) => t.correct).length;
    abx.finished = true; abx.pValue = n ? S.binomialTail(k, n) : null;
    $("abx-count").textContent = "run finished after " + n + " trial" + (n === 1 ? "" : "s");
    $("abx-result").textContent = n ? (k + " of " + n + " correct; p = P(\u2265" + k + " of " + n +
      " | guessing) = " + abx.pValue.toPrecision(3)) : "no trials answered";
    $("abx-table").innerHTML = "<tr><th>trial</th><th>A</th><th>B</th><th>X was</th><th>answer</th><th>correct</th></tr>" +
      abx.trials.map((t, i) => "<tr><td>" + (i + 1) + "</td><td>" + t.a + "</td><td>" + t.b + "</td><td>" + t.x +
        "</td><td>" + t.answer + "</td><td>" + (t.correct ? "yes" : "no") + "</td></tr>").join("");
    const blob = new Blob([JSON.stringify({ trials: abx.trials, correct: k, n: n, p_value: abx.pValue }, null, 2)],
                          { type: "application/json" });
    $("abx-download").href = URL.createObjectURL(blob); $("abx-download").hidden = false;
    return { k: k, n: n, p: abx.pValue };
  };

  S.revealKey = function () {
    const el = document.getElementById("soundstage-key");
    if (!el) return null;
    const key = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(el.textContent.trim()), (c) => c.charCodeAt(0))));
    $("key-table").innerHTML = "<tr><th>label</th><th>preset</th><th>content hash</th><th>parameters</th></tr>" +
      key.order.map((v) => "<tr><td>" + v.label + "</td><td>" + v.preset + "</td><td><code>" +
        v.content_hash.slice(0, 12) + "</code></td><td><code>" + JSON.stringify(v.parameters) + "</code></td></tr>").join("");
    $("key-seed").textContent = "shuffle seed " + key.seed;
    return key;
  };

  // ---------------------------------------------------------------- wiring
  document.querySelectorAll("button").forEach((b) => { if (b.dataset.always !== "1") b.disabled = true; });
  document.querySelectorAll(".players button").forEach((b) => {
    b.addEventListener("click", () => { if (b.dataset.x === "1") S.select(abx.x, true); else S.select(Number(b.dataset.index)); });
  });
  $("play").addEventListener("click", () => { if (S.playing) S.pause(); else S.play(); });
  $("timeline").addEventListener("change", (e) => { if (S.playing) S.play(Number(e.target.value)); else S.offset = Number(e.target.value); });
  $("matched").addEventListener("change", (e) => S.setMatched(e.target.checked));
  $("volume").addEventListener("input", (e) => { if (S.master) S.master.gain.value = Math.pow(10, Number(e.target.value) / 20); });
  const loopChanged = () => S.setLoop($("loop-start").value, $("loop-end").value, $("loop-on").checked);
  ["loop-start", "loop-end", "loop-on"].forEach((id) => $(id).addEventListener("change", loopChanged));
  $("loop-set-start").addEventListener("click", () => S.setLoop(S.position(), S.loopEnd, S.loopOn));
  $("loop-set-end").addEventListener("click", () => S.setLoop(S.loopStart, S.position(), S.loopOn));
  document.addEventListener("keydown", (e) => {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "SELECT")) return;
    if (e.key >= "1" && e.key <= "9") { S.select(Number(e.key) - 1); e.preventDefault(); }
    else if (e.key === " ") { if (S.playing) S.pause(); else S.play(); e.preventDefault(); }
    else if ((e.key === "x" || e.key === "X") && abx.pair) { S.select(abx.x, true); }
  });
  if (abx.pair) {
    $("abx-pair-go").addEventListener("click", () => abx.setPair($("abx-pair-a").value, $("abx-pair-b").value));
    $("abx-answer-a").addEventListener("click", () => abx.answer(0));
    $("abx-answer-b").addEventListener("click", () => abx.answer(1));
    $("abx-finish").addEventListener("click", () => abx.finish());
    $("key-reveal").addEventListener("click", () => S.revealKey());
    abx.setPair(abx.pair[0], abx.pair[1]);
  }
  S.ready = decodeAll().catch((e) => { S.errors.push("decoding failed: " + e); $("errors").textContent = S.errors.join("\n"); throw e; });
})();
"""

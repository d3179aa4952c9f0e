"""Parameter automation mid-stream: every change lands, in order, without a click.

The click metric (:mod:`soundstage.testing.clicks`) is the residual of a panned 440 Hz sine's
render above 2 kHz; a smooth crossfade keeps it at the static render's level, a jump (a dropped
crossfade, a switch in one step, a gap of silence) raises it by orders of magnitude.
"""

from __future__ import annotations

import gc
import threading

import concurrent.futures
import numpy as np
import pytest

from soundstage.monitor import BinauralProcessor
from soundstage.processor import SpatialProcessor
from soundstage.processor import spatial as spatial_module
from soundstage.processor.redesign import DESIGN_WORKERS
from soundstage.testing.clicks import click_residual, sine_input

SR = 48000.0
BLOCK = 128


def _render(proc, x, changes, every_blocks, wait=True):
    """Stream ``x`` in 128-sample blocks, applying the next of ``changes`` (name, value) every
    ``every_blocks`` blocks after 0.3 s."""
    outs, k = [], 0
    for i, start in enumerate(range(0, x.shape[1], BLOCK)):
        if changes and start > 0.3 * SR and i % every_blocks == 0:
            name, value = changes[k % len(changes)]
            setattr(proc, name, value)
            k += 1
            if wait:
                proc.wait_for_design()
        outs.append(proc(x[:, start:start + BLOCK], SR, reset=False))
    return np.concatenate(outs, axis=1)


@pytest.fixture(scope="module")
def sine():
    return sine_input(1.2, SR)


@pytest.fixture(scope="module")
def static_residual(sine):
    return click_residual(_render(SpatialProcessor("studio-speaker"), sine, [], 1), SR)


@pytest.mark.parametrize("every_blocks", [1, 3, 10])
def test_changes_during_a_crossfade_do_not_click(sine, static_residual, every_blocks):
    # A change that lands while a crossfade runs waits for it instead of cutting it short.
    y = _render(SpatialProcessor("studio-speaker"), sine, [("width_deg", 20.0), ("width_deg", 40.0)], every_blocks)
    assert click_residual(y, SR) <= 5 * static_residual


@pytest.mark.parametrize("preset", ["studio-speaker", "soundbar"])
def test_bypassing_the_upmix_fades_the_centre_extraction(sine, preset):
    static = click_residual(_render(SpatialProcessor(preset), sine, [], 1), SR)
    y = _render(SpatialProcessor(preset), sine, [("bypass", {"upmix"}), ("bypass", set())], 60)
    assert click_residual(y, SR) <= 5 * static


@pytest.mark.parametrize("name, value", [("listener_distance_m", 1.5), ("listener_offset_m", 0.2)])
def test_binaural_listener_move_crossfades_without_a_gap(sine, name, value):
    static_out = _render(BinauralProcessor("studio-speaker"), sine, [], 1)
    y = _render(BinauralProcessor("studio-speaker"), sine, [(name, value)], int(0.5 * SR) // BLOCK)
    window = y[:, int(0.25 * SR):]
    silent_run = max(len(run) for run in np.split(window[0], np.flatnonzero(window[0] != 0)))
    assert silent_run <= 2  # a sine has no exact zeros in a row; a fresh convolver does
    assert click_residual(y, SR) <= 5 * click_residual(static_out, SR)


class _HeldDesigns:
    """Stands in for ``design_filterset``: records the widths designed and holds each design
    until released."""

    def __init__(self, real):
        self.real, self.widths, self.release = real, [], threading.Event()

    def __call__(self, enclosure, listener, design, sample_rate):
        self.widths.append(design.width_deg)
        assert self.release.wait(30)
        return self.real(enclosure, listener, design, sample_rate)


def _stream_until(proc, width, heard, limit=30000):
    """Stream zeros (as a host would) until ``width`` is heard, recording each width adopted."""
    block = np.zeros((2, BLOCK), np.float32)
    for _ in range(limit):
        threading.Event().wait(0.001)
        proc(block, SR, reset=False)
        if heard[-1] != proc.filterset.parameters.width_deg:
            heard.append(proc.filterset.parameters.width_deg)
        if heard[-1] == width:
            return


def test_the_design_in_flight_is_adopted_and_only_the_newest_request_follows(monkeypatch):
    proc = SpatialProcessor("studio-speaker")
    proc(np.zeros((2, BLOCK), np.float32), SR, reset=False)
    held = _HeldDesigns(spatial_module.design_filterset)
    monkeypatch.setattr(spatial_module, "design_filterset", held)
    for width in (20.0, 25.0, 30.0, 35.0):  # 20 starts and runs to its end; 25 starts beside it
        proc.width_deg = width               # (or not yet) and is superseded by 30, then 35
    while len(held.widths) < 2:
        threading.Event().wait(0.001)
    futures = sum(isinstance(o, concurrent.futures.Future) and not o.done() for o in gc.get_objects())
    heard = [proc.filterset.parameters.width_deg]
    held.release.set()
    _stream_until(proc, 35.0, heard)
    assert heard == [30.0, 20.0, 35.0]  # the preset's 30, the design in flight, the newest
    # 25 and 30 may be superseded before the pool starts them (timing): only the ends are fixed.
    assert held.widths[0] == 20.0 and held.widths[-1] == 35.0 and set(held.widths) <= {20.0, 25.0, 30.0, 35.0}
    assert futures <= 2 + DESIGN_WORKERS  # the two kept, and superseded ones still running


class _HeldFirstDesign(_HeldDesigns):
    """Holds the first design until released; the others run at once."""

    def __call__(self, enclosure, listener, design, sample_rate):
        self.widths.append(design.width_deg)
        if len(self.widths) == 1:
            assert self.release.wait(120)
        return self.real(enclosure, listener, design, sample_rate)


def test_the_newest_value_does_not_wait_for_a_stale_design(monkeypatch):
    # Automation stops at 35 while the design of 20 is still running: 35 is designed at once
    # and heard without waiting for 20, whose late result is then dropped (it is older).
    proc = SpatialProcessor("studio-speaker")
    proc(np.zeros((2, BLOCK), np.float32), SR, reset=False)
    held = _HeldFirstDesign(spatial_module.design_filterset)
    monkeypatch.setattr(spatial_module, "design_filterset", held)
    for width in (20.0, 25.0, 30.0, 35.0):
        proc.width_deg = width
    heard = [proc.filterset.parameters.width_deg]
    try:
        _stream_until(proc, 35.0, heard, limit=20000)  # (a host streaming on, 20 s at most)
        still_held = not held.release.is_set()
    finally:
        held.release.set()
    assert heard[-1] == 35.0 and still_held
    assert proc.wait_for_design(30)
    _stream_until(proc, 20.0, heard, limit=50)
    assert heard[-1] == 35.0 and 20.0 not in heard


def test_many_rapid_sets_hold_no_queue():
    proc = SpatialProcessor("studio-speaker")
    proc(np.zeros((2, BLOCK), np.float32), SR, reset=False)
    for k in range(5000):
        proc.width_deg = 20.0 + (k % 2) * 20.0
    pending = [o for o in gc.get_objects() if isinstance(o, concurrent.futures.Future) and not o.done()]
    assert len(pending) <= 2 + DESIGN_WORKERS  # the two kept, and superseded ones still running
    proc.wait_for_design()
    proc(np.zeros((2, BLOCK), np.float32), SR, reset=False)
    assert proc.filterset.parameters.width_deg == 20.0 + (4999 % 2) * 20.0


def test_processors_design_side_by_side(monkeypatch):
    # Two processors changed at once design concurrently: each design waits for the other to
    # start (a single shared design thread would deadlock here until the barrier times out).
    barrier = threading.Barrier(2, timeout=20)
    real = spatial_module.design_filterset

    def design(*args):
        barrier.wait()
        return real(*args)

    procs = [SpatialProcessor("studio-speaker"), SpatialProcessor("studio-speaker")]
    block = np.zeros((2, BLOCK), np.float32)
    for p in procs:
        p(block, SR, reset=False)
    monkeypatch.setattr(spatial_module, "design_filterset", design)
    for k, p in enumerate(procs):
        p.width_deg = 22.0 + k
    for p in procs:
        p.wait_for_design()
        p(block, SR, reset=False)
    assert [p.filterset.parameters.width_deg for p in procs] == [22.0, 23.0]
    assert not barrier.broken


def test_after_automation_stops_the_output_is_the_final_values():
    # A new width every block for 40 blocks, then the stream goes on: once the last design is
    # adopted and its crossfade is over, the output is bitwise that of a processor designed for
    # the final width (with the stream's latency, which automation keeps).
    from dataclasses import replace

    from soundstage import presets

    x = (np.random.default_rng(3).standard_normal((2, int(0.8 * SR))) * 0.1).astype(np.float32)
    widths = np.linspace(20.0, 50.0, 40)
    proc = SpatialProcessor("studio-speaker")
    outs = []
    for i, start in enumerate(range(0, x.shape[1], BLOCK)):
        if i < len(widths):
            proc.width_deg = float(widths[i])
        elif i == len(widths):
            proc.wait_for_design()
        outs.append(proc(x[:, start:start + BLOCK], SR, reset=False))
    preset = presets.load("studio-speaker")
    pinned = replace(preset.parameters, width_deg=float(widths[-1]), adapt_modelling_delay=False,
                     modelling_delay_ms=proc.filterset.latency_samples * 1000.0 / SR)
    reference = SpatialProcessor(preset.enclosure, listener=preset.listener, design=pinned)
    expected = [reference(x[:, start:start + BLOCK], SR, reset=False) for start in range(0, x.shape[1], BLOCK)]
    assert proc.filterset.parameters.width_deg == widths[-1]
    tail = int(0.4 * SR)  # well after the last adoption and its 30 ms crossfade
    np.testing.assert_array_equal(np.concatenate(outs, axis=1)[:, -tail:], np.concatenate(expected, axis=1)[:, -tail:])


def test_a_superseded_design_stops_at_its_next_stage_and_frees_its_worker():
    from soundstage.design.stage_cache import DesignAbandoned, checkpoint
    from soundstage.processor.redesign import DesignQueue

    release, looping, stopped = threading.Event(), threading.Event(), []

    def design(tag):
        if tag == "oldest":
            assert release.wait(30)
        elif tag == "stale":
            looping.set()
            try:
                while True:  # a long design, passing stage boundaries
                    checkpoint()
                    threading.Event().wait(0.001)
            except DesignAbandoned:
                stopped.append(tag)
                raise
        return tag

    queue = DesignQueue(design)
    queue.request("oldest")
    queue.request("stale")
    assert looping.wait(30)
    queue.request("final")  # supersedes "stale", which stops; "final" runs on its worker
    for _ in range(30000):
        if queue.has_ready:
            break
        threading.Event().wait(0.001)
    newest_first = queue.take_ready()
    release.set()
    assert queue.wait(30)
    assert stopped == ["stale"] and newest_first == ("final", None)
    assert queue.take_ready() is None  # the oldest finished later: older than "final", dropped
    assert (queue.started, queue.abandoned) == (3, 1)


def test_automating_distinct_values_leaves_nothing_behind():
    # A host automating through thousands of distinct values: what the processor keeps is
    # bounded (the design caches), not one record per value set.
    from soundstage.design import DesignParameters

    proc = SpatialProcessor("studio-speaker")
    proc(np.zeros((2, BLOCK), np.float32), SR, reset=False)
    for k in range(3000):
        proc.width_deg = 20.0 + k * 1e-3
    assert proc.wait_for_design(60)
    gc.collect()
    assert sum(isinstance(o, DesignParameters) for o in gc.get_objects()) < 500

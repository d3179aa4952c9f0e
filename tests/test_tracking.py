"""Head tracking: the filters follow a moving listener without clicks, renders with a track are
deterministic, and tracking keeps the cancellation where a fixed design loses it."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from soundstage import ListenerTrack, ParameterError, SpatialProcessor
from soundstage.design import design_filterset
from soundstage.monitor import BinauralProcessor
from soundstage.monitor.tracking_analysis import analyze_track
from soundstage.processor.tracking import GridSteps, ListenerGrid
from soundstage.testing.clicks import click_residual, sine_input

SR = 48000.0
BLOCK = 128


def _stream(proc, x, sizes):
    parts, i, k = [], 0, 0
    while i < x.shape[1]:
        n = sizes[k % len(sizes)]
        parts.append(proc(x[:, i:i + n], SR, reset=False))
        i, k = i + n, k + 1
    parts.append(proc.flush())
    return np.concatenate(parts, axis=1)


@pytest.fixture(scope="module")
def short_track():
    # 0.4 s at 30 rows/s from -3 cm to +3 cm: a few grid points, crossfades that overlap rows.
    times = np.arange(12) / 30.0
    return ListenerTrack.from_arrays(times, x_m=0.01, y_m=np.linspace(-0.03, 0.03, 12),
                                     yaw_deg=np.linspace(0.0, 4.0, 12))


def test_streaming_with_a_track_equals_the_one_shot_render(short_track):
    x = (np.random.default_rng(0).standard_normal((2, 24000)) * 0.1).astype(np.float32)
    proc = SpatialProcessor("studio-speaker")
    proc.track = short_track
    one_shot = proc(x, SR)
    assert np.array_equal(proc(x, SR), one_shot)  # a second render: same designs, same samples
    assert np.array_equal(_stream(proc, x, [1, 127, 1000, 333, 4096]), one_shot)
    fixed = SpatialProcessor("studio-speaker")(x, SR)
    assert np.max(np.abs(one_shot - fixed)) > 1e-3  # the track does move the filters


def test_binaural_render_with_a_track_moves_the_listener_deterministically(short_track):
    x = (np.random.default_rng(1).standard_normal((2, 24000)) * 0.1).astype(np.float32)
    ears = BinauralProcessor(SpatialProcessor("studio-speaker"))
    ears.processor.track = short_track
    one_shot = ears(x, SR)
    assert np.array_equal(_stream(ears, x, [3000, 17, 512]), one_shot)
    assert np.max(np.abs(one_shot - BinauralProcessor("studio-speaker")(x, SR))) > 1e-3


def test_a_track_csv_round_trips_and_bad_rows_name_the_line(tmp_path, short_track):
    path = tmp_path / "track.csv"
    short_track.to_csv(path)
    assert ListenerTrack.from_csv(path) == short_track
    path.write_text("time_s,x_m,y_m,z_m,yaw_deg\n0,0,0,0,0\n0.5,0,zero,0,0\n")
    with pytest.raises(ParameterError, match="line 3"):
        ListenerTrack.from_csv(path)
    with pytest.raises(ParameterError, match="strictly increasing"):
        ListenerTrack.from_arrays([0.0, 0.0], y_m=[0.0, 0.1])


@pytest.mark.parametrize("head", [None, "kemar"])
def test_a_lateral_move_keeps_the_cancellation_and_the_image_with_tracking(head):
    # -20 -> +20 cm at 20 cm/s, evaluated halfway between grid points (the worst places) and at
    # the ends; the designs are made on the sphere, the listener may be KEMAR.
    y = np.array([-0.2, -0.13, -0.09, -0.05, 0.01, 0.07, 0.15, 0.2])
    track = ListenerTrack.from_arrays((y + 0.2) / 0.2, y_m=y)
    result = analyze_track("studio-speaker", track, head=head)
    assert np.all(result.separation_tracked_db >= 15.0), result.table()
    assert np.all(result.azimuth_tracked_deg >= 20.0), result.table()
    # The fixed design loses the cancellation 20 cm off (oracles: ≈ 9 dB at 10 cm).
    assert result.separation_fixed_db[0] < 10.0 and result.separation_fixed_db[-1] < 10.0


def test_the_grid_keeps_its_memory_budget_and_drops_the_least_recently_served():
    class Fake:
        def __init__(self):
            self.fir = np.zeros(1000, np.float32)  # 4000 bytes

    grid = ListenerGrid(SpatialProcessor("studio-speaker").listener, GridSteps(), memory_budget_bytes=10000)
    for i in range(5):
        grid.put((i, 0, 0), "k", Fake())
        with grid.lock:
            grid.touch((0, 0, 0), "k")
    assert grid.nbytes <= 10000 and len(grid) == 2
    assert grid.get((0, 0, 0), "k") is not None and grid.get((4, 0, 0), "k") is not None
    assert grid.index_of((0.011, -0.04, 100.0)) == (1, 0, 6)  # nearest point, clipped to ±30°


def test_random_updates_do_not_click_and_land_on_the_design_for_the_final_position():
    rng = np.random.default_rng(7)
    x = sine_input(3.0, SR)
    proc = SpatialProcessor("studio-speaker")
    static = click_residual(_stream(SpatialProcessor("studio-speaker"), x, [BLOCK]), SR)
    # Eight random places in the region, visited in random order (a head moving to and fro);
    # their grid designs are made first (through a track), so every update is served at once.
    places = np.column_stack([rng.uniform(-0.5, 0.5, 8), rng.uniform(-0.3, 0.3, 8), np.zeros(8)])
    yaws = rng.uniform(-30, 30, 8)
    proc.track = ListenerTrack(np.arange(8.0), places, yaws)
    assert len(proc.design_track(SR)) == 9
    proc.track = None
    visits = rng.integers(0, 8, 60)
    updates_end = int(1.8 * SR)
    outs, k = [], 0
    for start in range(0, x.shape[1], BLOCK):
        if 0.2 * SR < start < updates_end and (start // BLOCK) % 12 == 0:
            # 30 updates per second of audio, from another thread.
            mover = threading.Thread(target=proc.set_listener, args=(places[visits[k]],),
                                     kwargs={"yaw_deg": float(yaws[visits[k]])})
            mover.start()
            mover.join()
            k += 1
        if start == updates_end:
            assert proc.wait_for_tracking(120)
        outs.append(proc(x[:, start:start + BLOCK], SR, reset=False))
    y = np.concatenate(outs, axis=1)
    assert not np.isnan(y).any()
    assert click_residual(y, SR) <= 5 * static
    # After the updates: the processor designed for the final position, with the stream's latency.
    final = proc.tracked_listener
    pinned = replace(proc.design_parameters, adapt_modelling_delay=False,
                     modelling_delay_ms=proc.filterset.latency_samples * 1000.0 / SR)
    reference = SpatialProcessor(proc.enclosure, listener=final, design=pinned)
    expected = np.concatenate([reference(x[:, s:s + BLOCK], SR, reset=False) for s in range(0, x.shape[1], BLOCK)],
                              axis=1)
    assert reference.latency_samples == proc.latency_samples
    tail = slice(updates_end + int(0.2 * SR), None)  # after the crossfade and the FIR length
    np.testing.assert_allclose(y[:, tail], expected[:, tail], rtol=0, atol=1e-6)
    assert proc.filterset.fir.tobytes() == design_filterset(proc.enclosure, final, pinned, SR).fir.tobytes()
    assert 0 < proc.tracking_memory_bytes() <= 32 * 1024 * 1024
    proc.stop_tracking()


def test_set_listener_validates_and_never_waits_for_a_design():
    proc = SpatialProcessor("studio-speaker")
    with pytest.raises(ParameterError, match="position_m"):
        proc.set_listener((0.0, 3.0, 0.0))
    with pytest.raises(ParameterError, match="yaw_deg"):
        proc.set_listener((0.0, 0.0, 0.0), yaw_deg=120.0)
    with pytest.raises(TypeError, match="position_m"):
        proc.set_listener("left")
    laptop = SpatialProcessor("laptop")  # 0.5 m away: 45 cm closer puts the head into it
    with pytest.raises(ParameterError, match="into 'laptop'"):
        laptop.set_listener((0.45, 0.0, 0.0))
    with pytest.raises(ParameterError, match="row 1: x_m"):
        laptop.track = ListenerTrack.from_arrays([0.0, 1.0], x_m=[0.0, 0.45])
    x = np.zeros((2, 4800), np.float32)
    proc(x, SR, reset=False)
    proc.set_listener((0.0, 0.25, 0.0))
    # Nothing designed for 25 cm yet: the block plays what it has (no wait), then it lands.
    proc(x, SR, reset=False)
    assert proc.filterset.listener.lateral_offset_m == 0.0
    assert proc.wait_for_tracking(120)
    proc(x, SR, reset=False)
    assert proc.filterset.listener.lateral_offset_m == pytest.approx(0.25)
    proc.stop_tracking()


def test_cli_render_with_a_track_equals_the_library_render_and_analyze_plots_the_path(tmp_path, short_track):
    import json

    import soundfile

    from soundstage.cli import main

    x = (np.random.default_rng(2).standard_normal((2, 24000)) * 0.1).astype(np.float32)
    soundfile.write(tmp_path / "in.wav", x.T, int(SR), subtype="FLOAT")
    short_track.to_csv(tmp_path / "track.csv")
    assert main(["render", str(tmp_path / "in.wav"), "-p", "studio-speaker", "--track", str(tmp_path / "track.csv"),
                 "-o", str(tmp_path / "out.wav"), "--quiet"]) == 0
    rendered, _ = soundfile.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    proc = SpatialProcessor("studio-speaker")
    proc.track = short_track
    assert np.array_equal(rendered.T, proc(x, SR))
    assert main(["render", str(tmp_path / "in.wav"), "-p", "studio-speaker", "--track", str(tmp_path / "track.csv"),
                 "--monitor", "headphones", "-o", str(tmp_path / "ears.wav"), "--quiet"]) == 0
    assert soundfile.info(tmp_path / "ears.wav").channels == 2
    ListenerTrack.from_arrays([0.0, 1.0], y_m=[0.0, 0.1]).to_csv(tmp_path / "move.csv")
    assert main(["analyze", "studio-speaker", "--track", str(tmp_path / "move.csv"), "-o", str(tmp_path / "an"),
                 "--quiet"]) == 0
    result = json.loads((tmp_path / "an" / "track.json").read_text())
    assert result["separation_tracked_db"][0] == pytest.approx(result["separation_fixed_db"][0])  # at the design
    assert result["separation_tracked_db"][1] > result["separation_fixed_db"][1] + 6  # 10 cm off
    assert (tmp_path / "an" / "track.png").stat().st_size > 1000



def test_render_for_regression_takes_a_track(short_track):
    from soundstage.testing import render_for_regression

    x = (np.random.default_rng(3).standard_normal((2, 12000)) * 0.1).astype(np.float32)
    proc = SpatialProcessor("studio-speaker")
    proc.track = short_track
    assert np.array_equal(render_for_regression("studio-speaker", x, track=short_track), proc(x, SR))
    with pytest.raises(ParameterError, match="track"):
        render_for_regression("studio-speaker", x, track="track.csv")


def test_copies_and_pickles_keep_the_track(short_track):
    import copy
    import pickle

    x = (np.random.default_rng(4).standard_normal((2, 12000)) * 0.1).astype(np.float32)
    proc = SpatialProcessor("studio-speaker")
    proc.track = short_track
    expected = proc(x, SR)
    for clone in (copy.copy(proc), copy.deepcopy(proc), pickle.loads(pickle.dumps(proc))):
        assert clone.track == short_track
        assert np.array_equal(clone(x, SR), expected)


def test_a_superseded_grid_design_is_not_taken_for_an_impossible_one():
    # A design abandoned because a newer listener position arrived is a cancellation, not a
    # failure: it must reach the design queue (which drops it) and leave the grid point
    # designable, unlike a position the geometry cannot place.
    from soundstage.design.stage_cache import DesignAbandoned
    from soundstage.processor.tracking import ListenerTracker

    proc = SpatialProcessor("studio-speaker")
    superseded = [True]

    def design(listener, parameters, sample_rate):
        if superseded[0]:
            superseded[0] = False
            raise DesignAbandoned("the design was superseded")
        return design_filterset(proc.enclosure, listener, parameters, sample_rate)

    tracker = ListenerTracker(design, proc.listener, reach=0)
    tracker._target = (proc.listener, proc.design_parameters, 48000.0)
    with pytest.raises(DesignAbandoned):
        tracker._fill()
    assert not tracker._failed
    tracker._fill()  # designed on the next request
    assert tracker.grid.get(tracker.grid.index_of((0.0, 0.0, 0.0)), (proc.design_parameters, 48000.0)) is not None

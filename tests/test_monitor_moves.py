"""The listening simulation moves its listener without computing anything in the audio call."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from soundstage import SpatialProcessor
from soundstage.monitor import BinauralProcessor
from soundstage.monitor import auralizer as auralizer_module
from soundstage.monitor import binaural as binaural_module

SR = 48000.0


def test_a_listener_move_in_the_binaural_monitor_is_computed_off_the_audio_call(monkeypatch):
    calls = []
    original = auralizer_module.binaural_impulse_responses

    def recording(*args, **kwargs):
        calls.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(auralizer_module, "binaural_impulse_responses", recording)
    if hasattr(binaural_module, "binaural_impulse_responses"):
        monkeypatch.setattr(binaural_module, "binaural_impulse_responses", recording)
    ears = BinauralProcessor(SpatialProcessor("compact-speaker"))
    block = np.zeros((2, 512), np.float32)
    ears(block, SR, reset=False)
    calls.clear()
    ears.listener_offset_m = 0.07  # the processor redesigns in the background, the monitor follows
    for _ in range(400):
        ears(block, SR, reset=False)  # the audio calls (main thread)
        if ears._auralizer.listener.lateral_offset_m == pytest.approx(0.07):
            break
        threading.Event().wait(0.005)
    assert ears._auralizer.listener.lateral_offset_m == pytest.approx(0.07)  # the simulated head moved
    assert calls and not any(calls)  # its responses were computed, never in an audio call


def test_a_tracked_listener_moves_the_simulated_head_too():
    ears = BinauralProcessor(SpatialProcessor("compact-speaker"))
    block = np.zeros((2, 512), np.float32)
    ears(block, SR, reset=False)
    ears.processor.set_listener((0.05, -0.04, 0.0), yaw_deg=5.0)
    for _ in range(400):
        ears(block, SR, reset=False)
        if ears._auralizer.listener.lateral_offset_m == pytest.approx(-0.04):
            break
        threading.Event().wait(0.005)
    listener = ears._auralizer.listener
    assert (listener.fore_aft_offset_m, listener.lateral_offset_m, listener.yaw_deg) == pytest.approx((0.05, -0.04, 5.0))
    ears.processor.stop_tracking()

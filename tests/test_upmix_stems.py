"""The upmix on stems: each stem's share of C, L′, R′ with the upmix run on the mixture."""

from __future__ import annotations

import numpy as np
import pytest

from soundstage.testing.upmix_bench import CASES, DRUM_HITS_S, attribute_stems, make_stems

SR = 48000.0


@pytest.fixture(scope="module")
def stems():
    return make_stems(SR, 4.0)


def _case(stems, case):
    return attribute_stems({name: stems[name] for name in CASES[case]}, sample_rate=SR)


@pytest.mark.parametrize("case", ["hard-panned pair", "full mix"])
def test_stem_centres_add_up_to_the_mixture_centre(stems, case):
    """With its gains fixed the upmix is linear: the stems' centres sum to the mixture's."""
    shares, out = _case(stems, case)
    total = sum(share.centre_signal for share in shares.values())
    np.testing.assert_allclose(total, out[2], atol=2e-6)


def test_hard_panned_instruments_stay_out_of_the_centre(stems):
    """Equal-level hard-left and hard-right instruments with overlapping spectra: ≤ −20 dB of
    each in C (a correlation-only centre took M whenever L and R were uncorrelated: −6 dB)."""
    shares, _ = _case(stems, "hard-panned pair")
    for name in ("guitar_left", "keys_right"):
        assert shares[name].centre_db <= -20.0, (name, shares[name].centre_db)
    assert shares["guitar_left"].left_db >= -0.1 and shares["keys_right"].right_db >= -0.1


def test_ambience_keeps_its_width(stems):
    """Decorrelated reverb tails: ≤ −10 dB of their energy in C and corr(L′, R′) not below the
    input's corr(L, R) − 0.1 (all of M used to go to C, leaving L′, R′ in anti-phase, −0.998)."""
    for case in ("ambience", "voice + ambience"):
        share = _case(stems, case)[0]["reverb"]
        assert share.centre_db <= -10.0, (case, share.centre_db)
        assert share.corr_out >= share.corr_in - 0.1, (case, share.corr_in, share.corr_out)


def test_centred_voice_goes_to_the_centre(stems):
    """A centred source is all centre (L′ = R′ = 0), also over ambience (≤ 1 dB short)."""
    alone = _case(stems, "centred voice")[0]["voice"]
    assert alone.centre_db == pytest.approx(-3.01, abs=0.05)  # C = M = the voice; stem energy is 2 channels
    assert alone.left_db <= -40.0
    with_ambience = _case(stems, "voice + ambience")[0]["voice"]
    assert with_ambience.centre_db >= -3.01 - 1.0


def test_panned_source_stays_on_its_side(stems):
    share = _case(stems, "70/30 pan")[0]["pan_70_30"]
    assert share.centre_db <= -20.0
    assert share.corr_out >= 0.99  # L′, R′ keep the source's pan


def test_transient_over_a_steady_source_is_not_captured(stems):
    """A hard-left drum hit over a steady hard-right instrument: ≤ −15 dB of each hit's first
    10 ms in C while the estimator adapts (it used to take the onset whole: −1.3 dB in 2 ms)."""
    shares, _ = _case(stems, "drum over steady")
    drum, centre = stems["drums_left"], shares["drums_left"].centre_signal
    for start in DRUM_HITS_S:
        i = int(start * SR)
        j = i + int(0.010 * SR)
        leak = np.sum(centre[i:j] ** 2) / np.sum(drum[:, i:j] ** 2)
        assert 10 * np.log10(max(leak, 1e-30)) <= -15.0, start

"""hibarivc: new voices from hibari's, by changing its vocoder's input."""

from __future__ import annotations

import numpy as np
import pytest

from ctcbias.data.voices import (
    VC_SETTINGS,
    Prosody,
    Voice,
    _warp_bins,
    synthesize,
    voice_by_id,
)
from ctcbias.errors import DataError


def test_warp_moves_a_spectral_peak_by_the_scale():
    x = np.zeros((601, 3), np.float32)
    x[100] = 1.0
    assert int(_warp_bins(x, 1.2)[:, 0].argmax()) == 120
    assert int(_warp_bins(x, 0.8)[:, 0].argmax()) == 80
    np.testing.assert_allclose(_warp_bins(x, 1.0), x)


def _pitch(wave: np.ndarray) -> float:
    """Median autocorrelation pitch (Hz) of the voiced 40 ms frames of 16 kHz audio."""
    pitches = []
    for start in range(0, len(wave) - 640, 320):
        frame = wave[start : start + 640] - wave[start : start + 640].mean()
        if np.sqrt((frame**2).mean()) < 0.05:
            continue
        ac = np.correlate(frame, frame, "full")[639:]
        lo, hi = 16000 // 400, 16000 // 70  # 70-400 Hz
        lag = lo + int(ac[lo:hi].argmax())
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(16000 / lag)
    return float(np.median(pitches))


def test_converted_voices_change_the_vocoder_input_and_the_pitch(monkeypatch):
    pytest.importorskip("hibari", reason="hibari-tts not installed (pip install -e .[tts])")
    from hibari import dsp

    seen: list[tuple[np.ndarray, np.ndarray]] = []
    synth = dsp.synth

    def spy(lh, th, ln, lr, phi, f0, rng):
        seen.append((lh.copy(), f0.copy()))
        return synth(lh, th, ln, lr, phi, f0, rng)

    monkeypatch.setattr(dsp, "synth", spy)
    monkeypatch.setitem(VC_SETTINGS, "plain", (1.0, 1.0, 0.0, 0.0))
    monkeypatch.setitem(VC_SETTINGS, "lower", (0.8, 0.5, 0.0, 0.0))
    text = "we expect revenue to grow in the second half of the year"
    plain = synthesize(voice_by_id("hibari:heart"), text)
    same = synthesize(Voice("hibarivc", "plain", "kokoro_af_heart"), text)
    np.testing.assert_allclose(same, plain, atol=1e-4)  # no change: hibari's own voice
    low = synthesize(Voice("hibarivc", "lower", "kokoro_af_heart"), text)
    (lh0, f00), (lh1, f01) = seen[-2], seen[-1]
    np.testing.assert_allclose(f01, 0.5 * f00, rtol=1e-5)
    # the spectral envelope's frequency axis is scaled by 0.8: frame by frame, the bin
    # of the strongest harmonic moves down to about 0.8 times its place
    loud = lh0.max(axis=0) > np.percentile(lh0.max(axis=0), 50)
    ratio = np.median(lh1[:, loud].argmax(axis=0) / np.maximum(lh0[:, loud].argmax(axis=0), 1))
    assert 0.75 < ratio < 0.85
    assert 0.4 < _pitch(low) / _pitch(plain) < 0.6
    assert abs(len(low) - len(plain)) < 0.05 * len(plain)  # same words, same pace


def test_unknown_setting_is_a_clear_error():
    pytest.importorskip("hibari", reason="hibari-tts not installed (pip install -e .[tts])")
    assert "m1" in VC_SETTINGS
    with pytest.raises(DataError, match="unknown setting 'zz'"):
        synthesize(Voice("hibarivc", "zz", "kokoro_af_heart"), "hello", Prosody())

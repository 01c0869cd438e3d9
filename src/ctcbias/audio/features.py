"""80-bin log-mel filterbank features at 16 kHz (25 ms Hann window, 10 ms hop).

Frames are taken without centre padding, as Kaldi does: a wave of ``N >= 400`` samples
gives ``T = 1 + (N - 400) // 160`` frames; a shorter wave is zero-padded to one frame.
The transform always runs in float32 (autocast is switched off inside), so the same module
serves CPU training, CUDA and bf16-autocast inference.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ctcbias.audio.load import SAMPLE_RATE
from ctcbias.errors import AudioError

__all__ = [
    "N_MELS",
    "N_FFT",
    "WIN_LENGTH",
    "HOP_LENGTH",
    "Fbank",
    "fbank",
    "num_frames",
    "mel_filterbank",
    "warp_frequency",
]

N_MELS = 80
N_FFT = 512
WIN_LENGTH = 400  # 25 ms at 16 kHz
HOP_LENGTH = 160  # 10 ms at 16 kHz
F_MIN = 20.0
F_MAX = 8000.0
LOG_FLOOR = 1e-6


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(
    n_mels: int = N_MELS,
    n_fft: int = N_FFT,
    sample_rate: int = SAMPLE_RATE,
    f_min: float = F_MIN,
    f_max: float = F_MAX,
) -> np.ndarray:
    """HTK-style triangular mel filters, ``(n_mels, n_fft // 2 + 1)`` float32.

    Triangles are linear on the HTK mel scale (``2595 log10(1 + f / 700)``), centres
    evenly spaced from ``f_min`` to ``f_max``, peak weight 1, no area normalization.
    """
    fft_mel = _hz_to_mel(np.arange(n_fft // 2 + 1) * sample_rate / n_fft)
    edges = np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (fft_mel[None, :] - lower) / (centre - lower)
    falling = (upper - fft_mel[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def num_frames(num_samples: int) -> int:
    """Frames ``Fbank`` makes from ``num_samples`` samples (1 for fewer than 400)."""
    if num_samples < 0:
        raise AudioError(f"num_frames: num_samples must be >= 0, got {num_samples}")
    if num_samples < WIN_LENGTH:
        return 1
    return 1 + (num_samples - WIN_LENGTH) // HOP_LENGTH


class Fbank(torch.nn.Module):
    """Waveform ``(B, N)`` or ``(N,)`` float, 16 kHz, in [-1, 1] -> log-mel
    ``(B, T, 80)`` or ``(T, 80)`` float32, ``T = num_frames(N)``.

    Natural log of mel power plus ``1e-6``. No dither, pre-emphasis or mean
    normalization (normalize in the model if wanted).
    """

    window: torch.Tensor
    mel_matrix: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer(
            "window", torch.hann_window(WIN_LENGTH, periodic=True, dtype=torch.float32)
        )
        # (n_fft // 2 + 1, 80): multiplies the power spectrum on the right
        self.register_buffer("mel_matrix", torch.from_numpy(mel_filterbank().T.copy()))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.dim() not in (1, 2):
            raise AudioError(
                f"Fbank: expected a waveform of shape (N,) or (B, N), got {tuple(wave.shape)}"
            )
        if not wave.is_floating_point():
            raise AudioError(f"Fbank: expected a float waveform, got dtype {wave.dtype}")
        single = wave.dim() == 1
        x = wave.unsqueeze(0) if single else wave
        with torch.autocast(device_type=x.device.type, enabled=False):
            x = x.float()
            if x.shape[-1] < WIN_LENGTH:
                x = torch.nn.functional.pad(x, (0, WIN_LENGTH - x.shape[-1]))
            frames = x.unfold(-1, WIN_LENGTH, HOP_LENGTH) * self.window  # (B, T, 400)
            spectrum = torch.fft.rfft(frames, n=N_FFT)  # (B, T, 257)
            power = spectrum.real.square() + spectrum.imag.square()
            feats = torch.log(power @ self.mel_matrix + LOG_FLOOR)  # (B, T, 80)
        return feats[0] if single else feats

    @staticmethod
    def frame_lengths(sample_lengths: torch.Tensor) -> torch.Tensor:
        """``num_frames`` for a tensor of sample counts (per utterance of a padded batch)."""
        frames = 1 + torch.div(sample_lengths - WIN_LENGTH, HOP_LENGTH, rounding_mode="floor")
        return torch.where(sample_lengths < WIN_LENGTH, torch.ones_like(frames), frames)


@lru_cache(maxsize=8)
def _module(device: str) -> Fbank:
    return Fbank().to(device)


def fbank(wave: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Log-mel features ``(T, 80)`` float32 of one ``(N,)`` 16 kHz waveform, on the
    waveform's device (CPU for numpy input)."""
    if isinstance(wave, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
    else:
        tensor = wave
    if tensor.dim() != 1:
        raise AudioError(f"fbank: expected a waveform of shape (N,), got {tuple(tensor.shape)}")
    with torch.no_grad():
        return _module(str(tensor.device))(tensor)


def warp_frequency(feats: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Log-mel features ``(B, T, F)`` with their frequency axis warped per utterance, as a
    longer or shorter vocal tract would (VTLP/VTLN on the mel scale): bin ``j`` takes the
    value at ``j * alpha[b]`` (linear interpolation between neighbouring bins, clamped at
    the top bin). ``alpha`` is ``(B,)``; 1 leaves the features as they are."""
    b, t, f = feats.shape
    pos = (torch.arange(f, device=feats.device)[None, :] * alpha[:, None]).clamp(max=f - 1)
    pos = pos[:, None, :].expand(b, t, f)
    lo = pos.floor().long()
    hi = torch.clamp(lo + 1, max=f - 1)
    w = (pos - lo).to(feats.dtype)
    return feats.gather(2, lo) * (1 - w) + feats.gather(2, hi) * w

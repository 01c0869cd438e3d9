"""Batched waveform augmentation in torch (runs on the training device, seeded).

``WaveAugment(cfg)(wave (B, N) float32, lengths (B,) long, generator) -> (wave', lengths')``.
Each effect is applied to a random subset of the batch with its own probability:

- speed perturbation 0.9 / 1.0 / 1.1 (band-limited FFT resampling; changes lengths),
- gain (+-6 dB),
- reverberation (synthetic exponentially decaying RIR, FFT convolution),
- additive noise at SNR 5-35 dB: white, pink, brown (spectrally shaped white noise) or
  babble (a sum of other utterances of the batch),
- telephone channel (300-3400 Hz band + 8 kHz mu-law-ish quantization).

Padding stays zero and values stay finite; output lengths are exact for speed changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AugmentConfig:
    p_speed: float = 0.6
    """Probability of a speed change; 0.9 and 1.1 equally likely when applied."""
    speeds: tuple[float, ...] = (0.9, 1.1)
    p_gain: float = 0.5
    gain_db: float = 6.0
    p_reverb: float = 0.3
    rt60: tuple[float, float] = (0.15, 0.8)
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (5.0, 35.0)
    p_telephone: float = 0.1


def _rand(n: int, g: torch.Generator | None, device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device)


def valid_mask(lengths: torch.Tensor, n: int) -> torch.Tensor:
    return torch.arange(n, device=lengths.device)[None, :] < lengths[:, None]


def fft_resample(x: torch.Tensor, new_n: int) -> torch.Tensor:
    """Band-limited resampling of (B, N) to (B, new_n) by truncating/zero-padding the spectrum."""
    n = x.shape[-1]
    spec = torch.fft.rfft(x, dim=-1)
    k = new_n // 2 + 1
    if spec.shape[-1] >= k:
        spec = spec[..., :k]
    else:
        spec = torch.nn.functional.pad(spec, (0, k - spec.shape[-1]))
    return torch.fft.irfft(spec, n=new_n, dim=-1) * (new_n / n)


def speed_perturb(wave, lengths, factors: torch.Tensor):
    """Play row b at ``factors[b]`` x speed (pitch changes too, like sox ``speed``)."""
    rows, out_lens = [None] * wave.shape[0], lengths.clone()
    for f in torch.unique(factors).tolist():
        idx = (factors == f).nonzero().flatten()
        if f == 1.0:
            for i in idx.tolist():
                rows[i] = wave[i]
            continue
        new_n = max(1, int(round(wave.shape[1] / f)))
        res = fft_resample(wave[idx], new_n)
        out_lens[idx] = torch.clamp((lengths[idx].double() / f).round().long(), 1, new_n)
        for j, i in enumerate(idx.tolist()):
            rows[i] = res[j]
    n = int(out_lens.max())
    out = wave.new_zeros((wave.shape[0], n))
    for i, r in enumerate(rows):
        m = min(n, r.shape[0])
        out[i, :m] = r[:m]
    return out * valid_mask(out_lens, n), out_lens


def coloured_noise(shape, exponent: torch.Tensor, g, device) -> torch.Tensor:
    """(B, N) unit-power noise with power spectrum ~ 1/f**exponent[b] (0 white, 1 pink, 2 brown)."""
    b, n = shape
    white = torch.randn(shape, generator=g, device=device)
    spec = torch.fft.rfft(white, dim=-1)
    freqs = torch.arange(spec.shape[-1], device=device, dtype=torch.float32).clamp_min(1.0)
    spec = spec * freqs[None, :] ** (-exponent[:, None] / 2)
    noise = torch.fft.irfft(spec, n=n, dim=-1)
    return noise / noise.pow(2).mean(-1, keepdim=True).clamp_min(1e-12).sqrt()


def synthetic_rir(b: int, rt60: torch.Tensor, g, device, n: int = 8000) -> torch.Tensor:
    """(B, n) impulse responses: direct path + exponentially decaying noise tail."""
    t = torch.arange(n, device=device, dtype=torch.float32) / SAMPLE_RATE
    decay = torch.exp(-6.9078 * t[None, :] / rt60[:, None])  # -60 dB at rt60
    rir = torch.randn((b, n), generator=g, device=device) * decay
    rir[:, :32] = 0.0
    rir = rir / rir.pow(2).sum(-1, keepdim=True).sqrt().clamp_min(1e-8) * 0.5
    rir[:, 0] = 1.0
    return rir


def fft_convolve(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Linear convolution of rows of (B, N) with (B, M), truncated to N."""
    n = x.shape[-1] + h.shape[-1] - 1
    size = 1 << (n - 1).bit_length()
    y = torch.fft.irfft(torch.fft.rfft(x, size) * torch.fft.rfft(h, size), size)
    return y[..., : x.shape[-1]]


def band_limit(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    spec = torch.fft.rfft(x, dim=-1)
    freqs = torch.fft.rfftfreq(x.shape[-1], 1 / SAMPLE_RATE).to(x.device)
    return torch.fft.irfft(spec * ((freqs >= lo) & (freqs <= hi)), n=x.shape[-1], dim=-1)


def power(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return x.pow(2).sum(-1) / lengths.clamp_min(1).to(x.dtype)


class WaveAugment:
    """Callable batched augmentation; see the module docstring."""

    def __init__(self, cfg: AugmentConfig | None = None) -> None:
        self.cfg = cfg or AugmentConfig()

    @torch.no_grad()
    def __call__(
        self, wave: torch.Tensor, lengths: torch.Tensor, g: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """wave: (B, N) float32 in [-1, 1], zero-padded; lengths (B,) -> same, augmented."""
        c, dev = self.cfg, wave.device
        b = wave.shape[0]
        wave = wave.float()
        lengths = lengths.to(dev)
        if c.p_speed > 0 and c.speeds:
            choice = torch.randint(len(c.speeds), (b,), generator=g, device=dev)
            speeds = torch.tensor(c.speeds, device=dev, dtype=torch.float32)[choice]
            factors = torch.where(_rand(b, g, dev) < c.p_speed, speeds, torch.ones_like(speeds))
            if bool((factors != 1.0).any()):
                wave, lengths = speed_perturb(wave, lengths, factors)
        n = wave.shape[1]
        mask = valid_mask(lengths, n).float()
        clean_power = power(wave, lengths)

        if c.p_reverb > 0:
            sel = (_rand(b, g, dev) < c.p_reverb).nonzero().flatten()
            if sel.numel():
                lo, hi = c.rt60
                rt60 = lo + (hi - lo) * _rand(sel.numel(), g, dev)
                rir = synthetic_rir(sel.numel(), rt60, g, dev)
                wet = fft_convolve(wave[sel], rir) * mask[sel]
                scale = (clean_power[sel] / power(wet, lengths[sel]).clamp_min(1e-10)).sqrt()
                wave[sel] = wet * scale[:, None]

        if c.p_noise > 0:
            sel = (_rand(b, g, dev) < c.p_noise).nonzero().flatten()
            if sel.numel():
                k = sel.numel()
                kind = torch.randint(4, (k,), generator=g, device=dev)  # white/pink/brown/babble
                noise = coloured_noise((k, n), kind.clamp(max=2).float(), g, dev)
                if b > 1:
                    babble = sum(torch.roll(wave, s, 0) for s in (1, 2, 3)[: min(3, b - 1)])[sel]
                    babble = babble / power(babble, lengths[sel]).clamp_min(1e-10).sqrt()[:, None]
                    noise = torch.where((kind == 3)[:, None], babble, noise)
                lo, hi = c.snr_db
                snr = lo + (hi - lo) * _rand(k, g, dev)
                noise_power = clean_power[sel] / (10 ** (snr / 10))
                wave[sel] = wave[sel] + noise * noise_power.sqrt()[:, None] * mask[sel]

        if c.p_telephone > 0:
            sel = (_rand(b, g, dev) < c.p_telephone).nonzero().flatten()
            if sel.numel():
                x = band_limit(wave[sel], 300.0, 3400.0)
                peak = x.abs().amax(-1, keepdim=True).clamp_min(1e-6)
                mu = 255.0  # 8-bit mu-law companding as on an 8 kHz phone line
                y = (
                    torch.sign(x / peak)
                    * torch.log1p(mu * (x / peak).abs())
                    / torch.log1p(torch.tensor(mu))
                )
                y = torch.round(y * 127) / 127
                x = torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu * peak
                wave[sel] = x * mask[sel]

        if c.p_gain > 0:
            db = (2 * _rand(b, g, dev) - 1) * c.gain_db
            apply = _rand(b, g, dev) < c.p_gain
            wave = wave * torch.where(apply, 10 ** (db / 20), torch.ones_like(db))[:, None]

        wave = torch.nan_to_num(wave, nan=0.0, posinf=0.0, neginf=0.0).clamp(-4.0, 4.0)
        return wave * mask, lengths

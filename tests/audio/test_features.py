import numpy as np
import pytest
import torch

from ctcbias.audio import SAMPLE_RATE, Fbank, fbank, num_frames
from ctcbias.audio.features import mel_filterbank
from ctcbias.errors import AudioError


def test_num_frames() -> None:
    assert [num_frames(n) for n in (0, 1, 399, 400, 559, 560, 16000)] == [1, 1, 1, 1, 1, 2, 98]
    with pytest.raises(AudioError):
        num_frames(-1)
    lengths = torch.tensor([0, 399, 400, 560, 16000])
    assert Fbank.frame_lengths(lengths).tolist() == [num_frames(int(n)) for n in lengths]


@pytest.mark.parametrize("n", [0, 100, 400, 401, 560, 16000, 12345])
def test_shapes(n: int) -> None:
    module = Fbank()
    single = module(torch.randn(n))
    assert single.shape == (num_frames(n), 80) and single.dtype == torch.float32
    batch = module(torch.randn(3, n))
    assert batch.shape == (3, num_frames(n), 80)
    assert torch.isfinite(batch).all()


def test_batch_matches_single() -> None:
    waves = torch.randn(2, 4000)
    module = Fbank()
    batched = module(waves)
    torch.testing.assert_close(batched[1], module(waves[1]))


def test_mel_filters() -> None:
    matrix = mel_filterbank()
    assert matrix.shape == (80, 257)
    assert (matrix >= 0).all() and (matrix.max(axis=1) > 0).all()
    centres = np.argmax(matrix, axis=1)
    assert (np.diff(centres) >= 0).all()
    assert matrix[:, 0].sum() == 0  # nothing below 20 Hz
    assert "mel_matrix" in dict(Fbank().named_buffers())


@pytest.mark.parametrize("freq", [200.0, 1000.0, 3000.0, 6500.0])
def test_sine_energy_lands_in_right_bin(freq: float) -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    feats = fbank(wave)
    assert feats.shape == (98, 80)
    matrix = mel_filterbank()
    fft_bin = int(round(freq * 512 / SAMPLE_RATE))
    expected = int(np.argmax(matrix[:, fft_bin]))
    assert abs(int(feats.mean(dim=0).argmax()) - expected) <= 1


def test_silence_is_log_floor() -> None:
    feats = fbank(np.zeros(1600, np.float32))
    torch.testing.assert_close(feats, torch.full_like(feats, float(np.log(1e-6))))


def test_autocast_and_half_input() -> None:
    module = Fbank()
    wave = torch.randn(2, 3200)
    reference = module(wave)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = module(wave)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, reference)
    half = module(wave.to(torch.bfloat16))
    assert half.dtype == torch.float32


def test_bad_inputs() -> None:
    module = Fbank()
    with pytest.raises(AudioError, match="shape"):
        module(torch.zeros(1, 2, 400))
    with pytest.raises(AudioError, match="dtype"):
        module(torch.zeros(400, dtype=torch.int16))
    with pytest.raises(AudioError, match="shape"):
        fbank(np.zeros((2, 400), np.float32))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu() -> None:
    wave = torch.randn(2, 16000)
    module = Fbank()
    cpu = module(wave)
    gpu = module.cuda()(wave.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-3, atol=1e-3)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert module(wave.cuda()).dtype == torch.float32

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ctcbias.audio import SAMPLE_RATE, iter_chunks, load_audio
from ctcbias.errors import AudioError


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(wave: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(wave))


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext", "rate"),
    [
        ("WAV", "PCM_16", "wav", 16000),
        ("WAV", "PCM_16", "wav", 8000),
        ("WAV", "FLOAT", "wav", 44100),
        ("FLAC", "PCM_16", "flac", 22050),
        ("FLAC", "PCM_24", "flac", 44100),
        ("OGG", "VORBIS", "ogg", 22050),
        ("OGG", "OPUS", "opus", 48000),
    ],
)
def test_formats_and_rates(tmp_path: Path, fmt: str, subtype: str, ext: str, rate: int) -> None:
    path = tmp_path / f"tone.{ext}"
    sf.write(path, sine(440, 1.0, rate), rate, format=fmt, subtype=subtype)
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - SAMPLE_RATE) <= 0.01 * SAMPLE_RATE
    assert abs(peak_hz(wave) - 440) < 3
    assert 0.3 < np.abs(wave).max() < 0.7


def test_mp3_if_supported(tmp_path: Path) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3")
    path = tmp_path / "tone.mp3"
    sf.write(path, sine(440, 1.0, 44100), 44100, format="MP3")
    wave = load_audio(path)
    assert abs(len(wave) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert abs(peak_hz(wave) - 440) < 3


def test_stereo_is_averaged(tmp_path: Path) -> None:
    left, right = sine(440, 0.5, 16000), sine(1000, 0.5, 16000, amplitude=0.25)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_native_rate_is_untouched_and_soxr_not_imported(tmp_path: Path) -> None:
    x = sine(300, 0.25, 16000)
    path = tmp_path / "a.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    sys.modules.pop("soxr", None)
    np.testing.assert_array_equal(load_audio(path), x)
    assert "soxr" not in sys.modules


def test_bytes_and_file_objects(tmp_path: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, sine(440, 0.5, 8000), 8000, format="WAV", subtype="PCM_16")
    data = buf.getvalue()
    from_bytes = load_audio(data)
    assert len(from_bytes) == 8000
    np.testing.assert_array_equal(load_audio(io.BytesIO(data)), from_bytes)
    path = tmp_path / "b.wav"
    path.write_bytes(data)
    with path.open("rb") as handle:
        np.testing.assert_array_equal(load_audio(handle), from_bytes)
    np.testing.assert_array_equal(load_audio(str(path)), from_bytes)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _wav_bytes(seconds: float = 1.0, rate: int = 16000, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, sine(440, seconds, rate), rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def _flac_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, sine(440, 1.0, 16000), 16000, format="FLAC")
    return buf.getvalue()


def test_bad_inputs_name_the_file(tmp_path: Path) -> None:
    cases = {
        "missing.wav": (None, "no such file"),
        "empty.wav": (b"", "empty"),
        "notes.wav": (b"just some text, not audio at all\n" * 20, "not a readable audio"),
        "header_only.wav": (_wav_bytes()[:44], "zero samples|truncated"),
        "cut.wav": (_wav_bytes()[:16000], "truncated"),
        "cut.flac": (_flac_bytes()[: len(_flac_bytes()) // 2], "truncated|corrupt"),
        "garbage.flac": (b"fLaC" + bytes(range(256)) * 4, "not a readable|corrupt"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(AudioError, match=message) as info:
            load_audio(path)
        assert name in str(info.value)


def test_zero_samples(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="zero samples") as info:
        load_audio(path)
    assert "nothing.wav" in str(info.value)


def test_directory_and_bad_types(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)
    with pytest.raises(AudioError, match="expected a path"):
        load_audio(12345)  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="empty"):
        load_audio(b"")


def test_non_finite_samples(tmp_path: Path) -> None:
    x = sine(440, 0.1, 16000)
    x[10] = np.nan
    x[20] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="2 samples are NaN or infinite") as info:
        load_audio(path)
    assert "nan.wav" in str(info.value)


def test_max_seconds(tmp_path: Path) -> None:
    path = _write(tmp_path / "long.wav", _wav_bytes(seconds=3.0))
    assert len(load_audio(path, max_seconds=3.5)) == 48000
    with pytest.raises(AudioError, match=r"3\.0 s long.*limit of 2 s") as info:
        load_audio(path, max_seconds=2)
    assert "long.wav" in str(info.value)


def test_iter_chunks() -> None:
    wave = np.arange(16000 * 75, dtype=np.float32)
    chunks = list(iter_chunks(wave, chunk_seconds=30, overlap_seconds=1))
    assert [c.start for c in chunks] == [0, 29 * 16000, 58 * 16000]
    assert [len(c.wave) for c in chunks] == [480000, 480000, 75 * 16000 - 58 * 16000]
    for start, piece in chunks:
        np.testing.assert_array_equal(piece, wave[start : start + len(piece)])
    assert chunks[-1].start + len(chunks[-1].wave) == len(wave)
    short = list(iter_chunks(wave[:1000]))
    assert len(short) == 1 and len(short[0].wave) == 1000
    exact = list(iter_chunks(np.zeros(30 * 16000, np.float32)))
    assert len(exact) == 1
    with pytest.raises(AudioError):
        list(iter_chunks(wave, chunk_seconds=1, overlap_seconds=1))
    with pytest.raises(AudioError):
        list(iter_chunks(wave.reshape(2, -1)))

"""Load any audio input as 16 kHz mono float32, with errors that name the input.

soundfile (libsndfile) reads WAV, FLAC, OGG (Vorbis and Opus) and MP3; stereo is averaged
to mono; other sample rates are resampled with soxr (imported only when needed).
"""

from __future__ import annotations

import io
import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import soundfile as sf

from ctcbias.errors import AudioError

__all__ = ["SAMPLE_RATE", "AudioSource", "AudioChunk", "load_audio", "iter_chunks"]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
"""Sample rate (Hz) of every waveform inside ctcbias."""

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
_HEADER_BYTES = 1 << 16  # enough of a WAV file to find its data chunk
_MIN_READ_FRACTION = 0.9  # fewer samples than this share of the header's count: truncated


class AudioChunk(NamedTuple):
    """A piece of a longer waveform."""

    start: int
    """Offset of the first sample in the whole waveform (samples at 16 kHz)."""
    wave: np.ndarray
    """(n,) float32 samples."""


def _describe(source: AudioSource) -> str:
    if isinstance(source, str | os.PathLike):
        return repr(os.fspath(source))
    if isinstance(source, bytes | bytearray | memoryview):
        return f"<{len(source)} bytes>"
    name = getattr(source, "name", None)
    return repr(name) if isinstance(name, str) else "<stream>"


def _wav_truncation(head: bytes, total_size: int) -> str | None:
    """If ``head`` starts a RIFF/WAVE file whose data chunk claims more bytes than the
    file holds, say so (libsndfile silently reads what is there)."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        if chunk_id == b"data":
            if size in (0, 0xFFFFFFFF):  # streamed WAV: size never filled in
                return None
            available = max(total_size - (pos + 8), 0)
            # A little slack: some writers round the size; a cut file misses far more.
            if available < _MIN_READ_FRACTION * size:
                return (
                    f"truncated: the WAV header declares {size} bytes of audio, "
                    f"the file holds {available}"
                )
            return None
        pos += 8 + size + (size & 1)
    return None


def _open_input(source: AudioSource, name: str) -> tuple[BinaryIO | str, str | None]:
    """What to hand to soundfile, and a truncation note found by peeking at the header."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"audio file {name}: no such file")
        if path.is_dir():
            raise AudioError(f"audio file {name}: is a directory, expected an audio file")
        try:
            size = path.stat().st_size
            if size == 0:
                raise AudioError(f"audio file {name}: empty file (0 bytes)")
            with path.open("rb") as handle:
                head = handle.read(_HEADER_BYTES)
        except OSError as exc:
            raise AudioError(f"audio file {name}: cannot read ({exc})") from exc
        return str(path), _wav_truncation(head, size)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise AudioError(f"audio input {name}: empty (0 bytes)")
        return io.BytesIO(data), _wav_truncation(data[:_HEADER_BYTES], len(data))
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            raise AudioError(f"audio input {name}: a text stream, expected a binary stream")
        if not data:
            raise AudioError(f"audio input {name}: empty stream (0 bytes)")
        return io.BytesIO(data), _wav_truncation(data[:_HEADER_BYTES], len(data))
    raise AudioError(
        f"audio input of type {type(source).__name__}: expected a path, bytes or a binary "
        "file object"
    )


def _libsndfile_message(exc: Exception) -> str:
    return str(getattr(exc, "error_string", None) or exc).strip()


def _too_long(name: str, seconds: float, max_seconds: float) -> AudioError:
    return AudioError(
        f"audio input {name}: {seconds:.1f} s long, longer than the limit of {max_seconds:g} s"
    )


def load_audio(source: AudioSource, *, max_seconds: float | None = None) -> np.ndarray:
    """Read ``source`` as a (n,) float32 mono waveform at ``SAMPLE_RATE`` (16 kHz).

    ``source`` is a path, the bytes of a file, or a binary file object. Raises
    ``AudioError`` naming the input when it is missing, empty, not audio, truncated or
    corrupt, holds no samples or non-finite samples, or lasts longer than
    ``max_seconds``.
    """
    name = _describe(source)
    target, truncation = _open_input(source, name)
    if truncation:
        raise AudioError(f"audio input {name}: {truncation}")
    try:
        with sf.SoundFile(target) as handle:
            rate, declared, fmt = handle.samplerate, handle.frames, handle.format
            if rate <= 0:
                raise AudioError(f"audio input {name}: sample rate {rate} Hz is not valid")
            if max_seconds is not None and 0 < declared < 2**62 and declared / rate > max_seconds:
                raise _too_long(name, declared / rate, max_seconds)
            data = handle.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, OSError) as exc:
        raise AudioError(
            f"audio input {name}: not a readable audio file, or truncated/corrupt "
            f"({_libsndfile_message(exc)})"
        ) from exc
    if data.shape[0] == 0:
        raise AudioError(f"audio input {name}: holds zero samples")
    if 0 < declared < 2**62 and data.shape[0] < _MIN_READ_FRACTION * declared:
        message = (
            f"audio input {name}: truncated: the header declares {declared} samples, "
            f"only {data.shape[0]} could be read"
        )
        if fmt != "MP3":
            raise AudioError(message)
        log.warning("%s (MP3 lengths are estimates; using what was read)", message)
    if max_seconds is not None and data.shape[0] / rate > max_seconds:
        raise _too_long(name, data.shape[0] / rate, max_seconds)
    if not np.isfinite(data).all():
        bad = int((~np.isfinite(data)).sum())
        raise AudioError(f"audio input {name}: {bad} samples are NaN or infinite")
    wave = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if rate != SAMPLE_RATE:
        import soxr  # lazy: only needed when resampling

        wave = soxr.resample(wave, rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(wave, dtype=np.float32)


def iter_chunks(
    wave: np.ndarray, chunk_seconds: float = 30.0, overlap_seconds: float = 1.0
) -> Iterator[AudioChunk]:
    """Split a (n,) 16 kHz waveform into chunks of ``chunk_seconds`` that overlap by
    ``overlap_seconds``; the last chunk may be shorter. A wave no longer than one chunk
    is yielded whole. Chunks are views, not copies."""
    if wave.ndim != 1:
        raise AudioError(f"iter_chunks: expected a (n,) waveform, got shape {wave.shape}")
    size = int(round(chunk_seconds * SAMPLE_RATE))
    overlap = int(round(overlap_seconds * SAMPLE_RATE))
    if size <= 0 or overlap < 0 or overlap >= size:
        raise AudioError(
            f"iter_chunks: need chunk_seconds > overlap_seconds >= 0, got "
            f"chunk_seconds={chunk_seconds}, overlap_seconds={overlap_seconds}"
        )
    step = size - overlap
    total = wave.shape[0]
    start = 0
    while True:
        yield AudioChunk(start, wave[start : start + size])
        if start + size >= total:
            return
        start += step

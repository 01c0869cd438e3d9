"""ctcbias.audio: load any audio as 16 kHz mono float32, and log-mel features."""

from ctcbias.audio.features import Fbank, fbank, num_frames, warp_frequency
from ctcbias.audio.load import SAMPLE_RATE, AudioChunk, iter_chunks, load_audio

__all__ = [
    "SAMPLE_RATE",
    "AudioChunk",
    "Fbank",
    "fbank",
    "iter_chunks",
    "load_audio",
    "num_frames",
    "warp_frequency",
]

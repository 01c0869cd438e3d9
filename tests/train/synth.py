"""Synthetic speech for training tests: espeak-ng sentences written as a manifest."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import soundfile as sf

ESPEAK = shutil.which("espeak-ng")

SENTENCES = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "she sells sea shells",
    "we went home early",
    "the sun is very hot",
    "open the red door",
    "he reads a good book",
    "my friend likes green tea",
    "turn left at the bank",
    "the train was late again",
    "call me after lunch",
    "this is a small test",
    "birds sing in the morning",
    "please close the window",
    "the water is cold",
    "i need a new phone",
    "they play music at night",
    "the car is parked outside",
    "put the milk in the fridge",
    "rain fell all day long",
    "the shop opens at nine",
    "send the letter today",
    "her coat is blue",
    "the baby is asleep",
    "we can meet on monday",
    "my brother lives in town",
    "the clock stopped",
    "bring your own lunch",
    "the movie was funny",
    "walk to the station",
]


def synthesize(
    out_dir: Path, sentences=SENTENCES, voice: str = "en-us", speed: int = 160, name: str = "train"
) -> Path:
    """Write one wav per sentence and ``<name>.jsonl``; returns the manifest path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(sentences):
        wav = out_dir / f"{name}_{i:03d}.wav"
        if not wav.exists():
            subprocess.run(
                [ESPEAK, "-v", voice, "-s", str(speed), "-w", str(wav), text],
                check=True,
                capture_output=True,
            )
        info = sf.info(str(wav))
        lines.append(
            {
                "id": f"{name}_{i:03d}",
                "audio": wav.name,
                "duration": info.duration,
                "text": text,
                "speaker": voice,
                "split": name,
            }
        )
    manifest = out_dir / f"{name}.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return manifest

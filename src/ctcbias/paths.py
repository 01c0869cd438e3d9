"""Where things live: the data root, the shared data folder, the shipped assets."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
DEFAULT_MODEL_DIR = ASSETS_DIR / "default"


def data_root() -> Path:
    """Root of built corpora and evaluation sets: $CTCBIAS_DATA, default ./data."""
    return Path(os.environ.get("CTCBIAS_DATA", "data")).resolve()


def shared_data() -> Path:
    """The read-only shared data folder: $CTCBIAS_SHARED, default ../shared/data
    relative to the repository (or to the working directory)."""
    env = os.environ.get("CTCBIAS_SHARED")
    if env:
        return Path(env).resolve()
    repo = PACKAGE_DIR.parent.parent
    for cand in (repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if cand.is_dir():
            return cand.resolve()
    return (repo.parent / "shared" / "data").resolve()

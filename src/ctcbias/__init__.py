"""ctcbias: teach CTC speech recognizers new words at inference time.

    from ctcbias import Recognizer
    rec = Recognizer.from_pretrained()
    result = rec.transcribe("call.wav", catalog=rec.compile_catalog(["Pertzye"]))

Names are imported lazily so that ``import ctcbias`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Recognizer", "EntityCatalog", "DecodeOptions", "Transcript", "__version__"]

_LAZY = {
    "Recognizer": "ctcbias.recognizer",
    "EntityCatalog": "ctcbias.catalog",
    "DecodeOptions": "ctcbias.decode",
    "Transcript": "ctcbias.decode",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ctcbias' has no attribute {name!r}")

"""The shipped model, loaded once for all recognizer tests."""

from __future__ import annotations

import pytest

from ctcbias.recognizer import Recognizer, default_model_path


@pytest.fixture(scope="session")
def rec() -> Recognizer:
    assert default_model_path().is_file(), "the default model must ship with the package"
    return Recognizer.from_pretrained()

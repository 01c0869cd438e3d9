"""Shared fixtures and markers."""

from __future__ import annotations

import pytest

from ctcbias.paths import shared_data


@pytest.fixture(scope="session")
def shared():
    root = shared_data()
    if not (root / "entities").is_dir():
        pytest.skip(f"needs ../shared/data (not found at {root})")
    return root

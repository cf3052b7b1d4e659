"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_path() -> Path:
    """Where the real grid and weather files live: $SIM_SHARED_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("SIM_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real data directory; tests that need it are skipped, with the reason, where it is absent."""
    path = shared_data_path()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set SIM_SHARED_DATA to the shared/data folder)")
    return path

"""Shared test helpers: paths to the shared real data and a Beam runner choice."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FURUI_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared(*parts: str) -> Path:  # noqa: D401
    """Path under ../shared/data; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


# In-process runner for TestPipeline: furui's LocalRunner (Beam's FnApiRunner),
# because Beam's implicit default and its DirectRunner both try to download
# Prism from github.com first (pipeline/runner.py).
IN_MEMORY = ["--runner=pipeline.runner.LocalRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1"]


def load_script(name: str):
    """Imports ``scripts/<name>.py`` (scripts are not a package) for testing."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

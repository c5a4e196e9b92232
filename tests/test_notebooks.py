"""Executes the notebooks in ``notebooks/`` with nbclient against a run output.

Twice: against a synthetic output built by ``tests/pipeline/conftest.py`` (exact
expectations), and against the bundled sample run (``furui run`` once per
session; or ``$FURUI_OUTPUT`` when set, e.g. a run made by CI beforehand).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.pipeline.conftest import build_output, sample_run_output

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "explore_output.ipynb"


def _outputs(nb) -> tuple[str, int]:
    """All text outputs joined, and the number of PNG outputs."""
    texts, pngs = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append(out["text"])
            data = out.get("data", {})
            texts.append(data.get("text/plain", ""))
            texts.append(data.get("text/html", ""))
            pngs += "image/png" in data
    return "\n".join(texts), pngs


@pytest.mark.parametrize("which", ["synthetic", pytest.param("sample", marks=pytest.mark.slow)])
def test_explore_output_notebook_runs(which, tmp_path, tmp_path_factory, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if which == "sample":
        out = os.environ.get("FURUI_OUTPUT") or sample_run_output(tmp_path_factory)
    else:
        out = build_output(str(tmp_path / "out"))
    synthetic = which == "synthetic"
    monkeypatch.setenv("FURUI_OUTPUT", out)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    text, pngs = _outputs(nb)
    assert f"run output: {Path(out).resolve()}" in text
    assert pngs >= 2  # funnel and length plots
    assert "near_dedup" in text or not synthetic
    if synthetic:
        assert "40 documents, 140 rejects" in text
        assert "too_few_hiragana" in text and "rej-hiragana_ratio-too_few_hiragana-0" in text
        assert "吾輩は猫である" in text  # kept sample shows the Japanese text
        # The hosts table: stats.json's count beside the one over the documents' URLs.
        assert "1 hosts; documents without one: 0" in text
        assert re.search(r"example\.jp\s+40\s+\d+\s+40\b", text), "hosts row with both counts"
    else:
        # The hosts table: stats.json's ranking beside the count over the documents' URLs.
        import json

        stats = json.loads((Path(out) / "stats.json").read_text(encoding="utf-8"))
        first = stats["hosts"]["top"][0]
        assert f"{stats['hosts']['distinct']:,} hosts; documents without one: 0" in text
        assert re.search(rf"{re.escape(first['host'])}\s+{first['documents']}\s+{first['chars']}\s+"
                         rf"{first['documents']}\b", text), "hosts row with both counts"

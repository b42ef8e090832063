"""The notebooks are saved as they should be read on GitHub: run, with outputs, no widget state."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_story_is_all_there():
    assert {p.stem for p in NOTEBOOKS} >= {"quickstart", "bayesian_regression", "eight_schools",
                                           "transfer_learning", "bayesian_neural_net", "serving", "federated_learning",
                                           "model_comparison", "pipeline"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_with_outputs_and_without_widget_state(path):
    notebook = json.loads(path.read_text())
    assert "widgets" not in notebook["metadata"]
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), "run the notebook top to bottom before saving it"
    assert any(c["outputs"] for c in code)

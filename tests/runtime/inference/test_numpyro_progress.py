"""NumPyro's progress bar counts divergent transitions as they come, over every chain; showing it changes no draw,
and its count is the fit's. A short fit's draws come in one piece, a long one's in several."""

import re

import numpy as np
import pytest

import ainative
from ainative.runtime.inference import numpyro_backend
from tests.runtime.inference.test_diagnostics import CENTRED, SIGMA, Y


@pytest.mark.parametrize("seconds", [numpyro_backend.SECONDS_A_PIECE, 1e-9], ids=["short fit", "long fit"])
def test_the_progress_bar_counts_the_divergent_draws_and_changes_no_draw(capfd, monkeypatch, seconds):
    monkeypatch.setattr(numpyro_backend, "SECONDS_A_PIECE", seconds)
    model = ainative.model(CENTRED, header="centred(σ, y) --backend numpyro")
    shown = model.fit({"sigma": SIGMA, "y": Y}, num_warmup=40, num_samples=153, seed=1)
    err = capfd.readouterr().err
    counts = [int(n) for n in re.findall(r"divergences=(\d+)", err)]
    diverged = int(shown.stats["diverging"].sum())
    assert counts and counts[-1] == diverged > 0
    assert counts == sorted(counts), "the count went down"
    assert "193/193" in err, "the bar did not reach the last draw"
    if seconds < 1:
        assert all(f"{40 + 16 * k}/193" in err for k in range(1, 10)), "a long fit did not come in pieces of 16"
    quiet = model.fit({"sigma": SIGMA, "y": Y}, num_warmup=40, num_samples=153, seed=1, progress=False)
    assert "divergences=" not in capfd.readouterr().err
    for name in shown.chains:
        np.testing.assert_array_equal(shown.chains[name], quiet.chains[name])
    for name in shown.stats:
        np.testing.assert_array_equal(shown.stats[name], quiet.stats[name])

"""Pyro's progress bar counts divergent transitions as they happen: its last count is the fit's."""

import re

import ainative
from tests.runtime.inference.test_diagnostics import CENTRED, SIGMA, Y


def test_the_progress_bar_counts_the_divergent_draws(capfd, monkeypatch):
    monkeypatch.delenv("CI", raising=False)  # Pyro hides its progress bars where CI is set
    model = ainative.model(CENTRED, header="centred(σ, y) --backend pyro")
    posterior = model.fit({"sigma": SIGMA, "y": Y}, num_chains=1, num_warmup=40, num_samples=150, seed=1)
    shown = re.findall(r"divergences=(\d+)", capfd.readouterr().err)
    diverged = int(posterior.stats["diverging"].sum())
    assert shown and int(shown[-1]) == diverged > 0
    assert [int(n) for n in shown] == sorted(int(n) for n in shown), "the count went down"

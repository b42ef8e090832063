"""``Posterior``: draws from a fitted probabilistic model, and their summary table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Posterior:
    """Posterior draws by variable, grouped by chain: ``chains[name]`` is ``(chains, draws, *shape)``."""

    model: str
    backend: str
    method: str
    chains: dict[str, np.ndarray]
    history: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: each class-label latent (``z ~ Categorical(θ)``) and its number of classes
    classes: dict[str, int] = field(default_factory=dict)

    @property
    def samples(self) -> dict[str, np.ndarray]:
        """Every draw of every chain, flattened: ``samples[name]`` is ``(draws, *shape)``."""
        return {k: v.reshape((-1, *v.shape[2:])) for k, v in self.chains.items()}

    @property
    def num_draws(self) -> int:
        first = next(iter(self.chains.values()), None)
        return 0 if first is None else first.shape[0] * first.shape[1]

    def mean(self) -> dict[str, np.ndarray]:
        """Posterior means by variable."""
        return {k: v.mean(axis=0) for k, v in self.samples.items()}

    def class_probabilities(self, name: str) -> np.ndarray:
        """``P(name = k | data)`` for each entry of a class-label latent, shape ``(*its shape, K)``: the share of
        draws in class ``k`` (labels count from 0). NUTS sums the latent out, and each of its draws comes from its
        posterior given a draw of the rest, so this averages the exact conditional probabilities over the
        posterior, within Monte-Carlo error ``√(p(1-p)/draws)``."""
        from ...errors import ModelError

        if name not in self.classes:
            labels = ", ".join(self.classes) or "none"
            raise ModelError(f"{name} is not a class-label latent of {self.model} (those it has: {labels})")
        draws = self.samples[name]
        return (draws[..., None] == np.arange(self.classes[name])).mean(axis=0)

    def summary(self, probs: tuple[float, ...] = (0.05, 0.5, 0.95)):
        """A table, one row a scalar component: mean, sd, quantiles, n_eff and r_hat.

        The diagnostics are NumPyro's (``numpyro.diagnostics``, plain NumPy), whichever library sampled.
        """
        import pandas as pd
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

        rows, index = [], []
        for name, draws in self.chains.items():
            chains, count = draws.shape[:2]
            flat = draws.reshape(chains, count, -1).astype(np.float64)
            for component in range(flat.shape[-1]):
                x = flat[..., component]
                pooled = x.reshape(-1)
                row = {"mean": float(pooled.mean()), "sd": float(pooled.std(ddof=1))}
                for p, q in zip(probs, np.quantile(pooled, probs)):
                    row[f"{p:.0%}"] = float(q)
                row["n_eff"] = float(effective_sample_size(x)) if count > 3 else np.nan
                row["r_hat"] = float(split_gelman_rubin(x)) if count > 3 else np.nan
                rows.append(row)
                shape = draws.shape[2:]
                index.append(name if not shape else f"{name}[{','.join(map(str, np.unravel_index(component, shape)))}]")
        return pd.DataFrame(rows, index=index)

    def __repr__(self) -> str:
        head = (f"Posterior of {self.model} ({self.backend}, {self.method}): {self.num_draws} draws of "
                f"{', '.join(self.chains)}")
        return head + "\n" + self.summary().round(3).to_string()

    def _repr_html_(self) -> str:
        head = (f"<p>Posterior of <b>{self.model}</b> ({self.backend}, {self.method}): "
                f"{self.num_draws} draws</p>")
        return head + self.summary().round(3).to_html()

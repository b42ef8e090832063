"""``Posterior``: draws from a fitted probabilistic model, their summary table, their ArviZ ``InferenceData``, and
ArviZ's pictures of them."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import npz, write_atomic
from .diagnostics import Diagnostics, halves

#: the summary's columns that are ArviZ's, under the names this table gives them
DIAGNOSTICS = {"ess_bulk": "n_eff", "r_hat": "r_hat"}
#: what ``Posterior.plot`` draws, by kind
PLOTS = {"trace": "trace plot", "rank": "rank plot", "forest": "forest plot",
         "ppc": "posterior predictive check"}
#: the groups of arrays a saved posterior holds, and what its JSON says it is
GROUPS = ("chains", "stats", "log_likelihood", "observed", "constant")
FORMAT = "ainative-posterior/1"
#: how many variables a plot shows when not told which (a figure per variable row stays readable)
MAX_PLOTTED = 8


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
    #: the sampler's statistics per draw, ``(chains, draws)``, by ArviZ's names (NUTS only)
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    #: each observed variable's log-likelihood, entry by entry, at each draw: ``(chains, draws, *its terms)``
    log_likelihood: dict[str, np.ndarray] = field(default_factory=dict)
    #: the observed inputs the fit conditioned on, and the other inputs
    observed: dict[str, np.ndarray] = field(default_factory=dict)
    constant: dict[str, np.ndarray] = field(default_factory=dict)
    #: each variable's dimension names, from the model's shape table (``("K", "K_2")`` for a ``K×K`` matrix)
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: divergences, R̂, ESS, tree depth and BFMI against current thresholds, in words (NUTS only)
    diagnostics: Diagnostics | None = None
    #: the real type the fit computed in, which predictions from it use too
    precision: str = "float32"
    #: the variables computed from the latents by ``=`` statements (the others in ``chains`` are latents)
    deterministic: tuple[str, ...] = ()

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

    def to_arviz(self, predictions: Mapping[str, np.ndarray] | None = None):
        """The fit as an ``arviz.InferenceData`` (ArviZ 0.23), for ArviZ's diagnostics, plots and model comparison.

        Groups: ``posterior`` (latent and deterministic variables, dims named from the shape table),
        ``sample_stats`` (NUTS), ``log_likelihood`` (each observed variable, entry by entry), ``observed_data``,
        ``constant_data``; with ``predictions`` (what ``model.predict(posterior, …)`` returns) also
        ``posterior_predictive``, which ``az.plot_ppc`` reads.
        """
        import arviz as az

        chains, draws = next(iter(self.chains.values())).shape[:2] if self.chains else (1, 0)
        sampled = {"posterior": self.chains, "sample_stats": self.stats, "log_likelihood": self.log_likelihood}
        if predictions is not None:
            sampled["posterior_predictive"] = {k: self._by_chain(np.asarray(v), chains, draws)
                                               for k, v in predictions.items() if not k.startswith("_")}
        attrs = {"model": self.model, "backend": self.backend, "method": self.method}
        groups = {group: az.dict_to_dataset(values, dims=self._group_dims(values, 2), attrs=attrs)
                  for group, values in sampled.items() if values}
        groups.update({group: az.dict_to_dataset(values, dims=self._group_dims(values, 0), default_dims=[],
                                                 attrs=attrs)
                       for group, values in (("observed_data", self.observed), ("constant_data", self.constant))
                       if values})
        return az.InferenceData(**groups)

    @staticmethod
    def _by_chain(values: np.ndarray, chains: int, draws: int) -> np.ndarray:
        """Predictive draws, one per posterior draw in order, grouped by chain as the posterior is."""
        if values.shape[:1] == (chains * draws,):
            return values.reshape((chains, draws, *values.shape[1:]))
        return values[None]

    def _group_dims(self, values: Mapping[str, np.ndarray], leading: int) -> dict[str, list[str]]:
        """Each array's dims after its ``leading`` sample axes: its variable's, from the shape table; an axis whose
        length is not the variable's (a series modelled from its second entry, ``y_t`` for ``t`` in ``2..T``, has
        ``T − 1`` log-likelihood terms) gets its own name, ``T_y``."""
        dims = {}
        for name, array in values.items():
            own, shape = self.dims.get(name, ()), array.shape[leading:]
            if len(own) != len(shape):
                continue
            data = self.observed.get(name, self.constant.get(name))
            full = data.shape if data is not None and data.ndim == len(shape) else shape
            dims[name] = [dim if full[axis] == shape[axis] else f"{dim}_{name}" for axis, dim in enumerate(own)]
        return dims

    @property
    def plottable(self) -> tuple[str, ...]:
        """The real-valued variables, which the plots show: class labels and other whole-number draws are not."""
        return tuple(k for k, v in self.chains.items()
                     if k not in self.classes and np.issubdtype(np.asarray(v).dtype, np.floating))

    def plotted(self, var_names: str | list[str] | None = None) -> tuple[str, ...]:
        """The variables ``plot`` shows: those named, else the first ``MAX_PLOTTED`` real-valued latents (a
        deterministic variable, often one a data point such as a hidden layer, only when named), or deterministic
        variables where no latent is real-valued."""
        from ...errors import ModelError

        plottable = self.plottable
        if not plottable:
            labels = f" (its class labels {', '.join(self.classes)} have class_probabilities)" if self.classes else ""
            raise ModelError(f"the posterior of {self.model} has no real-valued variable to plot{labels}")
        if var_names is None:
            latents = tuple(name for name in plottable if name not in self.deterministic)
            return (latents or plottable)[:MAX_PLOTTED]
        names = [var_names] if isinstance(var_names, str) else list(var_names)
        for name in names:
            if name not in plottable:
                what = "whole numbers, which the plots do not show" if name in self.chains else "not drawn"
                raise ModelError(f"{name!r} in var_names is {what}; {self.model}'s real-valued variables: "
                                 f"{', '.join(plottable)}")
        return tuple(names)

    def plot(self, kind: str = "trace", *, predictions: Mapping[str, np.ndarray] | None = None,
             var_names: str | list[str] | None = None):
        """A matplotlib ``Figure`` that ArviZ draws of this fit (in a notebook it shows itself).

        ``kind`` is "trace" (draws and densities by chain), "rank" (rank histograms by chain: flat when the
        chains agree), "forest" (every variable's interval, chains combined, with ESS and R̂ for NUTS) or "ppc"
        (the observed data against replicated data). ``var_names`` picks the variables (the first
        ``MAX_PLOTTED`` real-valued latents by default, ``plotted``; for "ppc", observed ones). A posterior holds
        draws, not the program, so a "ppc" needs ``predictions``: ``model.replicate(posterior)``, draws of the observed
        variables at the inputs the fit read.
        """
        import matplotlib.pyplot as plt

        from ...errors import ModelError

        if kind not in PLOTS:
            raise ModelError(f"plot kind must be one of {', '.join(PLOTS)}, not {kind!r}")
        before = set(plt.get_fignums())
        try:
            figure = self._draw(kind, predictions, var_names)
        except ModelError:
            raise
        except Exception as error:  # ArviZ's own refusal (draws too alike to bin): said, and no half-drawn figure
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
            raise ModelError(f"ArviZ could not draw the {PLOTS[kind]} of {self.model}'s "
                             f"{', '.join(self.plotted(var_names)) if kind != 'ppc' else 'observed data'} "
                             f"({type(error).__name__}: {error}); name the variables to draw with var_names=[...]"
                             ) from None
        figure.set_layout_engine("constrained")
        figure.suptitle(f"{self.model}: {PLOTS[kind]} — {self._drawn()}", fontsize="medium")
        plt.close(figure)  # returned, not left open: pyplot would show it a second time in a notebook
        return figure

    def _draw(self, kind: str, predictions: Mapping[str, np.ndarray] | None, var_names: str | list[str] | None):
        """The figure ArviZ draws of ``kind``."""
        import arviz as az

        if kind == "ppc":
            names = self._checked_predictions(predictions, var_names)
            data = self.to_arviz(predictions={k: v for k, v in predictions.items() if k in names})
            axes = az.plot_ppc(data, var_names=list(names), num_pp_samples=min(50, self.num_draws),
                               random_seed=0)
        else:
            names = self.plotted(var_names)
            data = self.to_arviz()
            chains = next(iter(self.chains.values())).shape[0]
            if kind == "trace":
                axes = az.plot_trace(data, var_names=list(names), compact=True,
                                     figsize=(10, 1.8 * len(names) + 0.6))
            elif kind == "rank":
                count = sum(int(np.prod(self.chains[name].shape[2:])) for name in names)
                axes = az.plot_rank(data, var_names=list(names), figsize=(10, 2.2 * -(-count // 3) + 0.6))
            else:
                nuts = self.method == "nuts"
                axes = az.plot_forest(data, var_names=list(names), combined=True, ess=nuts,
                                      r_hat=nuts and chains > 1)
        return np.ravel(axes)[0].figure

    def _drawn(self) -> str:
        """What the draws are, for a figure's title: chains of NUTS, or independent draws of SVI's guide."""
        chains, draws = next(iter(self.chains.values())).shape[:2]
        if self.method == "svi":
            return f"SVI: {draws} independent draws from the fitted guide (one row, not a Markov chain)"
        return f"{self.method.upper()}: {chains} chain(s) × {draws} draws"

    def _checked_predictions(self, predictions: Mapping[str, np.ndarray] | None,
                             var_names: str | list[str] | None) -> tuple[str, ...]:
        """The observed variables a posterior predictive check shows, once ``predictions`` replicate each."""
        from ...errors import ModelError

        if not self.observed:
            raise ModelError(f"the fit of {self.model} conditioned on no observed data, so there is nothing for a "
                             "posterior predictive check to compare")
        if predictions is None:
            raise ModelError(f"a posterior predictive check needs replicated data, which the posterior alone "
                             f"cannot draw: posterior.plot('ppc', predictions={self.model}.replicate(posterior))")
        names = tuple(self.observed) if var_names is None else (
            (var_names,) if isinstance(var_names, str) else tuple(var_names))
        for name in names:
            if name not in self.observed:
                raise ModelError(f"{name!r} in var_names is not observed data of {self.model}'s fit; its observed "
                                 f"variables: {', '.join(self.observed)}")
            drawn = np.shape(predictions.get(name, ()))
            if name not in predictions or tuple(drawn[1:]) != self.observed[name].shape:
                shown = "none" if name not in predictions else f"shape {tuple(drawn[1:])}"
                raise ModelError(f"predictions of {name} ({shown}) do not replicate the observed {name} "
                                 f"(shape {self.observed[name].shape}): draw them at the inputs the fit read, "
                                 f"{self.model}.replicate(posterior)")
        return names

    def summary(self, probs: tuple[float, ...] = (0.05, 0.5, 0.95)):
        """A table, one row a scalar component: mean, sd, quantiles, n_eff and r_hat.

        ArviZ's ``az.summary`` computes it: ``n_eff`` is its bulk effective sample size (``ess_bulk``) and ``r_hat``
        its rank-normalised split R̂. ArviZ needs two chains for R̂; with one, ``r_hat`` is that of its two halves.
        """
        import arviz as az

        data = az.from_dict(posterior={k: v.astype(np.float64) for k, v in self.chains.items()})
        stats = {"mean": np.mean, "sd": lambda x: np.std(x, ddof=1),
                 **{f"{p:.0%}": (lambda x, p=p: np.quantile(x, p)) for p in probs}}
        columns = [*stats, *DIAGNOSTICS.values()]
        if not self.chains:
            import pandas as pd

            return pd.DataFrame(columns=columns)
        chains, count = next(iter(self.chains.values())).shape[:2]
        if chains > 1:
            table = az.summary(data, kind="diagnostics", stat_funcs=stats, extend=True, round_to="none")
        else:  # ArviZ's R̂ needs two chains (and warns): that of one chain's two halves, its ESS as it is
            half = count // 2
            stats.update(ess_bulk=lambda x: az.ess(x[None], method="bulk") if count > 3 else np.nan,
                         r_hat=lambda x: az.rhat(halves(x)) if half > 3 else np.nan)
            table = az.summary(data, stat_funcs=stats, extend=False, round_to="none")
        table = table.rename(columns=DIAGNOSTICS)[columns]
        table.index = [label.replace(", ", ",") for label in table.index]
        return table

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fit to ``path`` as one ``.npz`` (NumPy's format; ``np.load`` reads it without pickle): every
        array by group (``chains/mu``), and what the arrays are, with the diagnostics, as JSON in
        ``posterior.json``. ``Posterior.load`` reads it back; the file is replaced atomically."""
        meta = {"format": FORMAT, "model": self.model, "backend": self.backend, "method": self.method,
                "classes": self.classes, "dims": self.dims, "precision": self.precision,
                "deterministic": list(self.deterministic),
                "diagnostics": None if self.diagnostics is None else asdict(self.diagnostics)}
        arrays = {f"{group}/{name}": np.asarray(value) for group in GROUPS
                  for name, value in getattr(self, group).items()}
        return write_atomic(path, npz({"history": np.asarray(self.history), **arrays,
                                       "posterior.json": np.asarray(json.dumps(meta))}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Posterior:
        """The fit ``save`` wrote to ``path``; a file it did not write is a ``DataError`` saying so."""
        from ...errors import DataError

        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            meta = json.loads(str(arrays.pop("posterior.json")))
        except (OSError, ValueError, KeyError) as error:
            raise DataError(f"{path} is not a posterior that Posterior.save wrote ({type(error).__name__}: "
                            f"{error})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DataError(f"{path} is not a posterior that Posterior.save wrote (its posterior.json says "
                            f"format {meta.get('format') if isinstance(meta, dict) else meta!r})")
        groups = {group: {key.split("/", 1)[1]: value for key, value in arrays.items() if key.startswith(group + "/")}
                  for group in GROUPS}
        try:
            report = meta["diagnostics"]
            return cls(meta["model"], meta["backend"], meta["method"], history=arrays["history"], **groups,
                       classes=meta["classes"], dims={name: tuple(dims) for name, dims in meta["dims"].items()},
                       precision=meta["precision"], deterministic=tuple(meta["deterministic"]),
                       diagnostics=None if report is None else Diagnostics(
                           **{k: tuple(v) if isinstance(v, list) else v for k, v in report.items()}))
        except (KeyError, TypeError, AttributeError) as error:
            raise DataError(f"{path} is a posterior file with a part missing or altered ({type(error).__name__}: "
                            f"{error})") from None

    def __repr__(self) -> str:
        head = (f"Posterior of {self.model} ({self.backend}, {self.method}): {self.num_draws} draws of "
                f"{', '.join(self.chains)}")
        checks = "" if self.diagnostics is None else f"\n{self.diagnostics}"
        return head + checks + "\n" + self.summary().round(3).to_string()

    def describe_html(self) -> str:
        """The fit in a line and, for NUTS, its diagnostics in words, green when they pass and amber when not: the
        head of this posterior's HTML view and of the panel's Posterior tab."""
        import html

        head = (f"<p>Posterior of <b>{html.escape(self.model)}</b> ({self.backend}, {self.method}): "
                f"{self.num_draws} draws</p>")
        if self.diagnostics is not None:
            colour = "#1a7f37" if self.diagnostics.ok else "#b35900"
            lines = "<br>".join(html.escape(line) for line in str(self.diagnostics).splitlines())
            head += f'<p class="ainative-diagnostics" style="color: {colour}">{lines}</p>'
        return head

    def _repr_html_(self) -> str:
        return self.describe_html() + self.summary().round(3).to_html()


def compare(posteriors: Mapping[str, Posterior], **options):
    """ArviZ's comparison table of the fits in ``posteriors`` by name; each must have a pointwise log-likelihood."""
    import arviz as az

    from ...errors import ModelError

    if not isinstance(posteriors, Mapping) or len(posteriors) < 2:
        raise ModelError("compare takes a dict of two or more fits by name: compare({\"pooled\": p1, "
                         "\"hierarchical\": p2})")
    for name, posterior in posteriors.items():
        if not isinstance(posterior, Posterior):
            raise ModelError(f"compare: {name!r} is a {type(posterior).__name__}, not a Posterior from a "
                             "model's fit")
        if not posterior.log_likelihood:
            raise ModelError(f"compare: {name!r} (a fit of {posterior.model}) has no pointwise log-likelihood, "
                             "which LOO needs: its observed variables are not independent given its continuous "
                             "latents (a hidden chain), or it has none")
    return az.compare({name: posterior.to_arviz() for name, posterior in posteriors.items()}, **options)

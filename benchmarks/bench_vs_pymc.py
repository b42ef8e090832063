"""Time to posterior: ours (generated NumPyro) against hand-written NumPyro, PyMC and nutpie, each fit in a new process.

``make bench-pymc`` runs it: ours and NumPyro in the main venv, PyMC and nutpie in ``benchmarks/.venv-pymc``. The
driver spawns one process per (tool, model, repetition, cold|warm); each reads the same data from an .npz, builds
its model, fits 4 chains of 1,000 warm-up + 1,000 draws, writes the draws of the latents to an .npz and prints its
times as JSON. "Cold" is a process whose caches are empty folders, "warm" the same fit again in a new process with
the caches the cold one left. ESS (bulk, ArviZ) and posterior means are computed by the driver from the draws, with
one ArviZ for every tool. Writes ``benchmarks/results_vs_pymc.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PYMC_PYTHON = ROOT / "benchmarks" / ".venv-pymc" / "bin" / "python"
RESULTS = ROOT / "benchmarks" / "results_vs_pymc.md"

#: the hand-written NumPyro's chain method: the one ainative's NumPyro backend picks for 4 chains, on the CPU
#: devices it gives JAX (one a chain), which the hand-written process gets the way NumPyro's docs say
HAND_CHAIN_METHOD = "parallel"
#: PyMC's chains run in this many processes (its default on this 2-core machine: min(4, cores)); nutpie, its default
PYMC_CORES = 2
CHAINS = 4
TOOLS = ("ours", "numpyro", "pymc", "nutpie")
LABELS = {"ours": "ours", "numpyro": "NumPyro (hand-written)", "pymc": "PyMC", "nutpie": "nutpie"}
MODELS = ("eight schools", "logistic regression", "regression")
TITLES = {"eight schools": "eight schools (non-centred)",
          "logistic regression": "logistic regression, 5 coefficients + intercept, 1,000 rows",
          "regression": "linear regression, 25 coefficients + intercept, 5,000 rows"}
#: the latents every tool returns, by the names ours gives them
LATENTS = {"eight schools": ("mu", "tau", "eta"), "logistic regression": ("alpha", "beta"),
           "regression": ("alpha", "beta", "sigma")}

CELLS = {
    "eight schools": ("""J = 8
μ ~ 𝒩(0, 5)
τ ~ HalfCauchy(5)
η_j ~ 𝒩(0, 1)          for j in 1..J
θ_j = μ + τ η_j        for j in 1..J
y_j ~ 𝒩(θ_j, σ_j)      for j in 1..J""", "eight_schools(σ, y)"),
    "logistic regression": ("""X ∈ ℝ^{N×K}
α ~ Normal(0, 5)
β ~ Normal(0, 1);  β ∈ ℝ^K
y ~ Bernoulli(logits=α + X β)""", "logistic(X, y)"),
    "regression": ("""X ∈ ℝ^{N×K}
α ~ Normal(0, 10)
β ~ Normal(0, 1);  β ∈ ℝ^K
σ ~ HalfNormal(1)
y ~ Normal(α + X β, σ)""", "regression(X, y)"),
}


def make_data(folder: Path) -> dict[str, Path]:
    """Each model's data, drawn once with a fixed seed, in an .npz every process reads."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 5))
    logistic_y = (rng.random(1000) < 1 / (1 + np.exp(-(0.3 + X @ rng.normal(size=5))))).astype(np.int64)
    R = rng.normal(size=(5000, 25))
    arrays = {"eight schools": {"sigma": np.array([15.0, 10, 16, 11, 9, 11, 10, 18]),
                                "y": np.array([28.0, 8, -3, 7, -1, 1, 18, 12])},
              "logistic regression": {"X": X, "y": logistic_y},
              "regression": {"X": R, "y": 0.5 + R @ rng.normal(size=25) + 0.3 * rng.normal(size=5000)}}
    paths = {}
    for model, values in arrays.items():
        paths[model] = folder / f"{model.replace(' ', '_')}.npz"
        np.savez(paths[model], **values)
    return paths


# ---- one fit, in its own process -------------------------------------------------------------------------------

def fit_ours(model: str, data: dict, seed: int, warmup: int, draws: int) -> tuple[dict, float]:
    import ainative

    text, header = CELLS[model]
    m = ainative.model(text, f"{header} --backend numpyro")
    inputs = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in data.items()}
    start = time.perf_counter()
    posterior = m.fit(inputs, num_warmup=warmup, num_samples=draws, num_chains=CHAINS, seed=seed, progress=False)
    seconds = time.perf_counter() - start
    return {k: posterior.chains[k] for k in LATENTS[model]}, seconds


def fit_numpyro(model: str, data: dict, seed: int, warmup: int, draws: int) -> tuple[dict, float]:
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    def eight_schools(sigma, y):
        mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
        tau = numpyro.sample("tau", dist.HalfCauchy(5.0))
        with numpyro.plate("J", 8):
            eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
            theta = numpyro.deterministic("theta", mu + tau * eta)
            numpyro.sample("y", dist.Normal(theta, sigma), obs=y)

    def logistic(X, y):
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 5.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0).expand([X.shape[1]]).to_event(1))
        with numpyro.plate("N", X.shape[0]):
            numpyro.sample("y", dist.Bernoulli(logits=alpha + X @ beta), obs=y)

    def regression(X, y):
        alpha = numpyro.sample("alpha", dist.Normal(0.0, 10.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0).expand([X.shape[1]]).to_event(1))
        sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
        with numpyro.plate("N", X.shape[0]):
            numpyro.sample("y", dist.Normal(alpha + X @ beta, sigma), obs=y)

    program, names = {"eight schools": (eight_schools, ("sigma", "y")), "logistic regression": (logistic, ("X", "y")),
                      "regression": (regression, ("X", "y"))}[model]
    args = [jnp.asarray(data[k], jnp.float32 if data[k].dtype.kind == "f" else jnp.int32) for k in names]
    start = time.perf_counter()
    mcmc = MCMC(NUTS(program), num_warmup=warmup, num_samples=draws, num_chains=CHAINS,
                chain_method=HAND_CHAIN_METHOD, progress_bar=False)
    mcmc.run(jax.random.key(seed), *args)
    chains = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items() if k in LATENTS[model]}
    return chains, time.perf_counter() - start


def pymc_model(model: str, data: dict):
    import pymc as pm

    with pm.Model() as built:
        if model == "eight schools":
            mu, tau = pm.Normal("mu", 0.0, 5.0), pm.HalfCauchy("tau", 5.0)
            eta = pm.Normal("eta", 0.0, 1.0, shape=8)
            theta = pm.Deterministic("theta", mu + tau * eta)
            pm.Normal("y", theta, data["sigma"], observed=data["y"])
        elif model == "logistic regression":
            alpha, beta = pm.Normal("alpha", 0.0, 5.0), pm.Normal("beta", 0.0, 1.0, shape=data["X"].shape[1])
            pm.Bernoulli("y", logit_p=alpha + data["X"] @ beta, observed=data["y"])
        else:
            alpha, beta = pm.Normal("alpha", 0.0, 10.0), pm.Normal("beta", 0.0, 1.0, shape=data["X"].shape[1])
            pm.Normal("y", alpha + data["X"] @ beta, pm.HalfNormal("sigma", 1.0), observed=data["y"])
    return built


def fit_pymc(model: str, data: dict, seed: int, warmup: int, draws: int) -> tuple[dict, float]:
    import pymc as pm

    built = pymc_model(model, data)
    start = time.perf_counter()
    with built:
        trace = pm.sample(draws, tune=warmup, chains=CHAINS, cores=PYMC_CORES, random_seed=seed, progressbar=False)
    seconds = time.perf_counter() - start
    return {k: trace.posterior[k].values for k in LATENTS[model]}, seconds


def fit_nutpie(model: str, data: dict, seed: int, warmup: int, draws: int) -> tuple[dict, float]:
    import nutpie

    built = pymc_model(model, data)
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(built)
    trace = nutpie.sample(compiled, draws=draws, tune=warmup, chains=CHAINS, seed=seed, progress_bar=False)
    seconds = time.perf_counter() - start
    return {k: trace.posterior[k].values for k in LATENTS[model]}, seconds


FITS = {"ours": fit_ours, "numpyro": fit_numpyro, "pymc": fit_pymc, "nutpie": fit_nutpie}


def run_one(tool: str, model: str, data_path: str, out_path: str, seed: int, warmup: int, draws: int) -> None:
    """Fit once and print the fit's end (epoch seconds, for the driver's wall time) and the fit's own seconds."""
    with np.load(data_path) as loaded:
        data = dict(loaded)
    chains, seconds = FITS[tool](model, data, seed, warmup, draws)
    done = time.time()
    np.savez(out_path, **{k: np.asarray(v, np.float64) for k, v in chains.items()})
    print(json.dumps({"done": done, "fit": seconds}))


# ---- the driver ------------------------------------------------------------------------------------------------

def min_bulk_ess(chains: dict[str, np.ndarray]) -> float:
    """The smallest bulk ESS over every scalar component of the latents (each ``(chains, draws, *shape)``)."""
    import arviz as az

    ess = az.ess(az.convert_to_dataset({k: np.asarray(v) for k, v in chains.items()}), method="bulk")
    return float(min(np.min(ess[k].values) for k in chains))


def moments(chains: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Posterior mean and sd of each scalar component, by name and flat index."""
    out = {}
    for name, values in chains.items():
        flat = values.reshape(values.shape[0] * values.shape[1], -1)
        for i in range(flat.shape[1]):
            out[f"{name}[{i}]" if flat.shape[1] > 1 else name] = (float(flat[:, i].mean()), float(flat[:, i].std()))
    return out


def versions(settings: argparse.Namespace) -> str:
    """The versions of the packages measured, each read from the venv that runs it."""
    ask = "import importlib.metadata as m, sys; print(', '.join(f'{n} {m.version(n)}' for n in sys.argv[1:]))"
    ours = subprocess.run([sys.executable, "-c", ask, "jax", "numpyro"], capture_output=True, text=True)
    theirs = subprocess.run([os.path.abspath(settings.pymc_python), "-c", ask, "pymc", "pytensor", "nutpie", "numba"],
                            capture_output=True, text=True)
    return ", ".join(done.stdout.strip() for done in (ours, theirs) if done.returncode == 0)


def environment(tool: str, caches: Path) -> dict[str, str]:
    """The process's environment: its caches in ``caches`` (empty for a cold run) and nothing inherited about them."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JAX_", "XLA_", "AINATIVE_", "PYTENSOR", "NUMBA_"))}
    env.update(AINATIVE_CACHE_DIR=str(caches / "ainative"), PYTENSOR_FLAGS=f"base_compiledir={caches / 'pytensor'}",
               NUMBA_CACHE_DIR=str(caches / "numba"), XDG_CACHE_HOME=str(caches / "xdg"))
    if tool == "numpyro":  # ours gives JAX a CPU device a chain itself, when imported
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={CHAINS}"
    if tool in ("ours", "numpyro"):
        env["PYTHONPATH"] = str(ROOT)
    else:
        env.pop("PYTHONPATH", None)
    return env


def spawn(tool: str, model: str, data: Path, caches: Path, seed: int, settings: argparse.Namespace) -> dict:
    """One fit in a new process: wall seconds from the spawn to the draws in hand, the fit's seconds, the draws."""
    python = sys.executable if tool in ("ours", "numpyro") else os.path.abspath(settings.pymc_python)
    out = caches.parent / f"draws-{caches.name}-{time.monotonic_ns()}.npz"
    command = [str(python), str(Path(__file__).resolve()), "--run", tool, model, str(data), str(out), str(seed),
               str(settings.warmup), str(settings.draws)]
    start = time.time()
    done = subprocess.run(command, env=environment(tool, caches), capture_output=True, text=True,
                          timeout=settings.timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} on {model} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    with np.load(out) as loaded:
        chains = dict(loaded)
    out.unlink()
    return {"wall": report["done"] - start, "fit": report["fit"], "chains": chains}


def measure(models: list[str], tools: list[str], settings: argparse.Namespace, work: Path) -> dict:
    """Every (model, tool): its cold and warm runs, repetitions interleaved across tools so drift hits all alike."""
    paths = make_data(work)
    runs: dict = {(m, t): {"cold": [], "warm": []} for m in models for t in tools}
    for model in models:
        repeats = settings.big_repeats if model == "regression" else settings.repeats
        for rep in range(repeats):
            for tool in tools:
                caches = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=work))
                for kind in ("cold", "warm"):
                    try:
                        run = spawn(tool, model, paths[model], caches, rep, settings)
                    except (RuntimeError, subprocess.TimeoutExpired) as error:
                        print(f"{model:20s} {tool:8s} rep {rep} {kind}: FAILED, left out: {error}", flush=True)
                        continue
                    run["ess"] = min_bulk_ess(run["chains"])
                    runs[model, tool][kind].append(run)
                    print(f"{model:20s} {tool:8s} rep {rep} {kind}: wall {run['wall']:6.1f} s, fit {run['fit']:6.1f} s,"
                          f" min ESS {run['ess']:7.0f}", flush=True)
    return runs


def agreement(model: str, tools: list[str], runs: dict) -> tuple[float, str]:
    """The largest difference of posterior means between two tools, in posterior sd, over every component."""
    tools = [t for t in tools if runs[model, t]["warm"]]
    stats = {t: moments(runs[model, t]["warm"][0]["chains"]) for t in tools}
    worst, where = 0.0, ""
    for component in stats[tools[0]]:
        for i, a in enumerate(tools):
            for b in tools[i + 1:]:
                (ma, sa), (mb, sb) = stats[a][component], stats[b][component]
                gap = abs(ma - mb) / max((sa + sb) / 2, 1e-12)
                if gap > worst:
                    worst, where = gap, f"{component}, {LABELS[a]} vs {LABELS[b]}"
    return worst, where


def table(models: list[str], tools: list[str], runs: dict, settings: argparse.Namespace) -> str:
    med = np.median
    lines = [f"| model | measure | {' | '.join(LABELS[t] for t in tools)} |", f"|---|---|{'---|' * len(tools)}"]
    value = {}
    for model in models:
        for tool in tools:
            warm, cold = runs[model, tool]["warm"], runs[model, tool]["cold"]
            if not (warm and cold):
                value[model, tool] = None
                continue
            value[model, tool] = {"warm": med([r["wall"] for r in warm]), "cold": med([r["wall"] for r in cold]),
                                  "rate": med([r["ess"] / r["wall"] for r in warm]),
                                  "fit rate": med([r["ess"] / r["fit"] for r in warm]),
                                  "ess": med([r["ess"] for r in warm + cold])}
        cells = {"warm wall time": lambda v: f"{v['warm']:.1f} s", "cold wall time": lambda v: f"{v['cold']:.1f} s",
                 "min ESS/s (warm wall time)": lambda v: f"{v['rate']:.0f}/s (ESS {v['ess']:.0f})",
                 "min ESS/s (fit call only)": lambda v: f"{v['fit rate']:.0f}/s"}
        for measure, show in cells.items():
            shown = (show(value[model, t]) if value[model, t] else "failed" for t in tools)
            lines.append(f"| {TITLES[model]} | {measure} | {' | '.join(shown)} |")
    checks = []

    def check(label: str, model: str, other: str, key: str, bound: float, higher: bool = False) -> None:
        if value[model, "ours"] is None or value[model, other] is None:
            checks.append(f"- {label}: not measured (a fit failed)")
            return
        ratio = value[model, "ours"][key] / value[model, other][key]
        met = ratio >= bound if higher else ratio <= bound
        checks.append(f"- {label}: {'met' if met else 'NOT met'} ({ratio:.2f}×, target {'≥' if higher else '≤'} "
                      f"{bound:g}×)")

    if "ours" in tools and "pymc" in tools:
        for model in [m for m in models if m != "regression"]:
            check(f"warm wall time ≤ PyMC's, {model}", model, "pymc", "warm", 1)
        for model in models:
            check(f"cold wall time ≤ 0.7× PyMC's, {model}", model, "pymc", "cold", 0.7)
    if "ours" in tools and "nutpie" in tools and "regression" in models:
        check("min ESS/s (warm wall time) ≥ nutpie's, 25-coefficient regression", "regression", "nutpie", "rate", 1,
              higher=True)
    agree = []
    for model in models:
        worst, where = agreement(model, tools, runs)
        verdict = "agree" if worst < settings.tolerance else "DISAGREE"
        agree.append(f"- {model}: posterior means {verdict}: largest difference {worst:.3f} posterior sd ({where}); "
                     f"tolerance {settings.tolerance} sd")
    reps = f"median of {settings.repeats} repetitions" + (
        f" ({settings.big_repeats} for the 25-coefficient regression)" if settings.big_repeats != settings.repeats
        else "")
    caption = (f"{CHAINS} chains × ({settings.warmup} warm-up + {settings.draws} draws), {reps}, each fit a new "
               f"process; {platform.machine()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
               f"{settings.versions}, load "
               f"average at the start {settings.load} (the machine is shared). Wall time: process start (imports "
               f"included) to draws in hand. Cold: empty caches; warm: the same fit again in a new process, with the "
               f"caches the cold run left. min ESS: bulk, ArviZ, over every scalar latent component; min ESS/s divides "
               f"it by the warm wall time (and, informatively, by the fit call's time: compilation and sampling, no "
               f"imports). Ours and hand-written NumPyro: chain_method {HAND_CHAIN_METHOD!r} on {CHAINS} JAX CPU "
               f"devices; PyMC: "
               f"cores={PYMC_CORES}; nutpie: its default (every core), numba backend. Hand-written NumPyro runs with "
               f"JAX's defaults (no persistent compilation cache), so its warm runs compile again.")
    return "\n".join([caption, "", *lines, "", "Targets:", "", *checks, "", "Correctness:", "", *agree, ""])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        tool, model, data, out, seed, warmup, draws = sys.argv[2:9]
        run_one(tool, model, data, out, int(seed), int(warmup), int(draws))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="repetitions of each cold and warm fit")
    parser.add_argument("--big-repeats", type=int, default=3, help="repetitions for the 25-coefficient regression")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--pymc-python", default=str(PYMC_PYTHON), help="the python of the venv with PyMC and nutpie")
    parser.add_argument("--tolerance", type=float, default=0.25, help="posterior means agree within this many sd")
    parser.add_argument("--timeout", type=float, default=900, help="seconds one fit may take")
    parser.add_argument("--out", default=str(RESULTS))
    settings = parser.parse_args()
    settings.load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    settings.versions = versions(settings)
    with tempfile.TemporaryDirectory(prefix="bench-vs-pymc-") as work:
        runs = measure(settings.models, settings.tools, settings, Path(work))
    text = table(settings.models, settings.tools, runs, settings)
    print(text)
    Path(settings.out).write_text(f"# Time to posterior against PyMC and nutpie\n\n{text}")


if __name__ == "__main__":
    main()

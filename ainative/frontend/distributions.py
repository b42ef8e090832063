"""The distributions the notation knows, in Pyro's parameterisation: one table for every printer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A distribution family: its parameters (Pyro's names, in order) and how many are required."""

    name: str
    params: tuple[str, ...]
    required: int
    support: str
    latex: str
    event_rank: int = 0

    def accepts(self, count: int) -> bool:
        return self.required <= count <= len(self.params)


#: what each parameter name admits; a literal outside it is an error at parse time
PARAMETER_SUPPORT = {
    "scale": "positive", "rate": "positive", "concentration": "positive", "concentration1": "positive",
    "concentration0": "positive", "df": "positive", "total_count": "nonnegative_integer",
    "probs": "unit_interval",
}


def violates(param: str, value: float) -> str | None:
    """Why a literal value is outside a parameter's support, or None when it is inside."""
    support = PARAMETER_SUPPORT.get(param)
    if support == "positive" and not value > 0:
        return f"{param} must be positive"
    if support == "unit_interval" and not 0 <= value <= 1:
        return f"{param} must be between 0 and 1"
    if support == "nonnegative_integer" and not (value >= 0 and float(value).is_integer()):
        return f"{param} must be a non-negative integer"
    return None


_TABLE = (
    Family("Normal", ("loc", "scale"), 2, "real", r"\mathcal{N}"),
    Family("HalfNormal", ("scale",), 1, "positive", r"\mathcal{N}^{+}"),
    Family("Cauchy", ("loc", "scale"), 2, "real", r"\operatorname{Cauchy}"),
    Family("HalfCauchy", ("scale",), 1, "positive", r"\operatorname{Cauchy}^{+}"),
    Family("StudentT", ("df", "loc", "scale"), 1, "real", r"t"),
    Family("LogNormal", ("loc", "scale"), 2, "positive", r"\operatorname{LogNormal}"),
    Family("Exponential", ("rate",), 1, "positive", r"\operatorname{Exp}"),
    Family("Gamma", ("concentration", "rate"), 2, "positive", r"\Gamma"),
    Family("InverseGamma", ("concentration", "rate"), 2, "positive", r"\Gamma^{-1}"),
    Family("Beta", ("concentration1", "concentration0"), 2, "unit_interval", r"\operatorname{Beta}"),
    Family("Uniform", ("low", "high"), 2, "interval", r"\mathcal{U}"),
    Family("Bernoulli", ("probs", "logits"), 1, "boolean", r"\operatorname{Bernoulli}"),
    Family("Binomial", ("total_count", "probs", "logits"), 2, "nonnegative_integer", r"\operatorname{Binomial}"),
    Family("Poisson", ("rate",), 1, "nonnegative_integer", r"\operatorname{Poisson}"),
    Family("Categorical", ("probs", "logits"), 1, "integer_interval", r"\operatorname{Categorical}"),
    Family("Dirichlet", ("concentration",), 1, "simplex", r"\operatorname{Dir}", event_rank=1),
    Family("MultivariateNormal", ("loc", "covariance_matrix"), 2, "real_vector", r"\mathcal{N}", event_rank=1),
)

#: family name → Family
DISTRIBUTIONS = {family.name: family for family in _TABLE}

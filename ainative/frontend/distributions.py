"""The distributions the notation knows, in Pyro's parameterisation: one table for every module.

A family's row says what a cell may write (its parameters, which are needed, how else its name is
spelled), what a variable drawn from it is (its support, event rank, shape, whether observed values
are class labels), and how the back ends show it (LaTeX, the Pyro/NumPyro constructor, the location
a served model predicts). Nothing outside this module names a family.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import sympy

from ..errors import ExportError
from .nodes import Sigmoid, Softmax

if TYPE_CHECKING:
    from .ir import Distribution

Arguments = Mapping[str, sympy.Expr]


class Sampled(Enum):
    """How the shape of a sampled value follows from the shapes of its parameters."""

    BROADCAST = "the parameters' shapes broadcast together"
    EVENT = "the first parameter's shape, which carries the event"
    LABEL = "the first parameter's shape without its last axis, which holds the classes"
    GAUSSIAN = "the location's shape broadcast with the rows of the square matrix (covariance, precision or factor)"
    CORRELATION = "a dim × dim matrix, dim being the first parameter (a whole number)"
    MIXTURE = "the components' shapes without the axis of components, broadcast with the weights' (without theirs)"


class Components(Enum):
    """How a mixture's arguments give its components."""

    SAME_FAMILY = "a Categorical over the components, and one distribution whose last batch axis holds them"
    LISTED = "the weights, then one distribution a component"


@dataclass(frozen=True)
class Family:
    """A distribution family.

    A use gives every parameter in ``params`` except the ``optional`` ones and, when ``one_of`` is
    set, exactly one of those (``probs`` or ``logits``). ``location`` is the value a served model
    predicts as an expression of the arguments; None when the exported graph has none for it yet.
    """

    name: str
    params: tuple[str, ...]
    support: str
    latex: str
    optional: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    event_rank: int = 0
    sampled: Sampled = Sampled.BROADCAST
    labels: bool = False
    location: Callable[[Arguments], sympy.Expr] | None = None
    spellings: tuple[str, ...] = ()
    #: the family whose truncation a ``restricted to`` of this one is, its parameters named as this one's (a
    #: half-normal restricted to [a, b] is a normal about 0 restricted to [a, b]); None: it cannot be restricted
    truncation: str | None = None
    #: for a mixture: how its arguments give its components (distributions as arguments)
    components: Components | None = None
    #: an improper prior (Stan's default flat one): a density constant on its support, which NUTS and SVI take
    #: but nothing can draw from; printed as ``ImproperUniform`` over the constraint its support names
    improper: bool = False

    @property
    def constructor(self) -> str:
        """The family's class in ``pyro.distributions`` and ``numpyro.distributions`` (both use its name; an
        improper family is their ``ImproperUniform`` over its support)."""
        return "ImproperUniform" if self.improper else self.name

    def constructor_in(self, library: str) -> str:
        """The family's class in ``<library>.distributions``: a mixture of listed components is NumPyro's
        ``MixtureGeneral``; Pyro has none, so its printer stacks components of one family into a
        ``MixtureSameFamily``."""
        if self.components is Components.LISTED:
            return "MixtureGeneral" if library == "numpyro" else "MixtureSameFamily"
        return self.constructor

    @property
    def enumerable(self) -> bool:
        """Whether a latent of the family takes finitely many values, so that NUTS sums it out (enumerates it)."""
        return self.support in ("boolean", "integer_interval")

    @property
    def needed(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if p not in self.optional and p not in self.one_of)

    def complete(self, given: Collection[str]) -> bool:
        """Whether the parameters given (a subset of ``params``) fix the distribution."""
        chosen = sum(p in given for p in self.one_of)
        return all(p in given for p in self.needed) and chosen == (1 if self.one_of else 0)

    def requirement(self) -> str:
        """What a use must give, as the parser's message says it."""
        choice = (f"{' or '.join(self.one_of)} (exactly one)",) if self.one_of else ()
        return ", ".join(self.needed + choice)


#: what each parameter name admits; a literal outside it is an error at parse time
PARAMETER_SUPPORT = {
    "scale": "positive", "rate": "positive", "concentration": "positive", "concentration1": "positive",
    "concentration0": "positive", "df": "positive", "total_count": "nonnegative_integer",
    "probs": "unit_interval", "dim": "positive_integer",
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
    if support == "positive_integer" and not (value >= 1 and float(value).is_integer()):
        return f"{param} must be a positive integer"
    return None


#: the interval each support lies in, closed form where the table knows it; ``None`` where it depends on the
#: arguments (a uniform's), infinities as ``None`` bounds
SUPPORT_INTERVALS: dict[str, tuple[float | None, float | None] | None] = {
    "real": (None, None), "real_vector": (None, None), "positive": (0.0, None), "unit_interval": (0.0, 1.0),
    "boolean": (0.0, 1.0), "nonnegative_integer": (0.0, None), "integer_interval": (0.0, None),
    "simplex": (0.0, 1.0), "corr_cholesky": (-1.0, 1.0), "interval": None,
}
#: the families a truncation is written with: symmetric about their location, so the printed programs can
#: renormalise on the side of the location where the CDF is small and exact
TRUNCATION_BASES = ("Normal", "Cauchy")


def integer_valued(param: str) -> bool:
    """Whether a parameter counts (``total_count``, ``dim``), so that its literals are written as integers."""
    return PARAMETER_SUPPORT.get(param) in ("nonnegative_integer", "positive_integer")


def _loc(args: Arguments) -> sympy.Expr:
    return args.get("loc", sympy.S.Zero)


def _rate(args: Arguments) -> sympy.Expr:
    return args["rate"]


def _mean_wait(args: Arguments) -> sympy.Expr:
    return sympy.Pow(args["rate"], -1, evaluate=False)


def _probabilities(link: type) -> Callable[[Arguments], sympy.Expr]:
    """``probs`` as given, or ``link(logits)``."""
    return lambda args: args["probs"] if "probs" in args else link(args["logits"])


def _expected_count(args: Arguments) -> sympy.Expr:
    return sympy.Mul(args["total_count"], _probabilities(Sigmoid)(args), evaluate=False)


_CHOICE = ("probs", "logits")
#: a multivariate normal's spread: its covariance, its precision, or the lower Cholesky factor of its covariance
_SPREAD = ("covariance_matrix", "precision_matrix", "scale_tril")

_TABLE = (
    Family("Normal", ("loc", "scale"), "real", r"\mathcal{N}", location=_loc, spellings=("𝒩", r"\mathcal{N}"),
           truncation="Normal"),
    Family("HalfNormal", ("scale",), "positive", r"\mathcal{N}^{+}", truncation="Normal"),
    Family("Cauchy", ("loc", "scale"), "real", r"\operatorname{Cauchy}", location=_loc, truncation="Cauchy"),
    Family("HalfCauchy", ("scale",), "positive", r"\operatorname{Cauchy}^{+}", truncation="Cauchy"),
    Family("StudentT", ("df", "loc", "scale"), "real", r"t", optional=("loc", "scale"), location=_loc),
    Family("LogNormal", ("loc", "scale"), "positive", r"\operatorname{LogNormal}"),
    Family("Exponential", ("rate",), "positive", r"\operatorname{Exp}", location=_mean_wait),
    Family("Gamma", ("concentration", "rate"), "positive", r"\Gamma"),
    Family("InverseGamma", ("concentration", "rate"), "positive", r"\Gamma^{-1}"),
    Family("Beta", ("concentration1", "concentration0"), "unit_interval", r"\operatorname{Beta}"),
    Family("Uniform", ("low", "high"), "interval", r"\mathcal{U}"),
    Family("Bernoulli", _CHOICE, "boolean", r"\operatorname{Bernoulli}", one_of=_CHOICE,
           location=_probabilities(Sigmoid)),
    Family("Binomial", ("total_count", *_CHOICE), "nonnegative_integer", r"\operatorname{Binomial}", one_of=_CHOICE,
           location=_expected_count),
    Family("Poisson", ("rate",), "nonnegative_integer", r"\operatorname{Poisson}", location=_rate),
    Family("Categorical", _CHOICE, "integer_interval", r"\operatorname{Categorical}", one_of=_CHOICE,
           sampled=Sampled.LABEL, labels=True, location=_probabilities(Softmax)),
    Family("Dirichlet", ("concentration",), "simplex", r"\operatorname{Dir}", event_rank=1, sampled=Sampled.EVENT),
    Family("MultivariateNormal", ("loc", *_SPREAD), "real_vector", r"\mathcal{N}", one_of=_SPREAD, event_rank=1,
           sampled=Sampled.GAUSSIAN),
    Family("MixtureSameFamily", ("mixture_distribution", "component_distribution"), "real",
           r"\operatorname{MixtureSameFamily}", sampled=Sampled.MIXTURE, components=Components.SAME_FAMILY),
    Family("Mixture", ("probs", "components"), "real", r"\operatorname{Mixture}", sampled=Sampled.MIXTURE,
           components=Components.LISTED),
    Family("LKJCholesky", ("dim", "concentration"), "corr_cholesky", r"\operatorname{LKJ}",
           optional=("concentration",), event_rank=2, sampled=Sampled.CORRELATION),
    Family("Flat", (), "real", r"\operatorname{Flat}", improper=True),
    Family("HalfFlat", (), "positive", r"\operatorname{HalfFlat}", improper=True),
)

#: the family that picks a mixture's component
MIXING = "Categorical"

#: family name → Family
DISTRIBUTIONS = {family.name: family for family in _TABLE}
#: another way a cell writes a family's name (``𝒩``, ``\mathcal{N}``) → the name
SPELLINGS = {spelling: family.name for family in _TABLE for spelling in family.spellings}


def location(distribution: Distribution) -> sympy.Expr:
    """The value a served model predicts for a variable drawn from ``distribution``: its mean (Cauchy's median)."""
    family = DISTRIBUTIONS[distribution.family]
    if distribution.truncated:
        raise ExportError(f"a served {family.name} restricted to an interval has no location in the exported graph "
                          "yet (its mean is not the family's)")
    if family.improper:
        raise ExportError(f"a served {family.name} has no location: it is an improper prior, which has no mean, and "
                          "data cannot be drawn from it")
    if family.location is None:
        raise ExportError(f"a served {family.name} has no location in the exported graph yet")
    return family.location(dict(distribution.args))

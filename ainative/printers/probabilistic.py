"""The layout of a probabilistic program, shared by the Pyro and NumPyro printers.

A ``ProbabilisticPrinter`` names a library and its expression printer, and lays out the
function: dimensions read from the data, one ``sample`` a ``~`` statement (with ``plate``s and
event shapes from the shape table), one ``deterministic`` a ``=`` statement. Plates are
vectorised: inside ``for j in 1..J``, ``η_j`` is the whole vector ``η``. Every name the program
uses from a library goes through the expression printer, which records its module, so the
imports are those of what was printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy.printing.codeprinter import CodePrinter

from ..errors import ModelError, ShapeError
from ..frontend.distributions import (
    DISTRIBUTIONS,
    MIXING,
    SUPPORT_INTERVALS,
    Components,
    Family,
    Sampled,
    integer_valued,
)
from ..frontend.ir import Assignment, Chain, Factor, ModelIR, Recurrence, Sampling, Shape
from ..frontend.nodes import Entry
from ..frontend.roles import used_names
from .common import module_source
from .indices import dimension_name, dimensions_used, value_dimensions
from .names import python_name
from .recurrences import recurrence_lines


def enumerated_latents(ir: ModelIR) -> frozenset[str]:
    """The discrete latents NUTS sums out: under enumeration their values have extra leading axes."""
    return frozenset(s.target for s in ir.statements if isinstance(s, Sampling) and s.target in ir.roles.latents
                     and DISTRIBUTIONS[s.distribution.family].enumerable)


def data_only(ir: ModelIR) -> frozenset[str]:
    """The variables of ``=`` statements that read, however indirectly, only data that is always given (inputs that
    are not observed), constants and dimensions: Stan's transformed data. The same in every draw, they are printed
    as plain values, not ``deterministic`` sites, so a posterior does not hold a copy of them per draw. (An observed
    input is drawn by ``sample_prior`` and ``predict``, so what reads it is no data.)"""
    roles = ir.roles
    known = {n for n in roles.inputs if n not in roles.observed} | set(ir.constants) | set(roles.dims)
    found = set()
    for statement in ir.statements:
        if isinstance(statement, Assignment) and statement.target not in ir.constants and \
                all(name in known for name in used_names(statement)):
            known.add(statement.target)
            found.add(statement.target)
    return frozenset(found)


def read_by_label(ir: ModelIR) -> frozenset[str]:
    """The latents whose values stand for every label at once where the program reads them (along extra leading
    axes): those NUTS enumerates, and the labels of hidden chains."""
    return enumerated_latents(ir) | {chain.target for chain in ir.chains}


def emissions(ir: ModelIR, chain: Chain) -> tuple[Sampling, ...]:
    """The observed statements that read a chain's labels, in cell order."""
    label = sympy.Symbol(chain.target)
    return tuple(s for s in ir.statements if isinstance(s, Sampling) and any(
        isinstance(node, Entry) and node.args[0] == label for e in s.exprs for node in sympy.preorder_traversal(e)))


def chain_sites(chain: Chain) -> tuple[str, str]:
    """The sites a chain's program records for drawing its labels: its forward rows and its transition."""
    return f"_{chain.target}_forward", f"_{chain.target}_step"


def data_dimensions(ir: ModelIR) -> dict[str, list[tuple[str, int]]]:
    """Each dimension that is not a constant, with the inputs (and axes) that carry it."""
    constants, shapes = ir.constants, ir.shape_of
    return {dim: [(n, shapes[n].index(dim)) for n in ir.roles.inputs if dim in shapes[n]]
            for dim in ir.roles.dims if dim not in constants}


def keyword_dimensions(ir: ModelIR) -> list[str]:
    """Dimensions the model function takes by keyword: those no always-given input carries."""
    observed = ir.roles.observed
    return [python_name(dim) for dim, sources in data_dimensions(ir).items()
            if not any(n not in observed for n, _ in sources)]


class WholePlates:
    """For an expression printer: inside a plate, ``η_j`` is the whole vector ``η``."""

    def _print_Element(self, expr):
        return python_name(expr.args[0].name)


@dataclass(frozen=True)
class ProbabilisticPrinter:
    """The program for one library: its module, its tensor constructor (fully qualified) and its expression printer."""

    library: str
    as_tensor: str
    expressions: Callable[[], CodePrinter]
    #: the class a truncation is printed with, fully qualified; it takes the base and ``low=``, ``high=``
    truncated: str
    #: the class an improper family is printed with, fully qualified; it takes a constraint and two shapes
    improper: str

    def library_name(self, printer, name: str) -> str:
        """A name from the library, its module recorded by ``printer`` (``pyro.sample``, ``dist.Normal``)."""
        return printer._module_format(f"{self.library}.{name}")

    # pieces ------------------------------------------------------------------------------
    def shape_list(self, shape: Shape) -> str:
        return "[" + ", ".join(python_name(d) if isinstance(d, str) else str(d) for d in shape) + "]"

    def distribution(self, statement: Sampling, printer, event: Shape, value: Shape = ()) -> str:
        """The constructor call, arguments in the family's order (positional while they can be: NumPyro and Pyro
        name some differently); a multivariate normal's location is broadcast to its event (``value``'s last axis),
        because PyTorch's takes no scalar."""
        family = DISTRIBUTIONS[statement.distribution.family]
        if family.improper:
            call = self.improper_call(printer, family)
        elif family.components is not None:
            call = self.mixture(statement, printer)
        else:
            call = self.call(printer, statement.distribution.family, statement.distribution.args, value)
        if statement.distribution.truncated:
            call = self.truncation(statement, printer, printer.doprint)
        if event:
            call += f".expand({self.shape_list(event)}).to_event({len(event)})"
        return call

    def call(self, printer, name: str, arguments, value: Shape = ()) -> str:
        """``Family(args)`` for one family that is no mixture."""
        family = DISTRIBUTIONS[name]
        args, positional = [], True
        ordered = sorted(arguments, key=lambda arg: family.params.index(arg[0]))
        for i, (key, expr) in enumerate(ordered):
            positional = positional and family.params[i] == key
            text = str(int(expr)) if expr.is_Integer and integer_valued(key) else printer.doprint(expr)
            if family.sampled is Sampled.GAUSSIAN and key == "loc" and value:
                location = f"{printer._module_format(self.as_tensor)}({text})"
                broadcast = printer._module_format(printer.LIBRARY.broadcast_to)
                text = f"{broadcast}({location}, {self.shape_list(value[-1:])})"
            args.append(text if positional else f"{key}={text}")
        return f"{self.constructor(printer, family)}({', '.join(args)})"

    def improper_call(self, printer, family: Family) -> str:
        """``ImproperUniform(constraints.real, (), ())``: an improper family, a constant density over the constraint
        its support names; its shape comes as any family's does (``expand``, ``to_event``, plates)."""
        constraint = self.library_name(printer, f"distributions.constraints.{family.support}")
        return f"{printer._module_format(self.improper)}({constraint}, (), ())"

    def constructor(self, printer, family: Family) -> str:
        return self.library_name(printer, "distributions." + family.constructor_in(self.library))

    def mixture(self, statement: Sampling, printer) -> str:
        """``MixtureSameFamily(Categorical(w), 𝒩(μ, σ))``, or ``Mixture(w, …)`` as NumPyro's ``MixtureGeneral`` (which
        broadcasts its components' batch shapes); Pyro has no mixture of listed components, so their parameters
        are stacked along a last axis of one family's ``MixtureSameFamily``, and different families are refused."""
        family = DISTRIBUTIONS[statement.distribution.family]
        args = dict(statement.distribution.args)
        if family.components is Components.SAME_FAMILY:
            parts = ", ".join(self.call(printer, args[key].family, args[key].arguments) for key in family.params)
            return f"{self.constructor(printer, family)}({parts})"
        weights = self.call(printer, MIXING, (("probs", args["probs"]),))
        components = args["components"].args
        if self.library == "numpyro":
            listed = ", ".join(self.call(printer, c.family, c.arguments) for c in components)
            return f"{self.constructor(printer, family)}({weights}, [{listed}])"
        first = components[0]
        spans = dict(statement.spans)
        for other in components[1:]:
            if other.family != first.family or [k for k, _ in other.arguments] != [k for k, _ in first.arguments]:
                raise ModelError(f"Pyro has no mixture of {first.family} and {other.family}: write components of one "
                                 "family with the same parameters (they are stacked into a MixtureSameFamily), or "
                                 "use --backend numpyro (MixtureGeneral)", spans.get(other, statement.span))
        stack, together = (printer._module_format(f) for f in ("torch.stack", "torch.broadcast_tensors"))
        tensor = printer._module_format(self.as_tensor)
        stacked = []
        for position, (key, _) in enumerate(first.arguments):
            values = ", ".join(f"{tensor}({printer.doprint(c.arguments[position][1])})" for c in components)
            stacked.append((key, f"{stack}({together}({values}), -1)"))
        params = DISTRIBUTIONS[first.family].params
        text = ", ".join(t if params[i] == k else f"{k}={t}" for i, (k, t) in enumerate(stacked))
        inner = f"{self.constructor(printer, DISTRIBUTIONS[first.family])}({text})"
        return f"{self.constructor(printer, family)}({weights}, {inner})"

    def truncation(self, statement: Sampling, printer, show: Callable) -> str:
        """``restricted to [low, high]``: the family's truncation base (a half-normal's is a normal about 0) cut to
        the bounds, each printed by ``show``; a family with values ≥ 0 keeps its lower bound there."""
        distribution = statement.distribution
        family = DISTRIBUTIONS[distribution.family]
        base = DISTRIBUTIONS[family.truncation]
        given = dict(distribution.args)
        args = [show(given[p]) if p in given else "0.0" for p in base.params]
        call = f"{self.constructor(printer, base)}({', '.join(args)})"
        low, high = (None if b is None else repr(float(b)) if b.is_number else show(b)
                     for b in (distribution.low, distribution.high))
        floor = SUPPORT_INTERVALS[family.support][0]
        if floor is not None:
            if low is None or (distribution.low.is_number and float(distribution.low) <= floor):
                low = repr(floor)
            elif not distribution.low.is_number:
                tensor = printer._module_format(self.as_tensor)
                low = f"{printer._module_format(printer.LIBRARY.maximum)}({tensor}({low}), {tensor}({floor!r}))"
        bounds = "".join(f", {side}={text}" for side, text in (("low", low), ("high", high)) if text is not None)
        return f"{printer._module_format(self.truncated)}({call}{bounds})"

    def indexed_sample_lines(self, ir: ModelIR, statement: Sampling, printer) -> list[str]:
        """``y_i ~ …`` with indices: its arguments over the grid of its free indices, inside one plate each."""
        family = DISTRIBUTIONS[statement.distribution.family]
        if family.event_rank:
            raise ShapeError(f"{statement.distribution.family} has vector values, so it cannot be written entry by "
                             "entry; write it without indices", statement.span)
        call = self.indexed_call(ir, statement, printer)
        name = python_name(statement.target)
        obs = f", obs={name}" if statement.target in ir.roles.inputs else ""
        if obs and any(r.start != 1 for r in statement.indices):
            obs = f", obs={name}[{', '.join(f'{r.start - 1}:{printer._integer(r.stop)}' for r in statement.indices)}]"
        sample = self.library_name(printer, "sample")
        shared = self.shared_plate(ir, statement)
        if shared is not None:
            return [f"with {self.plate_name(shared)}:", f'    {name} = {sample}("{statement.target}", {call}{obs})']
        lines, depth = [], len(statement.indices)
        for k, r in enumerate(statement.indices):
            size = printer._integer(r.stop - r.start + 1)
            lines.append("    " * k + f'with {self.library_name(printer, "plate")}("{statement.target}_{r.index}", '
                         f"{size}, dim={k - depth}):")
        lines.append("    " * depth + f'{name} = {sample}("{statement.target}", {call}{obs})')
        return lines

    def indexed_call(self, ir: ModelIR, statement: Sampling, printer) -> str:
        """The distribution of ``y_i ~ …``: its arguments over the grid of its free indices."""
        family = DISTRIBUTIONS[statement.distribution.family]
        if family.improper:
            return self.improper_call(printer, family)
        args, by_label = [], read_by_label(ir)
        for i, (key, value) in enumerate(statement.distribution.args):
            whole = not any(s.name in by_label for s in value.free_symbols)
            text = printer.in_scope(statement.indices, value, ir.shape_of, broadcast=whole)
            args.append(text if i < len(family.params) and family.params[i] == key else f"{key}={text}")
        call = f"{self.library_name(printer, 'distributions.' + family.constructor)}({', '.join(args)})"
        if statement.distribution.truncated:
            call = self.truncation(statement, printer,
                                   lambda value: printer.in_scope(statement.indices, value, ir.shape_of))
        return call

    # hidden Markov chains ------------------------------------------------------------------
    def chain_lines(self, ir: ModelIR, chain: Chain, printer) -> list[str]:
        """A chain's first-label and transition log probabilities; then its name stands for every label, along a
        first axis, so that each observation that reads ``z_t`` is printed for all labels at once."""
        name, categorical = python_name(chain.target), self.constructor(printer, DISTRIBUTIONS["Categorical"])
        start, step = (f"_{name}_{part}" for part in ("start", "step"))
        first = chain.initial.distribution
        (key, _), = chain.step.distribution.args
        shift = chain.shift - 1
        row = f"{name} + {shift}" if shift > 0 else f"{name} - {-shift}" if shift else name
        arrays = self.as_tensor.rpartition(".")[0]
        arange, zeros = (printer._module_format(f"{arrays}.{f}") for f in ("arange", "zeros"))
        return [f"{start} = {self.call(printer, first.family, first.args)}.logits",
                f"{name} = {arange}({start}.shape[-1])",
                f"{step} = {categorical}({key}={python_name(chain.matrix)}[{row}]).logits",
                f"{name} = {name}[:, None]",
                f"_{name}_emission = {zeros}(({printer._integer(chain.stop)}, {start}.shape[-1]))"]

    def emission_lines(self, ir: ModelIR, statement: Sampling, chain: Chain, printer) -> list[str]:
        """An observation of a chain: its log density at the data for each label, added to the chain's emissions."""
        emission = f"_{python_name(chain.target)}_emission"
        call = self.indexed_call(ir, statement, printer)
        return [f"{emission} = {emission} + {call}.log_prob({python_name(statement.target)}).T"]

    def forward_lines(self, chain: Chain, printer) -> list[str]:
        """The chain summed out: ``log p(y)`` added to the log density; the forward rows and the transition
        recorded for drawing the labels afterwards."""
        name = python_name(chain.target)
        forward = printer._module_format(f"ainative.runtime.chains.for_{self.library}.forward")
        alpha, step = chain_sites(chain)
        deterministic = self.library_name(printer, "deterministic")
        return [f"{alpha}, _{name}_evidence = {forward}(_{name}_start, _{name}_step, _{name}_emission)",
                f'{self.library_name(printer, "factor")}("_{chain.target}_evidence", _{name}_evidence)',
                f'{deterministic}("{alpha}", {alpha})', f'{deterministic}("{step}", _{name}_step)']

    def shared_plate(self, ir: ModelIR, statement: Sampling) -> str | None:
        """The plate a row statement opened for this statement's one index, when it runs over the same
        ``1..n``: one plate, so that inference sees the entries of both statements as the same entries (what
        summing a discrete latent out needs)."""
        if len(statement.indices) != 1:
            return None
        (r,) = statement.indices
        size = self.plates(ir).get(r.index)
        written = python_name(r.stop.name) if isinstance(r.stop, sympy.Symbol) else str(r.stop)
        return r.index if r.start == 1 and size == written else None

    def sample_lines(self, ir: ModelIR, statement: Sampling, printer) -> list[str]:
        if statement.indexed:
            return self.indexed_sample_lines(ir, statement, printer)
        shape = ir.shape_of[statement.target]
        family = DISTRIBUTIONS[statement.distribution.family]
        name = python_name(statement.target)
        observed = statement.target in ir.roles.inputs
        obs = f", obs={name}" if observed else ""
        plate = None
        if statement.plate is not None:
            stop = statement.plate.stop
            plate = (statement.plate.index, python_name(stop) if isinstance(stop, str) else str(stop))
            event = shape[1:]
        elif observed and len(shape) > family.event_rank:
            size = shape[0]
            plate = (str(size), python_name(size) if isinstance(size, str) else str(size))
            event = shape[1:]
        else:
            event = shape
        value = event
        if family.event_rank:
            event = event[: len(event) - family.event_rank]
        call = self.distribution(statement, printer, event, value)
        # a latent NUTS sums out says so (NumPyro will stop guessing it), and each library enumerates it in parallel
        enumerate_ = ', infer={"enumerate": "parallel"}' if statement.target in enumerated_latents(ir) else ""
        line = f'{name} = {self.library_name(printer, "sample")}("{statement.target}", {call}{obs}{enumerate_})'
        if plate is None:
            return [line]
        return [f"with {self.plate_name(plate[0])}:", f"    {line}"]

    def plate_name(self, name: str) -> str:
        return f"_plate_{python_name(name)}"

    def plates(self, ir: ModelIR) -> dict[str, str]:
        """Each plate the program enters (name → size), declared once so it can be re-entered."""
        found = {}
        for statement in ir.statements:
            if not isinstance(statement, Sampling) or statement.indexed:
                continue
            shape = ir.shape_of[statement.target]
            family = DISTRIBUTIONS[statement.distribution.family]
            if statement.plate is not None:
                stop = statement.plate.stop
                found.setdefault(statement.plate.index, python_name(stop) if isinstance(stop, str) else str(stop))
            elif statement.target in ir.roles.inputs and len(shape) > family.event_rank:
                found.setdefault(str(shape[0]), python_name(shape[0]) if isinstance(shape[0], str) else str(shape[0]))
        return found

    def dimension_lines(self, ir: ModelIR) -> list[str]:
        """Lines binding each dimension from the data; an observed input may be None, so guard it."""
        observed = ir.roles.observed
        lines = []
        for dim, sources in data_dimensions(ir).items():
            given = [(n, a) for n, a in sources if n not in observed]
            for name, axis in given[:1] or sources:
                binding = f"{python_name(dim)} = {python_name(name)}.shape[{axis}]"
                lines += [binding] if given else [f"if {python_name(name)} is not None:", f"    {binding}"]
        return lines

    # the program -------------------------------------------------------------------------
    def print(self, ir: ModelIR) -> str:
        header, roles = ir.header, ir.roles
        printer = self.expressions()
        printer.dimensions = value_dimensions(ir)
        constants = ir.constants
        printer.fixed = frozenset(d for d in roles.dims if d in constants)
        body = []
        dims, keywords = self.dimension_lines(ir), keyword_dimensions(ir)
        for statement in ir.statements:
            if isinstance(statement, Assignment) and statement.target in constants:
                # a dimension is a whole number: plates and ``expand`` take no float
                value = str(int(statement.expr)) if statement.target in roles.dims else printer.doprint(statement.expr)
                if statement.target not in roles.dims:
                    value = f"{printer._module_format(self.as_tensor)}({value})"
                body.append(f"{python_name(statement.target)} = {value}")
        body += dims
        body += [f"{dimension_name(d)} = int({python_name(d)})" for d in dimensions_used(ir)]
        body += [f'{self.plate_name(n)} = {self.library_name(printer, "plate")}("{n}", {size})'
                 for n, size in self.plates(ir).items()]
        observing = {id(e): chain for chain in ir.chains for e in emissions(ir, chain)}
        data = data_only(ir)
        last = {id((emissions(ir, chain) or (chain,))[-1]): chain for chain in ir.chains}
        for statement in ir.statements:
            if isinstance(statement, Chain):
                body += self.chain_lines(ir, statement, printer)
            elif id(statement) in observing:
                body += self.emission_lines(ir, statement, observing[id(statement)], printer)
            elif isinstance(statement, Recurrence):
                body += recurrence_lines(statement, printer, ir.shape_of)
                deterministic = self.library_name(printer, "deterministic")
                body += [f'{python_name(name)} = {deterministic}("{name}", {python_name(name)})'
                         for name in statement.targets]
            elif isinstance(statement, Sampling):
                body += self.sample_lines(ir, statement, printer)
            elif isinstance(statement, Factor):
                value = printer.in_scope((), statement.expr, ir.shape_of) if statement.indexed else \
                    printer.doprint(statement.expr)
                tensor = printer._module_format(self.as_tensor)
                body.append(f'{self.library_name(printer, "factor")}("{statement.site}", {tensor}({value}))')
            elif isinstance(statement, Assignment) and statement.target not in constants:
                whole = not statement.expr.free_symbols & {sympy.Symbol(n) for n in enumerated_latents(ir)}
                value = printer.in_scope(statement.indices, statement.expr, ir.shape_of, broadcast=whole) \
                    if statement.indexed else printer.doprint(statement.expr)
                if statement.expr.is_number:
                    value = f"{printer._module_format(self.as_tensor)}({value})"
                if statement.target in data:
                    body.append(f"{python_name(statement.target)} = {value}")
                else:
                    body.append(f'{python_name(statement.target)} = {self.library_name(printer, "deterministic")}('
                                f'"{statement.target}", {value})')
            if id(statement) in last:
                body += self.forward_lines(last[id(statement)], printer)
        outputs = [python_name(o) for o in roles.outputs]
        body.append(f"return {outputs[0]}" if len(outputs) == 1 else
                    "return {" + ", ".join(f'"{o}": {p}' for o, p in zip(roles.outputs, outputs)) + "}")
        params, optional = [], False
        for name in roles.inputs:
            optional = optional or name in roles.observed
            params.append(python_name(name) + ("=None" if optional else ""))
        if keywords:
            params += ["*", *(f"{k}=None" for k in keywords)]
        observed = ", ".join(roles.observed)
        doc = (f'"""{header.name}({", ".join(roles.inputs)}): a {self.library} model; '
               + (f"{observed} observed when given, sampled when None; " if observed else "")
               + 'generated by ainative."""')
        return module_source(printer.module_imports, [f"def {header.name}({', '.join(params)}):", f"    {doc}",
                                                      *(f"    {line}" for line in body)])

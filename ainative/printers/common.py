"""What the printers share: ``_print_<Node>`` methods installed from the operation table, and the
methods the Python-code printers (JAX, PyTorch) would otherwise each write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sympy.printing.precedence import PRECEDENCE

from ..errors import ModelError
from ..frontend.operations import OPERATIONS, Call, Kind, Own, Unsupported
from .indices import dimension_name
from .names import import_lines, python_name, qualified

#: makes a ``_print_<Node>`` method from an operation's spelling (a call or an operator) and its kind
Maker = Callable[[Call | str, Kind], Callable]


def install(printer: type, backend: str, make: Maker, error: type[ModelError] = ModelError) -> None:
    """Give ``printer`` a ``_print_<Node>`` for every operation of the table, as SymPy's ``pycode`` does.

    An ``Own`` spelling leaves the printer's own method (or SymPy's) in place; an ``Unsupported``
    one gets a method that raises ``error`` with the table's reason.
    """
    for operation in OPERATIONS:
        spelling = operation.spelling(backend)
        if isinstance(spelling, Own):
            continue
        if isinstance(spelling, Unsupported):
            method = _refusal(spelling.reason, error)
        else:
            method = make(spelling, operation.kind)
        setattr(printer, f"_print_{operation.node.__name__}", method)


def _refusal(reason: str, error: type[ModelError]) -> Callable:
    def method(self, expr, *args, **kwargs):
        raise error(reason)

    return method


class PythonCode:
    """Spelling shared by the printers of Python source (mixed in before SymPy's printer).

    Model names become safe identifiers, integers become float literals (as the arrays are),
    non-scalar products are ``@``, and every module a printed name comes from is recorded in
    SymPy's ``module_imports`` and written through its alias (``jnp.tanh``).
    """

    #: the dimensions the generated function holds as integers (``_n_N``): a dimension used as a value is its size
    dimensions: frozenset[str] = frozenset()
    #: the dimensions the cell fixes (``K = 2``), which the generated function holds as Python ints under their names
    fixed: frozenset[str] = frozenset()

    def _module_format(self, fqn, register=True):
        return qualified(super()._module_format(fqn, register))

    def _print_Symbol(self, expr):
        if expr.name in self.dimensions:
            return dimension_name(expr.name)
        return python_name(expr.name)

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_MatrixProduct(self, expr):
        a, b = expr.args
        level = PRECEDENCE["Mul"]
        return f"{self.parenthesize(a, level, strict=True)} @ {self.parenthesize(b, level, strict=False)}"

    def _arguments(self, expr) -> str:
        return ", ".join(self._print(a) for a in expr.args)


def print_call(spelling: Call | str, kind: Kind) -> Callable:
    """A ``_print_<Node>`` method calling the spelled function on the node's printed arguments."""
    call = spelling if isinstance(spelling, Call) else Call(spelling)

    def method(self, expr):
        return f"{self._module_format(call.function)}({call.arguments.format(self._arguments(expr))})"

    return method


def module_source(modules: Iterable[str], definition: list[str]) -> str:
    """A generated file: the imports of the modules its code uses, then its one definition."""
    imports = import_lines(modules)
    head = [*imports, "", ""] if imports else []
    return "\n".join([*head, *definition, ""])

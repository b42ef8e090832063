"""The package's shape, checked: imports form layers without cycles, and only the factory and the printers
decide by a model's kind or backend.

Imports are read from the source (every ``import``, inside functions too, but not those under
``if TYPE_CHECKING:``, which only type checkers run, nor those inside the functions of a module in ``SHIPPED``,
whose bodies kfp copies into a pipeline and runs in its container, where they use the public API like a notebook).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ainative"
#: each layer imports only from itself and the layers before it. The panel and the static display take a
#: model by its interface and never import it, so ``views`` comes before ``models``; the magics, the
#: front door that builds models, sit with the package root above everything.
LAYERS = ("errors", "frontend", "printers", "runtime", "export", "serving", "federated", "views", "models", "root")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if module in ("ainative", "ainative.cli") or module == "ainative.views.magics":
        return "root"
    return parts[1] if len(parts) > 1 else "root"


#: modules whose functions are pipeline steps: kfp runs their bodies in another process, not in this one
SHIPPED = {"ainative.export.pipeline_steps"}


def shipped_bodies(tree: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def imports(path: Path) -> set[str]:
    """The ainative modules a file imports, resolved to absolute names."""
    tree = ast.parse(path.read_text())
    guarded = [n for n in ast.walk(tree) if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)]
    if module_name(path) in SHIPPED:
        guarded += shipped_bodies(tree)
    skipped = {id(n) for node in guarded for n in ast.walk(node)}
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "ainative"}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            if target.split(".")[0] != "ainative":
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
    return found


MODULES = {module_name(p) for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts}
GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts}


def test_every_import_names_a_module_of_the_package():
    assert {m for deps in GRAPH.values() for m in deps} <= MODULES


def test_no_import_cycles():
    state: dict[str, str] = {}

    def visit(module: str, path: tuple[str, ...]) -> None:
        state[module] = "open"
        for dependency in sorted(GRAPH[module]):
            if state.get(dependency) == "open":
                pytest.fail("import cycle: " + " → ".join((*path[path.index(dependency):], dependency)))
            if dependency not in state:
                visit(dependency, (*path, dependency))
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, (module,))


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_layers_import_only_what_comes_before_them(module):
    rank = LAYERS.index(layer(module))
    above = sorted(d for d in GRAPH[module] if LAYERS.index(layer(d)) > rank)
    assert not above, f"{module} ({layer(module)}) imports {above} from layers above it"


def test_runtime_subsystems_never_see_a_model():
    for module, dependencies in GRAPH.items():
        if layer(module) in ("frontend", "printers", "runtime", "export", "serving", "federated"):
            assert "ainative.models" not in dependencies and "ainative" not in dependencies, module


def test_pipeline_steps_use_only_the_public_api():
    """A step's body is all kfp ships: from ainative it may import the package itself, nothing inside it."""
    for module in SHIPPED:
        tree = ast.parse((PACKAGE.parent / (module.replace(".", "/") + ".py")).read_text())
        found = {alias.name for body in shipped_bodies(tree) for node in ast.walk(body) if isinstance(node, ast.Import)
                 for alias in node.names}
        relative = [ast.unparse(node) for body in shipped_bodies(tree) for node in ast.walk(body)
                    if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("ainative"))]
        assert "ainative" in found and not relative, module
        assert {name for name in found if name.startswith("ainative")} == {"ainative"}, module


def decisions_by_kind(tree: ast.AST) -> list[str]:
    """Comparisons with some object's ``.kind`` or ``.backend`` on either side: branching on what a model is.

    (A class's own settings, ``self.backend`` of the magics' configuration, are not a model.)
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr in ("kind", "backend") and ast.unparse(s.value) != "self"
                   for s in sides):
                found.append(ast.unparse(node))
    return found


def test_only_the_factory_and_the_printers_decide_by_kind_or_backend():
    allowed = {"ainative.models"} | {m for m in MODULES if layer(m) == "printers"}
    offenders = {module_name(p): decisions_by_kind(ast.parse(p.read_text())) for p in PACKAGE.rglob("*.py")
                 if "labextension" not in p.parts and module_name(p) not in allowed}
    assert {m: found for m, found in offenders.items() if found} == {}


def test_no_attribute_sniffing():
    sniffing = [f"{module_name(p)}: {ast.unparse(n)}" for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts
                for n in ast.walk(ast.parse(p.read_text()))
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hasattr"]
    assert sniffing == []

import subprocess
import sys

SCRIPT = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "ainative")
heavy = [m for m in ("jax", "torch", "pyro", "onnxruntime", "sympy", "lark") if m in sys.modules]
print(",".join(heavy))
"""


def test_load_ext_imports_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_public_names():
    import ainative

    assert {"model", "Model", "ModelError", "ModelSyntaxError", "ShapeError", "UnknownNameError",
            "DataError", "FitResult"} <= set(ainative.__all__)
    assert all(issubclass(getattr(ainative, e), ainative.ModelError)
               for e in ("ModelSyntaxError", "ShapeError", "UnknownNameError", "DataError"))


def test_federated_learning_without_flower_says_how_to_get_it():
    script = ("import sys; sys.modules['flwr'] = None\n"
              "import ainative\n"
              "try:\n    import ainative.federated\nexcept ainative.ModelError as error:\n    print(error)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "pip install 'ainative[federated]'" in out


def test_a_model_carries_its_cell_so_another_process_can_rebuild_it():
    import ainative
    from tests.cells import MLP

    original = ainative.model(MLP, header="mlp(x) -> y")
    rebuilt = ainative.model(original.text)
    assert rebuilt.ir == original.ir and rebuilt.text == original.text
    assert original.text.startswith("%%model mlp(x) -> y\n")

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

"""The steps of a model's Kubeflow pipeline: each function's source becomes one component of the pipeline.

``kfp`` copies each function's body, not this module, into the pipeline spec, and runs it in the pipeline's
container, where ainative is installed: so each body imports what it uses itself and rebuilds the model with
the public ``ainative.model(cell)`` from the cell text that is a pipeline parameter (never pickled code), as a
notebook would. Those imports run in the container, not here (tests/test_architecture.py knows this module).

``dims`` arrive as a protobuf ``Struct``, whose numbers are floats: each step makes them integers again.
The annotations (``Input[Dataset]``, ``Output[Metrics]``) are kfp's artifact types: they make every input and
output of a component typed in the compiled YAML. This module is imported only when a pipeline is built.
"""

from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output


def validate_data(cell: str, data: str, dims: dict, dataset: Output[Dataset]) -> None:
    """Read the ``.npz`` at ``data``, check it against the model's inputs and shapes, and pass it on as a dataset.

    A missing input or an array the model's shapes refuse fails the step with the notebook's ``DataError`` or
    ``ShapeError``; an array the model has no input for is refused rather than silently dropped.
    """
    import shutil

    import numpy as np

    import ainative

    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    with np.load(data) as arrays:
        given = {name: arrays[name] for name in arrays.files}
    missing = [name for name in m.inputs if name not in given]
    if missing:
        raise ainative.DataError(f"{data} has no array for input {', '.join(missing)} of {m.name}")
    unknown = sorted(set(given) - set(m.inputs))
    if unknown:
        raise ainative.DataError(f"{data} has {', '.join(unknown)}, which {m.name} has no input for "
                                 f"(its inputs: {', '.join(m.inputs)})")
    m.init(0, **given, **dims)
    shutil.copyfile(data, dataset.path)


def train_params(cell: str, dataset: Input[Dataset], dims: dict, loss: str, steps: int, optimizer: str,
                 learning_rate: float, batch_size: int, seed: int, params: Output[Model], metrics: Output[Metrics]
                 ) -> None:
    """Fit a deterministic model as ``m.fit(m.init(seed, ...), data, ...)`` would in the notebook.

    ``optimizer`` is "adam" or "sgd" with ``learning_rate``; ``batch_size`` 0 is the whole data; ``loss`` ""
    is the model's only scalar output. The parameters go to ``params`` as ``.npz``; the loss history's first,
    last and least values go to ``metrics``.
    """
    import numpy as np
    import optax

    import ainative

    optimizers = {"adam": optax.adam, "sgd": optax.sgd}
    if optimizer not in optimizers:
        raise ainative.ModelError(f"optimizer {optimizer!r} is not one of {', '.join(optimizers)}")
    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    with np.load(dataset.path) as arrays:
        data = {name: arrays[name] for name in arrays.files}
    start = m.init(seed, **{name: data[name] for name in m.inputs}, **dims)
    result = m.fit(start, data, loss or None, steps=steps, optimizer=optimizers[optimizer](learning_rate),
                   batch_size=batch_size or None, seed=seed, progress=False)
    with open(params.path, "wb") as stream:
        np.savez(stream, **{name: np.asarray(value) for name, value in result.params.items()})
    history = np.asarray(result.history, dtype=float)
    metrics.log_metric("first_loss", float(history[0]))
    metrics.log_metric("final_loss", float(history[-1]))
    metrics.log_metric("least_loss", float(np.min(history)))


def export_params(cell: str, params: Input[Model], dims: dict, onnx: Output[Model], serving: Output[Artifact],
                  metrics: Output[Metrics]) -> None:
    """Write the serving repository of the trained model (``m.export_serving``) and its verified ONNX graph.

    The repository's ONNX file is checked in onnxruntime against JAX before the repository is written, and
    the check raising fails the step; its figures go to ``metrics``. ``onnx`` is that same file.
    """
    import shutil
    from pathlib import Path

    import numpy as np

    import ainative

    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    with np.load(params.path) as arrays:
        values = {name: arrays[name] for name in arrays.files}
    written = m.export_serving(serving.path, values, overwrite=True, **dims)
    shutil.copyfile(Path(serving.path) / m.name / "1" / "model.onnx", onnx.path)
    report = written.onnx
    for figure in ("max_abs_error", "max_rel_error", "random_max_abs_error", "random_max_rel_error"):
        metrics.log_metric(figure, float(getattr(report, figure)))
    metrics.log_metric("nodes", report.nodes)

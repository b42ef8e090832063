"""The steps of a model's Kubeflow pipeline: each function's source becomes one component of the pipeline.

``kfp`` copies each function's body, not this module, into the pipeline spec, and runs it in the pipeline's
container, where ainative is installed: so each body imports what it uses itself and rebuilds the model with
the public ``ainative.model(cell)`` from the cell text that is a pipeline parameter (never pickled code), as a
notebook would. Those imports run in the container, not here (tests/test_architecture.py knows this module). The
deploy step alone needs no ainative: its container has the Kubernetes client.

``dims`` arrive as a protobuf ``Struct``, whose numbers are floats: each step makes them integers again.
The annotations (``Input[Dataset]``, ``Output[Metrics]``) are kfp's artifact types: they make every input and
output of a component typed in the compiled YAML. This module is imported only when a pipeline is built.
"""

from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output


def validate_data(cell: str, data: Input[Dataset], dims: dict, dataset: Output[Dataset]) -> None:
    """Read the data file (``.npz`` or Parquet, ``ainative.load_data``), check it against the model's inputs and
    shapes, and pass it on as an ``.npz`` dataset.

    A missing input or an array the model's shapes refuse fails the step with the notebook's ``DataError`` or
    ``ShapeError`` (``m.check_data``); an array the model has no input for is refused rather than silently dropped.
    """
    import numpy as np

    import ainative

    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    given = ainative.load_data(data.path)
    missing = [name for name in m.inputs if name not in given]
    if missing:
        raise ainative.DataError(f"{data.uri} has no array for input {', '.join(missing)} of {m.name}")
    unknown = sorted(set(given) - set(m.inputs))
    if unknown:
        raise ainative.DataError(f"{data.uri} has {', '.join(unknown)}, which {m.name} has no input for "
                                 f"(its inputs: {', '.join(m.inputs)})")
    m.check_data(given, **dims)
    with open(dataset.path, "wb") as stream:
        np.savez(stream, **given)


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
    for figure, value in written.onnx.metrics().items():
        metrics.log_metric(figure, value)


def train_posterior(cell: str, dataset: Input[Dataset], dims: dict, method: str, num_warmup: int, num_samples: int,
                    num_chains: int, steps: int, lr: float, seed: int, precision: str, posterior: Output[Model],
                    metrics: Output[Metrics]) -> None:
    """Fit a probabilistic model as ``m.fit(data, method, ...)`` would in the notebook: NUTS or SVI.

    The posterior goes to ``posterior`` as ``Posterior.save`` writes it (arrays and JSON, no pickle). NUTS's
    divergences, largest R̂ and least bulk and tail ESS go to ``metrics``, and a fit that fails a diagnostic says
    why in the step's log; SVI's first and final loss go there instead.
    """
    import numpy as np

    import ainative

    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    with np.load(dataset.path) as arrays:
        data = {name: arrays[name] for name in arrays.files}
    fitted = m.fit(data, method, num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains, steps=steps,
                   lr=lr, seed=seed, precision=precision, progress=False, **dims)
    fitted.save(posterior.path)
    report = fitted.diagnostics
    if report is not None:
        print(report)
        metrics.log_metric("divergences", report.divergences)
        metrics.log_metric("max_rhat", float(report.max_rhat))
        metrics.log_metric("min_ess_bulk", float(report.min_ess_bulk))
        metrics.log_metric("min_ess_tail", float(report.min_ess_tail))
    if len(fitted.history):
        metrics.log_metric("first_loss", float(fitted.history[0]))
        metrics.log_metric("final_loss", float(fitted.history[-1]))


def export_posterior(cell: str, posterior: Input[Model], dims: dict, quantiles: list, draws: int,
                     onnx: Output[Model], serving: Output[Artifact], metrics: Output[Metrics]) -> None:
    """Write the serving repository of the fitted model's posterior predictive (``m.export_serving``): its location
    and ``quantiles`` over ``draws`` posterior draws, in an ONNX graph checked in onnxruntime against JAX before
    the repository is written (the check raising fails the step); its figures go to ``metrics``."""
    import shutil
    from pathlib import Path

    import ainative

    m, dims = ainative.model(cell), {name: int(size) for name, size in dims.items()}
    fitted = ainative.Posterior.load(posterior.path)
    written = m.export_serving(serving.path, fitted, overwrite=True, quantiles=tuple(quantiles), draws=draws, **dims)
    shutil.copyfile(Path(serving.path) / m.name / "1" / "model.onnx", onnx.path)
    for figure, value in written.onnx.metrics().items():
        metrics.log_metric(figure, value)


def deploy_serving(serving: Input[Artifact], name: str, service_account: str) -> str:
    """Apply the serving repository's KServe ``InferenceService`` in this cluster, pointed at the repository where
    the pipeline stored it; returns what was done. ``service_account`` (when not "") is the one KServe reads the
    repository with: the pipeline's artifact store needs credentials that the default account lacks.

    Off a cluster (kfp's local runner, a laptop) there is nothing to apply to, and a cluster without KServe has no
    ``InferenceService``: the step says so and succeeds, since the repository is already written. A ``minio://``
    artifact store (Kubeflow's own) is S3 to KServe, which needs the store's credentials (docs/pipelines.md).
    """
    import os
    from pathlib import Path

    import yaml

    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        message = (f"not deployed: this step is not running in a Kubernetes cluster; the repository is at "
                   f"{serving.uri}, and {name}/inferenceservice.yaml in it is the manifest to apply")
        print(message)
        return message
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    config.load_incluster_config()
    groups = {group.name for group in client.ApisApi().get_api_versions().groups}
    if "serving.kserve.io" not in groups:
        message = ("not deployed: this cluster has no KServe (no serving.kserve.io API); the repository is at "
                   f"{serving.uri}")
        print(message)
        return message
    manifest = yaml.safe_load((Path(serving.path) / name / "inferenceservice.yaml").read_text())
    uri = serving.uri.replace("minio://", "s3://", 1) if serving.uri.startswith("minio://") else serving.uri
    manifest["spec"]["predictor"]["model"]["storageUri"] = f"{uri.rstrip('/')}/{name}"
    if service_account:
        manifest["spec"]["predictor"]["serviceAccountName"] = service_account
    namespace = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read_text().strip()
    api, service = client.CustomObjectsApi(), manifest["metadata"]["name"]
    where = dict(group="serving.kserve.io", version="v1beta1", namespace=namespace, plural="inferenceservices")
    try:
        api.create_namespaced_custom_object(body=manifest, **where)
        done = "created"
    except ApiException as error:
        if error.status != 409:
            raise
        api.patch_namespaced_custom_object(name=service, body=manifest, **where)
        done = "updated"
    message = f"{done} InferenceService {service} in namespace {namespace}, serving {uri.rstrip('/')}/{name}"
    print(message)
    return message

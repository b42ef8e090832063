"""A model repository for serving: one verified ONNX file and the metadata each server reads.

``FOLDER/NAME/1/model.onnx`` is shared by every format: Open Inference Protocol V2 metadata
(``metadata.json``), MLServer (``settings.json``, ``model-settings.json`` with ainative's
onnxruntime runtime), Triton (``config.pbtxt``) and a KServe ``InferenceService`` manifest.
Every file is written atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ExportError
from .files import refuse_to_overwrite, write_atomic
from .verified import ExportReport

#: writes the verified ONNX file at a path (``overwrite`` as given): what a model's ``export_onnx`` does
WriteOnnx = Callable[[Path, bool], ExportReport]

FORMATS = ("kserve-v2", "mlserver", "triton", "kserve")
PLATFORM = "onnxruntime_onnx"
RUNTIME = "ainative.serving.mlserver.OnnxModel"


@dataclass(frozen=True)
class ServingReport:
    """Where the repository's files went, and the ONNX verification behind them."""

    folder: str
    files: tuple[str, ...]
    onnx: ExportReport

    def __str__(self) -> str:
        listing = "\n".join(f"  {f}" for f in self.files)
        return f"model repository {self.folder}:\n{listing}\n{self.onnx}"

    def to_json(self) -> dict:
        """The report as plain data for tools: what to show as written (the repository), its files, the check."""
        return {"paths": [self.folder], "folder": self.folder, "files": list(self.files), "onnx": self.onnx.to_json()}


def tensor_metadata(session_tensors) -> list[dict]:
    """V2 metadata of onnxruntime's inputs or outputs: a named batch axis becomes -1."""
    return [{"name": t.name, "datatype": "FP32", "shape": [d if isinstance(d, int) else -1 for d in t.shape]}
            for t in session_tensors]


def _triton_tensor(entry: dict, batched: bool) -> str:
    dims = entry["shape"][1:] if batched else entry["shape"]
    reshape = ""
    if not dims:
        dims, reshape = [1], " reshape: { shape: [ ] }"
    return (f'  {{ name: "{entry["name"]}" data_type: TYPE_FP32 dims: [ {", ".join(map(str, dims))} ]'
            f"{reshape} }}")


def triton_config(name: str, inputs: list[dict], outputs: list[dict], max_batch_size: int) -> str:
    """``config.pbtxt``: batched (dims without the batch axis) when every tensor has a leading -1."""
    batched = all(t["shape"][:1] == [-1] for t in inputs + outputs)
    lines = [f'name: "{name}"', f'platform: "{PLATFORM}"', f"max_batch_size: {max_batch_size if batched else 0}",
             "input [", ",\n".join(_triton_tensor(t, batched) for t in inputs), "]",
             "output [", ",\n".join(_triton_tensor(t, batched) for t in outputs), "]",
             "instance_group [ { kind: KIND_CPU count: 1 } ]", ""]
    return "\n".join(lines)


def inference_service(name: str, storage_uri: str) -> str:
    """A KServe ``InferenceService`` (v1beta1) serving the ONNX model over the V2 protocol."""
    service = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")[:63] or "model"
    return "\n".join([
        "apiVersion: serving.kserve.io/v1beta1",
        "kind: InferenceService",
        "metadata:",
        f"  name: {service}",
        "spec:",
        "  predictor:",
        "    model:",
        "      modelFormat:",
        "        name: onnx",
        "      protocolVersion: v2",
        f"      storageUri: {json.dumps(storage_uri)}",
        "",
    ])


def export_serving(name: str, folder, write_onnx: WriteOnnx, *, formats=FORMATS, storage_uri: str | None = None,
                   version: str = "1", max_batch_size: int = 64, overwrite: bool = False) -> ServingReport:
    """Write the repository of model ``name`` for ``formats`` under ``folder``; the ONNX file is verified first.

    An existing model folder is replaced only with ``overwrite=True``.
    """
    import onnxruntime

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown serving format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    root = Path(folder)
    home = root / name
    refuse_to_overwrite(home, overwrite)
    report = write_onnx(home / version / "model.onnx", overwrite)
    session = onnxruntime.InferenceSession(report.path, providers=["CPUExecutionProvider"])
    inputs, outputs = tensor_metadata(session.get_inputs()), tensor_metadata(session.get_outputs())
    metadata = {"name": name, "versions": [version], "platform": PLATFORM, "inputs": inputs,
                "outputs": outputs}
    written = [report.path]
    if "kserve-v2" in formats:
        written.append(write_atomic(home / "metadata.json", json.dumps(metadata, indent=2) + "\n"))
    if "mlserver" in formats:
        settings = {"debug": False, "parallel_workers": 0, "metrics_endpoint": None}
        model_settings = {**metadata, "implementation": RUNTIME,
                          "parameters": {"uri": f"./{version}/model.onnx", "version": version}}
        written.append(write_atomic(root / "settings.json", json.dumps(settings, indent=2) + "\n"))
        written.append(write_atomic(home / "model-settings.json", json.dumps(model_settings, indent=2) + "\n"))
    if "triton" in formats:
        written.append(write_atomic(home / "config.pbtxt", triton_config(name, inputs, outputs,
                                                                            max_batch_size)))
    if "kserve" in formats:
        uri = storage_uri or f"pvc://models/{name}"
        written.append(write_atomic(home / "inferenceservice.yaml", inference_service(name, uri)))
    return ServingReport(str(root), tuple(str(p) for p in written), report)

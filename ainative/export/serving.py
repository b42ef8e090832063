"""A model repository for serving: one verified ONNX file and the metadata each server reads.

``FOLDER/NAME/1/model.onnx`` is shared by every format: Open Inference Protocol V2 metadata
(``metadata.json``), MLServer (``settings.json``, ``model-settings.json`` with ainative's
onnxruntime runtime), Triton (``config.pbtxt``) and a KServe ``InferenceService`` manifest.

The model's folder is built in a workspace next to where it goes and renamed into place in one step,
after the ONNX file is verified: a reader sees the old folder or the whole new one, and two exports racing
for a name cannot both win. A repository folder that did not exist appears whole, ``settings.json``
with it. ``settings.json`` belongs to the repository, not to a model: an existing one is never replaced.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ExistsError, ExportError
from ..runtime.atomic import make_folder, write_atomic
from .files import (
    checked,
    claim,
    clean_leftovers,
    create_once,
    os_errors,
    refuse_to_overwrite,
    replace_folder,
    workspace,
)
from .verified import ExportReport

#: writes the verified ONNX file at a path (``overwrite`` as given): what a model's ``export_onnx`` does
WriteOnnx = Callable[[Path, bool], ExportReport]

FORMATS = ("kserve-v2", "mlserver", "triton", "kserve")
PLATFORM = "onnxruntime_onnx"
RUNTIME = "ainative.serving.mlserver.OnnxModel"


@dataclass(frozen=True)
class ServingReport:
    """Where the repository's files went, and the ONNX verification behind them.

    ``kept``: files of the repository that were there already and were left as they were (``settings.json``).
    """

    folder: str
    files: tuple[str, ...]
    onnx: ExportReport
    kept: tuple[str, ...] = ()

    def __str__(self) -> str:
        listing = "\n".join([*(f"  {f}" for f in self.files), *(f"  {f} (kept as it was)" for f in self.kept)])
        return f"model repository {self.folder}:\n{listing}\n{self.onnx}"

    def to_json(self) -> dict:
        """The report as plain data for tools: what to show as written (the repository), its files, the check."""
        return {"paths": [self.folder], "folder": self.folder, "files": list(self.files), "kept": list(self.kept),
                "onnx": self.onnx.to_json()}


def require_plain_name(value: str, what: str) -> None:
    """An ``ExportError`` unless ``value`` names one folder inside the repository: it comes from the user and
    becomes a path."""
    if not isinstance(value, str) or not value:
        raise ExportError(f"the {what} must be a non-empty name, not {value!r}")
    for character, why in (("\0", "a NUL character"), ("/", "a path separator"), ("\\", "a path separator")):
        if character in value:
            raise ExportError(f"the {what} {value!r} contains {why}; it must be a plain folder name")
    if value.startswith("."):
        raise ExportError(f"the {what} {value!r} starts with '.': it would leave the folder or be hidden from "
                          "servers; it must be a plain folder name")


def tensor_metadata(session_tensors) -> list[dict]:
    """V2 metadata of onnxruntime's inputs or outputs: a named batch axis becomes -1."""
    return [{"name": t.name, "datatype": "INT64" if t.type == "tensor(int64)" else "FP32",
             "shape": [d if isinstance(d, int) else -1 for d in t.shape]}
            for t in session_tensors]


def _triton_tensor(entry: dict, batched: bool) -> str:
    dims = entry["shape"][1:] if batched else entry["shape"]
    reshape = ""
    if not dims:
        dims, reshape = [1], " reshape: { shape: [ ] }"
    return (f'  {{ name: "{entry["name"]}" data_type: TYPE_{entry["datatype"]} dims: [ {", ".join(map(str, dims))} ]'
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


def _build(root: Path, name: str, write_onnx: WriteOnnx, *, formats, storage_uri: str | None, version: str,
           max_batch_size: int) -> tuple[ExportReport, list[str]]:
    """Write the repository under ``root``, a workspace, the ONNX file first (verified before it is written);
    the report of that check and the files written."""
    import onnxruntime

    home = root / name
    report = write_onnx(home / version / "model.onnx", False)
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
    return report, [Path(p).relative_to(root).as_posix() for p in written]


def _repository_folder(folder: Path) -> Path:
    """``folder`` resolved once, so that every write lands inside it; its parent is made if need be."""
    make_folder(folder.parent)
    root = folder.resolve()
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is not a folder", str(root))
    return root


def _check_model_folder(root: Path, name: str, overwrite: bool) -> None:
    """An ``ExportError`` unless the model may go to ``root/name``: never through a symbolic link, never over
    a file, over a folder only with ``overwrite``."""
    home = root / name
    if home.is_symlink():
        raise ExportError(f"{home} is a symbolic link (to {os.readlink(home)}); an export does not write through "
                          "links: remove it or export elsewhere")
    if home.exists() and not home.is_dir():
        raise ExportError(f"{home} is not a folder: remove it or export elsewhere")
    refuse_to_overwrite(home, overwrite)


def _commit(tree: Path, root: Path, name: str, *, fresh: bool, overwrite: bool, attic: Path) -> tuple[str, ...]:
    """Move the repository built at ``tree`` into place at ``root``; the files of it left as they were.

    A ``root`` that did not exist appears whole. In one that does, ``settings.json`` is added only where
    there is none, then the model's folder is claimed, or with ``overwrite`` replaced, in one step.
    """
    if fresh and claim(tree, root):
        return ()
    settings = tree / "settings.json"
    kept = ("settings.json",) if settings.exists() and not create_once(settings, root / "settings.json") else ()
    if overwrite:
        replace_folder(tree / name, root / name, attic)
    elif not claim(tree / name, root / name):
        raise ExistsError(f"{root / name} exists; pass overwrite=True to replace it")
    return kept


def export_serving(name: str, folder, write_onnx: WriteOnnx, *, formats=FORMATS, storage_uri: str | None = None,
                   version: str = "1", max_batch_size: int = 64, overwrite: bool = False) -> ServingReport:
    """Write the repository of model ``name`` for ``formats`` under ``folder``; the ONNX file is verified first.

    An existing model folder is replaced only with ``overwrite=True``; an existing ``settings.json`` never.
    Leftovers of exports that were killed are removed first.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown serving format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    require_plain_name(name, "model name")
    require_plain_name(version, "version")
    shown = checked(folder)
    with os_errors(shown):
        root = _repository_folder(shown)
        _check_model_folder(root, name, overwrite)
        fresh = not root.exists()
        base = root.parent if fresh else root
        clean_leftovers(base)
        with workspace(base, root.name if fresh else name) as work:
            tree = work / "repository"
            report, written = _build(tree, name, write_onnx, formats=formats, storage_uri=storage_uri,
                                     version=version, max_batch_size=max_batch_size)
            kept = _commit(tree, root, name, fresh=fresh, overwrite=overwrite, attic=work)
    return ServingReport(str(shown), tuple(str(shown / f) for f in written if f not in kept),
                         replace(report, path=str(shown / written[0])), tuple(str(shown / f) for f in kept))

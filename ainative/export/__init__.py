"""Exports of a model: a verified ONNX graph, a serving repository, a Kubeflow pipeline."""

#: what ``Model.export`` writes, by the name every view gives it (here, so the views can name them without importing
#: the models)
EXPORT_FORMATS = ("onnx", "serving", "pipeline")

"""onnxruntime sessions built from verified payload bytes, with the runtime's threading settings."""

from __future__ import annotations

import onnxruntime as ort

from sigma9_runtime.errors import IncompatibleArtifact

_PROVIDERS = ["CPUExecutionProvider"]


def make_session(model: bytes, *, intra_op_threads: int = 1, file: str) -> ort.InferenceSession:
    """An onnxruntime CPU session over ``model`` (bytes already verified against the manifest).

    ``intra_op_threads`` bounds the threads one call may use (default 1: the live container scores
    from its own threads and should not oversubscribe the cores). Calls run sequentially.

    Raises
    ------
    IncompatibleArtifact
        onnxruntime cannot load the graph (naming ``file``).
    """
    if intra_op_threads < 1:
        raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(model, sess_options=options, providers=_PROVIDERS)
    except Exception as e:  # onnxruntime raises its own exception types (InvalidGraph, Fail, ...)
        raise IncompatibleArtifact(f"onnxruntime cannot load the model: {e}", file=file) from e


def require_io(session: ort.InferenceSession, *, input_name: str, output_name: str, width: int, file: str) -> None:
    """Check that ``session`` takes float ``input_name`` of ``width`` columns and has ``output_name``.

    Raises
    ------
    IncompatibleArtifact
        A name is missing, the input is not float32, or its column count is not ``width``.
    """
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    if input_name not in inputs:
        raise IncompatibleArtifact(f"has no input {input_name!r} (inputs: {', '.join(inputs)})", file=file)
    if output_name not in outputs:
        raise IncompatibleArtifact(f"has no output {output_name!r} (outputs: {', '.join(outputs)})", file=file)
    model_input = inputs[input_name]
    if model_input.type != "tensor(float)":
        raise IncompatibleArtifact(f"input {input_name!r} is {model_input.type}, expected tensor(float)", file=file)
    shape = model_input.shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != width):
        raise IncompatibleArtifact(f"input {input_name!r} has shape {shape}, expected [N, {width}]", file=file)


def output_width(session: ort.InferenceSession, output_name: str) -> int | None:
    """Static column count of a 2-D output, or None when the model leaves it symbolic."""
    for output in session.get_outputs():
        if output.name == output_name and len(output.shape) == 2 and isinstance(output.shape[1], int):
            return int(output.shape[1])
    return None

"""Parity of an exported ONNX model with the native model it came from."""

from __future__ import annotations

from typing import Any

import numpy as np

from sigma9_runtime.errors import ParityError
from sigma9_runtime.inference.sessions import make_session

DEFAULT_TOLERANCE = 1e-5


def onnx_max_abs_diff(
    onnx_model: bytes, native: Any, rows: np.ndarray, *, input_name: str = "features", output: str = "probabilities"
) -> float:
    """Largest absolute difference between onnxruntime's ``output`` and ``native.predict_proba`` on ``rows``.

    Both see the same values: the rows as float32, which is what the runtime feeds (the native model
    gets them widened back to float64).
    """
    x = np.ascontiguousarray(rows, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"parity needs a non-empty 2-D array of rows, got shape {x.shape}")
    session = make_session(onnx_model, file="<exported model>")
    got = np.asarray(session.run([output], {input_name: x})[0], dtype=np.float64)
    expected = np.asarray(native.predict_proba(x.astype(np.float64)), dtype=np.float64)
    if got.shape != expected.shape:
        raise ParityError(f"ONNX output {output!r} has shape {got.shape}, native predict_proba {expected.shape}")
    return float(np.max(np.abs(got - expected)))


def check_parity(
    onnx_model: bytes,
    native: Any,
    rows: np.ndarray,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    what: str = "model",
    input_name: str = "features",
    output: str = "probabilities",
) -> float:
    """:func:`onnx_max_abs_diff`, raising when it exceeds ``tolerance``.

    Raises
    ------
    ParityError
        The ONNX model's probabilities differ from the native ones by more than ``tolerance``.
    """
    diff = onnx_max_abs_diff(onnx_model, native, rows, input_name=input_name, output=output)
    if not diff <= tolerance:  # also catches NaN
        raise ParityError(
            f"ONNX {what} differs from the native model by {diff:.3g} on {len(rows)} rows (tolerance {tolerance:g})"
        )
    return diff

"""Tests of the export stage: ONNX conversion, parity, surrogate, payload, publishing."""

"""Tests of ONNX inference."""

"""Sigma9 runtime: contracts, schema hashing, online features, artifact registry, ONNX inference,
gates and scoring-strategy plugins for the live Sigma9 container.

Light by design: it never imports dagster, nautilus_trader, lightgbm, hdbscan or umap.
"""

__version__ = "0.1.0"

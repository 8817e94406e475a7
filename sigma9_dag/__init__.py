"""Sigma9 lab: the offline research pipeline (lake, features, discovery, validation, distill,
backtest, export) as Dagster software-defined assets, and the ``sigma9`` command line.

Importing this package is cheap; Dagster definitions live in :mod:`sigma9_dag.definitions`.
"""

"""The one factory of scoring strategies: a plugin reference to a class, and a class to an instance.

A reference is a registered short name or an import path ``package.module:Class`` (as NautilusTrader's
``ImportableStrategyConfig``); the class must subclass
:class:`~sigma9_runtime.strategies.base.ScoringStrategy`. Unknown names, unimportable modules, missing
or foreign classes raise :class:`~sigma9_runtime.errors.PluginError`.

Examples
--------
>>> resolve_strategy("seismograph").__name__
'SeismographStrategy'
>>> resolve_strategy("sigma9_runtime.strategies.plugins.seismograph_ml:SeismographMLStrategy").name
'seismograph_ml'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from sigma9_runtime.errors import PluginError
from sigma9_runtime.strategies.base import ScoringStrategy

PLUGINS: dict[str, str] = {
    "seismograph": "sigma9_runtime.strategies.plugins.seismograph:SeismographStrategy",
    "seismograph_ml": "sigma9_runtime.strategies.plugins.seismograph_ml:SeismographMLStrategy",
}
"""Short names and the import paths they stand for."""


def import_path(reference: str) -> str:
    """The import path of a plugin reference (a short name is looked up in :data:`PLUGINS`)."""
    if ":" in reference:
        return reference
    try:
        return PLUGINS[reference]
    except KeyError:
        known = ", ".join(sorted(PLUGINS))
        raise PluginError(
            f"unknown strategy plugin {reference!r} (known: {known}, or 'package.module:Class')"
        ) from None


def resolve_strategy(reference: str) -> type[ScoringStrategy]:
    """The strategy class named by ``reference``."""
    path = import_path(reference)
    module_name, _, class_name = path.partition(":")
    if not module_name or not class_name:
        raise PluginError(f"strategy plugin {reference!r}: expected 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise PluginError(f"strategy plugin {reference!r}: cannot import {module_name!r} ({e})") from e
    cls = getattr(module, class_name, None)
    if cls is None:
        raise PluginError(f"strategy plugin {reference!r}: {module_name} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, ScoringStrategy)):
        raise PluginError(f"strategy plugin {reference!r}: {class_name} is not a ScoringStrategy")
    return cls


def names_of(reference: str) -> frozenset[str]:
    """Every reference that names the same plugin (its short name and its import path)."""
    cls = resolve_strategy(reference)
    path = f"{cls.__module__}:{cls.__qualname__}"
    return frozenset({reference, path, *(n for n, p in PLUGINS.items() if p == path)})


def create_strategy(reference: str, *, params: Mapping[str, Any] | None = None, **dependencies: Any) -> ScoringStrategy:
    """Build the strategy named by ``reference`` with ``params`` and its dependencies
    (``features``, ``gate``, optionally ``inference``, ``reloader``, ``feature_log``)."""
    return resolve_strategy(reference)(params=params, **dependencies)

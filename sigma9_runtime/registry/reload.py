"""Hot reload: pick up a newer verified artifact at a safe point, refuse a bad one, keep serving.

:class:`ArtifactReloader` is polled by a strategy between steps
(:meth:`~sigma9_runtime.strategies.base.ScoringStrategy.advance`), at most once per ``interval_sec`` of
**event time**. A poll lists the store (cheap: manifests only) and tries, newest first, the manifests
of the runtime's FeatureSpec that are newer than the active one (by ``created_at``, then id). The first
that passes every check of :meth:`ArtifactRegistry.load` and builds an
:class:`~sigma9_runtime.inference.MLInference` replaces the active artifact. One that fails (a tampered
payload, another schema hash, a missing file, an ONNX model onnxruntime refuses, ...) is **refused**:
logged as a warning, counted in :attr:`ArtifactReloader.refused`, remembered so it is not tried again,
and the active artifact stays. A poll never raises.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.registry.base import ArtifactRegistry, LoadedArtifact
from sigma9_runtime.units import NANOS_PER_SECOND

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """A manifest the reloader refused."""

    artifact_id: str
    error: str
    """The error's class name and message."""


class ArtifactReloader:
    """Polls an :class:`ArtifactRegistry` for a newer artifact of ``spec`` (see the module docstring).

    Parameters
    ----------
    registry, spec, subscribed_streams
        What the artifact is loaded from and verified against (as :meth:`ArtifactRegistry.load`).
    active
        The artifact in use now.
    make_inference
        Builds the inference of a loaded artifact (``MLInference`` with the container's thread count).
    interval_sec
        Event-time seconds between two polls (0: every poll checks).

    Examples
    --------
    >>> reloader = ArtifactReloader(registry, spec, streams, artifact, make_inference=MLInference)  # doctest: +SKIP
    >>> inference = reloader.poll(t_ns)  # None, or the newer artifact's inference  # doctest: +SKIP
    """

    def __init__(
        self,
        registry: ArtifactRegistry,
        spec: FeatureSpec,
        subscribed_streams: Collection[str],
        active: LoadedArtifact,
        *,
        make_inference: Callable[[LoadedArtifact], object],
        interval_sec: int = 60,
    ) -> None:
        self.registry = registry
        self.spec = spec
        self.subscribed_streams = tuple(subscribed_streams)
        self.active = active
        self.make_inference = make_inference
        self.interval_ns = int(interval_sec) * NANOS_PER_SECOND
        self._last_poll: int | None = None
        self._refused_keys: set[tuple[str, object]] = set()
        self.refusals: list[Refusal] = []
        self.refused: Counter[str] = Counter()
        """Refusals per error class name."""
        self.reloads = 0

    def poll(self, now_ns: int) -> object | None:
        """At most once per interval: the inference of a newer verified artifact, else None."""
        if self._last_poll is not None and 0 <= now_ns - self._last_poll < self.interval_ns:
            return None
        self._last_poll = now_ns
        return self.check()

    def check(self) -> object | None:
        """Look now (no interval): the inference of a newer verified artifact, else None. Never raises."""
        try:
            manifests = self.registry.list_manifests().manifests
        except Exception as e:  # a store that cannot be listed right now: keep serving
            log.warning("artifact store %s cannot be listed: %s", self.registry, e)
            return None
        current = (self.active.manifest.created_at, self.active.manifest.id)
        newer = sorted(
            (
                m
                for m in manifests
                if m.feature_spec_ref.id == self.spec.id
                and (m.created_at, m.id) > current
                and (m.id, m.created_at) not in self._refused_keys
            ),
            key=lambda m: (m.created_at, m.id),
            reverse=True,
        )
        for manifest in newer:
            try:
                loaded = self.registry.load(manifest, self.spec, subscribed_streams=self.subscribed_streams)
                inference = self.make_inference(loaded)
            except Exception as e:  # every refusal, whatever raised it, leaves the active artifact in place
                self._refused_keys.add((manifest.id, manifest.created_at))
                self.refused[type(e).__name__] += 1
                self.refusals.append(Refusal(manifest.id, f"{type(e).__name__}: {e}"))
                log.warning(
                    "artifact %s refused, %s stays active: %s: %s", manifest.id, self.active.id, type(e).__name__, e
                )
                continue
            log.info("artifact %s replaces %s", loaded.id, self.active.id)
            self.active = loaded
            self.reloads += 1
            return inference
        return None

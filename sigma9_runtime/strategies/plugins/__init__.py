"""Scoring strategy plugins, one per module, resolved by :func:`sigma9_runtime.strategies.factory.create_strategy`:
``seismograph`` (:mod:`.seismograph`, the transparent heuristic and the ``seismograph_only`` baseline) and
``seismograph_ml`` (:mod:`.seismograph_ml`, the heuristic plus the artifact's ML overlay)."""

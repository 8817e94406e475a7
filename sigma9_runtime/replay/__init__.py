"""Replay: play a day through the runtime exactly as live, driven by event time.

* :mod:`~sigma9_runtime.replay.dispatcher`: :class:`TickDispatcher`, ticks to the strategy and the 1-second
  scanner and ignition-monitor loops;
* :mod:`~sigma9_runtime.replay.sources`: frames of a lake day or of a Massive WebSocket capture;
* :mod:`~sigma9_runtime.replay.run`: :func:`replay_frames` and :func:`write_alerts`.
"""

from sigma9_runtime.replay.dispatcher import Ignition, TickDispatcher
from sigma9_runtime.replay.run import ReplayResult, replay_frames, write_alerts
from sigma9_runtime.replay.sources import DayFeed, capture_frames, feed_frames, lake_day_feed, lake_frames

__all__ = [
    "DayFeed",
    "Ignition",
    "ReplayResult",
    "TickDispatcher",
    "capture_frames",
    "feed_frames",
    "lake_day_feed",
    "lake_frames",
    "replay_frames",
    "write_alerts",
]

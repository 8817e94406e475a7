"""The lab's side of the feature engine: offline batch over the lake, feature stats, replay and parity."""

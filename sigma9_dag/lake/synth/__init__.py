"""The synthetic market: the embedded default data, with planted surges and ground truth."""

from sigma9_dag.lake.synth.generator import SynthSummary, generate_synthetic_lake

__all__ = ["SynthSummary", "generate_synthetic_lake"]

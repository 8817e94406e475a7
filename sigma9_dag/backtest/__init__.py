"""The lab's NautilusTrader backtest (``docs/backtest.md``).

A BacktestRunConfig becomes a Nautilus ``BacktestEngine`` over the lake (:mod:`.engine`, :mod:`.data`)
with the run's execution realism mapped onto Nautilus' fill, fee and latency models (:mod:`.execution`);
a Nautilus strategy hosts the runtime's scoring plugin, online features and gate (:mod:`.strategy`,
:mod:`.scoring`); alerts and trades are judged by the evaluation's metrics with both baselines
(:mod:`.evaluate`) and written to the run's output directory (:mod:`.report`).

Entry point: :func:`run_backtest`.
"""

from sigma9_dag.backtest.config import Fold, PreparedRun, prepare
from sigma9_dag.backtest.execution import ExecutionSettings, IBLikeFeeModel, LakeFillModel, latency_model
from sigma9_dag.backtest.run import BacktestResult, execute, run_backtest

__all__ = [
    "BacktestResult",
    "ExecutionSettings",
    "Fold",
    "IBLikeFeeModel",
    "LakeFillModel",
    "PreparedRun",
    "execute",
    "latency_model",
    "prepare",
    "run_backtest",
]

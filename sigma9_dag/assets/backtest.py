"""Backtest stage: the staged candidate artifact through the NautilusTrader engine on the last test days."""

import dagster as dg
import pandas as pd

from sigma9_dag.assets.dataset import STAGE as DATASET
from sigma9_dag.assets.distill import CANDIDATE_STORE, candidate_id, distill
from sigma9_dag.assets.distill import STAGE as DISTILL
from sigma9_dag.backtest import run_backtest
from sigma9_dag.lab.summary import performance_table
from sigma9_dag.lake.coverage import intraday_tables, lake_coverage
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource

STAGE = "backtest"


class BacktestConfig(dg.Config):
    """How much of the test period the engine replays (every symbol, every second of those days)."""

    last_test_days: int = 1
    """The last N lake days of the dataset's test period (0: all of them)."""
    tickers: list[str] = []
    """Score only these tickers (default, empty: the run config's universe)."""
    sessions: list[str] = []
    """Score only these sessions among pre, regular, after (default, empty: the run config's ``session_filter``)."""


@dg.asset(partitions_def=feature_spec_partitions, group_name="backtest", deps=[distill], kinds={"nautilus"})
def backtest(
    context: dg.AssetExecutionContext, config: BacktestConfig, lake: LakeResource, specs: SpecCatalogResource
) -> dg.MaterializeResult:
    """The candidate artifact, hosted by the runtime's strategy plugin, in a Nautilus backtest beside both baselines."""
    spec_id = context.partition_key
    spec, run = specs.spec(spec_id), specs.run_config(spec_id)
    if config.sessions:
        time = run.time.model_copy(update={"session_filter": config.sessions})
        run = type(run).model_validate({**run.model_dump(), "time": time.model_dump()})  # checked like a file
    store = lake.lab(spec_id)
    first, last = store.read_json(DATASET, "split")["parts"]["test"]
    lake_days = lake_coverage(lake.layout()).days(intraday_tables(spec))
    test_days = [d for d in lake_days if first <= d.isoformat() <= last]
    days = test_days[-config.last_test_days :] if config.last_test_days > 0 else test_days
    who = f"{len(config.tickers)} tickers" if config.tickers else "the run's universe"
    context.log.info(f"backtesting {who} on {len(days)} of {len(test_days)} test days: {days[0]} .. {days[-1]}")
    result = run_backtest(
        run,
        spec,
        lake_root=lake.layout().root,
        artifact_root=store.path(DISTILL, CANDIDATE_STORE),
        artifact_id=candidate_id(spec_id),
        out_dir=store.path(STAGE, ""),
        days=days,
        tickers=config.tickers or None,
    )
    performance = result.performance()
    store.write_json(STAGE, "summary", {"days": [d.isoformat() for d in days], "performance": performance})
    alerts = pd.read_parquet(result.paths["alerts"]) if "alerts" in result.paths else pd.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "days": ", ".join(d.isoformat() for d in days),
            "alerts": len(alerts),
            "performance": dg.MetadataValue.md(performance_table(performance)),
            "outputs": dg.MetadataValue.path(str(store.path(STAGE, ""))),
        }
    )

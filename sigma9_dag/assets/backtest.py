"""Backtest stage: the staged candidate artifact through the NautilusTrader engine on the last test days."""

from typing import Annotated, Any

import dagster as dg
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sigma9_dag.assets.config import stage_config
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.distill import DistillOutput
from sigma9_dag.assets.metadata import image, ny_times, table
from sigma9_dag.backtest import run_backtest
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.lab.summary import performance_table
from sigma9_dag.lake.coverage import intraday_tables, lake_coverage
from sigma9_dag.parallel import use_executor
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import ComputeResource, LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import tag_run
from sigma9_runtime.contracts.base import Session

STAGE = "backtest"


class BacktestSettings(BaseModel):
    """How much of the test period the engine replays (every symbol, every second of those days); each field's
    docstring says what it means (the launchpad shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    last_test_days: Annotated[int, Field(ge=0)] = 1
    """The last N lake days of the dataset's test period (0: all of them)."""
    tickers: tuple[str, ...] = ()
    """Score only these tickers (default, empty: the run config's universe)."""
    sessions: tuple[Session, ...] = ()
    """Score only these sessions (default, empty: the run config's ``session_filter``)."""


BacktestConfig = stage_config(BacktestSettings, "BacktestConfig")
"""The backtest's knobs: the fields, defaults and constraints of :class:`BacktestSettings`."""


class BacktestOutput(StageOutput):
    """The Nautilus backtest of one FeatureSpec's candidate: alerts, trades, equity, metrics and report files."""

    def summary(self) -> dict[str, Any]:
        """The days replayed and the performance of the model beside both baselines."""
        return self.document("summary")  # type: ignore[no-any-return]


ALERT_COLUMNS = ("symbol", "score", "threshold", "cluster_id", "hit", "actionable", "lead_min", "net_return")
TRADE_COLUMNS = ("symbol", "shares", "entry_price", "exit_price", "pnl", "net_return")


def alerts_view(alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts as a person reads them: New York time first, then what scored, whether it hit and what it
    earned."""
    if alerts.empty:
        return pd.DataFrame(columns=["time", *ALERT_COLUMNS])
    kept = [c for c in ALERT_COLUMNS if c in alerts.columns]
    return pd.concat([ny_times(alerts["ts_ns"]).rename("time"), alerts[kept]], axis=1)


def trades_view(trades: pd.DataFrame) -> pd.DataFrame:
    """The round trips with their alert, entry and exit times in New York time."""
    if trades.empty:
        return pd.DataFrame(columns=["alert_time", "entry_time", "exit_time", *TRADE_COLUMNS])
    times = {
        name: ny_times(trades[f"{name.removesuffix('_time')}_ts_ns"])
        for name in ("alert_time", "entry_time", "exit_time")
    }
    return pd.concat([pd.DataFrame(times), trades[list(TRADE_COLUMNS)]], axis=1)


@dg.asset(partitions_def=feature_spec_partitions, group_name="backtest", kinds={"nautilus"}, io_manager_key=LAB_STORE)
def backtest(
    context: dg.AssetExecutionContext,
    config: BacktestConfig,
    dataset: DatasetOutput,
    distill: DistillOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
    compute: ComputeResource,
) -> dg.MaterializeResult[BacktestOutput]:
    """The candidate artifact, hosted by the runtime's strategy plugin, in a Nautilus backtest beside both baselines."""
    spec_id = context.partition_key
    tag_run(context, specs)
    settings = config.settings(BacktestSettings)
    spec, run = specs.spec(spec_id), specs.run_config(spec_id)
    if settings.sessions:
        time = run.time.model_copy(update={"session_filter": list(settings.sessions)})
        run = type(run).model_validate({**run.model_dump(), "time": time.model_dump()})  # checked like a file
    store = lake.lab(spec_id)
    first, last = dataset.split()["parts"]["test"]
    lake_days = lake_coverage(lake.layout()).days(intraday_tables(spec))
    test_days = [d for d in lake_days if first <= d.isoformat() <= last]
    days = test_days[-settings.last_test_days :] if settings.last_test_days > 0 else test_days
    who = f"{len(settings.tickers)} tickers" if settings.tickers else "the run's universe"
    context.log.info(f"backtesting {who} on {len(days)} of {len(test_days)} test days: {days[0]} .. {days[-1]}")
    out_dir = store.path(STAGE, "")
    with use_executor(compute.executor(workers=1)):
        result = run_backtest(
            run,
            spec,
            lake_root=lake.layout().root,
            artifact_root=distill.candidate_store(),
            artifact_id=distill.candidate_id,
            out_dir=out_dir,
            days=days,
            tickers=list(settings.tickers) or None,
        )
    performance = result.performance()
    store.write_json(STAGE, "summary", {"days": [d.isoformat() for d in days], "performance": performance})
    alerts = pd.read_parquet(result.paths["alerts"]) if "alerts" in result.paths else pd.DataFrame()
    trades = pd.read_parquet(result.paths["trades"]) if "trades" in result.paths else pd.DataFrame()
    files = tuple(sorted(path.name for path in result.paths.values()))  # alerts.parquet, backtest_report.json, ...
    plots = {
        key: image(result.paths[name].read_bytes(), key)
        for key, name in (("equity_curve", "equity_plot"), ("metrics_plot", "metrics_plot"))
        if name in result.paths
    }
    return dg.MaterializeResult(
        value=BacktestOutput(store=store.root, stage=STAGE, documents=("summary",), files=files),
        metadata={
            "days": ", ".join(d.isoformat() for d in days),
            "alerts": len(alerts),
            "trades": len(trades),
            "performance": dg.MetadataValue.md(performance_table(performance)),
            **plots,
            "alerts_first_rows": table(alerts_view(alerts)),
            "trades_first_rows": table(trades_view(trades)),
            "outputs": dg.MetadataValue.path(str(store.path(STAGE, ""))),
        },
    )

"""Shared factories for the test suite: contract documents and helpers that write them into ``tmp_path``.

Every factory returns a fresh, deeply independent ``dict`` so a test may mutate it freely.
Documents carry their top-level key (``feature_spec``, ``artifact_manifest``, ``backtest_run``),
exactly as a contract file does.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import yaml

from sigma9_runtime.contracts.base import STREAM_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
"""The repository root (tests/ sits directly below it)."""

DEMO_FEATURE_SPEC = ROOT / "feature_specs" / "FS_2026-01-16_002.yaml"
SHIPPED_FEATURE_SPEC = ROOT / "feature_specs" / "FS_2026-01-16_001.yaml"
SHIPPED_RUN_CONFIG = ROOT / "run_configs" / "RUN_2026-01-16_001.yaml"
SCHEMAS_DIR = ROOT / "schemas"

PAYLOAD_BYTES: dict[str, bytes] = {
    "model.onnx": b"onnx model bytes of the stub artifact",
    "clusters.onnx": b"onnx cluster-membership bytes of the stub artifact",
    "thresholds.json": b'{"global_score_min": 0.72, "per_cluster_min": {"C01": 0.65, "C02": 0.8}}\n',
    "explainers.json": b'{"topk": 5}\n',
}
"""Payload files of the stub manifest; their sha256 digests are the real digests of these bytes."""


class _Yaml12SafeLoader(yaml.SafeLoader):
    """SafeLoader where only ``true``/``false`` are booleans (YAML 1.2), so ``on:`` stays the string ``"on"``.

    Plain ``yaml.safe_load`` follows YAML 1.1 and would read the shipped spec's ``params: { on: "close" }``
    as ``{True: "close"}``.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Yaml12SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def safe_load_yaml(text: str) -> Any:
    """Safe-load YAML text with YAML 1.2 booleans."""
    return yaml.load(text, Loader=_Yaml12SafeLoader)  # a SafeLoader subclass: never builds Python objects


@cache
def _shipped(path: Path) -> Any:
    return safe_load_yaml(path.read_text(encoding="utf-8"))


def feature_spec_document() -> dict[str, Any]:
    """The shipped FeatureSpec file ``feature_specs/FS_2026-01-16_001.yaml`` as a document dict."""
    return copy.deepcopy(_shipped(SHIPPED_FEATURE_SPEC))


def run_config_document() -> dict[str, Any]:
    """The shipped BacktestRunConfig file ``run_configs/RUN_2026-01-16_001.yaml`` as a document dict."""
    return copy.deepcopy(_shipped(SHIPPED_RUN_CONFIG))


def sha256_hex(data: bytes) -> str:
    """Lowercase hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@cache
def shipped_schema_hash() -> str:
    """Schema hash of the shipped FeatureSpec (what the lab would write into a manifest)."""
    from sigma9_runtime.contracts import load_feature_spec
    from sigma9_runtime.schema_hash import schema_hash

    return schema_hash(load_feature_spec(SHIPPED_FEATURE_SPEC))


def artifact_manifest_document() -> dict[str, Any]:
    """A valid ArtifactManifest document reproducing the design's example (section 3.2.2).

    Differences from the design text, as the contract requires: ``model.type`` is ``hybrid`` (the
    design lists the alternatives), the schema hash and payload digests are real, payload files are
    ONNX/JSON, and the plugin is the registered name ``seismograph_ml``.
    """
    return {
        "artifact_manifest": {
            "id": "ART_2026-01-16_001",
            "created_at": "2026-01-16T00:00:00+09:00",
            "producer": {"system": "sigma9_dag", "git_commit": "abcdef1234", "python": "3.11.7", "os": "linux"},
            "feature_spec_ref": {
                "id": "FS_2026-01-16_001",
                "schema_hash": shipped_schema_hash(),
                "snapshot_path": "feature_specs_snapshot/FS_2026-01-16_001.yaml",
            },
            "dataset_ref": {
                "universe": "us_equities_filtered",
                "time_range": {"start": "2024-01-01", "end": "2025-12-31"},
                "labeling": {
                    "anchor": "first_cross_prevclose_pct",
                    "anchor_param": 0.10,
                    "pre_window": {"start_offset_min": -30, "end_offset_min": -5},
                },
                "negatives": {
                    "type": ["hard_negative", "same_symbol_other_days", "time_of_day_matched"],
                    "ratio": 5,
                },
            },
            "model": {
                "type": "hybrid",
                "objective": "alert_utility_max",
                "outputs": ["score", "explain_topk", "cluster_id"],
                "thresholds": {"global_score_min": 0.72, "per_cluster_min": {"C01": 0.65, "C02": 0.80}},
            },
            "performance_oos": {
                "split": {"train_end": "2025-06-30", "test_start": "2025-07-01", "test_end": "2025-12-31"},
                "alert_budget": {"max_alerts_per_day": 60},
                "metrics": {
                    "precision_at_budget": 0.31,
                    "median_lead_time_min": 9.0,
                    "tail_loss_p95": -0.07,
                    "utility_score": 1.42,
                },
            },
            "payload": {
                "base_path": "payloads/ART_2026-01-16_001/",
                "files": [{"name": name, "sha256": sha256_hex(data)} for name, data in PAYLOAD_BYTES.items()],
            },
            "compatibility": {
                "runtime_strategy_plugin": "seismograph_ml",
                "required_streams": ["A.*", "T.*", "AM.*"],
                "min_bar_history": {"bar_1s": "60s", "bar_1m": "20m", "daily": "60d"},
            },
        }
    }


def write_yaml(path: Path, document: Any) -> Path:
    """Write ``document`` as block-style YAML to ``path``; return ``path``."""
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_json(path: Path, document: Any) -> Path:
    """Write ``document`` as indented JSON to ``path``; return ``path``."""
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_document(path: Path, document: Any) -> Path:
    """Write ``document`` to ``path`` as JSON for a ``.json`` suffix, YAML otherwise."""
    return write_json(path, document) if path.suffix == ".json" else write_yaml(path, document)


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits}, expected exactly one"
    return hits[0]


def _changed_spec(document: dict[str, Any], changes: dict[str, Any]) -> Any:
    """``document`` (a FeatureSpec file's dict) with ``changes`` applied to its body, as a model."""
    from sigma9_runtime.contracts.feature_spec import FeatureSpec
    from sigma9_runtime.contracts.io import parse_contract

    for dotted, value in changes.items():
        target = document["feature_spec"]
        *path, last = dotted.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return parse_contract(FeatureSpec, document)


def demo_feature_spec(**changes: Any) -> Any:
    """The demo's FeatureSpec ``feature_specs/FS_2026-01-16_002.yaml`` (windows up to 30 minutes, some features
    stepped every minute) as a model, with ``changes`` applied as in :func:`feature_spec`."""
    return _changed_spec(copy.deepcopy(_shipped(DEMO_FEATURE_SPEC)), changes)


def feature_spec(**changes: Any) -> Any:
    """The shipped FeatureSpec as a model, with ``changes`` applied to its body (dotted keys allowed,
    e.g. ``{"calendar.sessions": ["regular"]}``)."""
    return _changed_spec(feature_spec_document(), changes)


MINUTE_ONLY_SOURCES: dict[str, Any] = {
    "sources.tick.enabled": False,
    "sources.bar_1s.enabled": False,
    "windows": [{"name": "w5m", "base": "bar_1m", "length": "5m", "step": "1m"}],
    "features": [
        {
            "key": "vol.range_pct_5m",
            "window": "w5m",
            "op": "range_pct",
            "input": "bar_1m",
            "params": {"use": ["high", "low", "close"]},
        }
    ],
}
"""Changes to the shipped spec that leave it one feature over 1-minute bars, its sources bar_1m + daily."""


# --- artifacts: tiny trained models, published into tmp_path ------------------------------------

ARTIFACT_ID = "ART_2026-01-16_001"
ALL_STREAMS = STREAM_CHANNELS


def feature_rows(n: int, seed: int = 0) -> tuple[Any, Any, Any]:
    """Random rows shaped like the shipped spec's feature vector, with a label and a cluster label.

    Columns are the 5 feature values (NaN in about 15% of cells) then their 5 missing flags, as
    ``feature_names(spec)`` orders them. The label depends on two values and one flag; the cluster
    label (``-1`` noise, ``0``, ``1``, ``2``) on others, so both models have something to learn.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, 5))
    values[rng.random(values.shape) < 0.15] = np.nan
    rows = np.hstack([values, np.isnan(values).astype(np.float64)])
    filled = np.nan_to_num(values)
    labels = ((filled[:, 0] + 0.5 * filled[:, 2] + rows[:, 6] + rng.normal(scale=0.3, size=n)) > 0.6).astype(int)
    clusters = np.where(filled[:, 1] > 0.8, 2, np.where(filled[:, 3] > 0, 1, 0))
    clusters[filled[:, 4] > 1.5] = -1
    return rows, labels, clusters


def train_models(n: int = 600, seed: int = 0) -> tuple[Any, Any, Any]:
    """A fitted LightGBM scorer and an imputer + scaler + logistic-regression cluster pipeline, and their rows."""
    import lightgbm
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows, labels, clusters = feature_rows(n, seed)
    scorer = lightgbm.LGBMClassifier(
        n_estimators=40, num_leaves=8, min_child_samples=10, random_state=seed, verbose=-1, n_jobs=1
    ).fit(rows, labels)
    cluster_model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
    ).fit(rows, clusters)
    return scorer, cluster_model, rows


def artifact_manifest_body(artifact_id: str = ARTIFACT_ID, **changes: Any) -> dict[str, Any]:
    """The stub manifest's body for :func:`publish_artifact`: no ``payload`` or ``feature_spec_ref``
    (publishing computes them), per-cluster thresholds for C01 and C02; ``changes`` replace top-level fields."""
    body = artifact_manifest_document()["artifact_manifest"]
    del body["payload"], body["feature_spec_ref"]
    body["id"] = artifact_id
    body.update(changes)
    return body


def edit_manifest(store_root: Path, artifact_id: str, edit: Any) -> Path:
    """Apply ``edit(body)`` to a published manifest file in place (bypassing the publisher); return its path."""
    path = store_root / "manifests" / f"{artifact_id}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["artifact_manifest"])
    return write_json(path, document)


def replace_payload_file(store_root: Path, artifact_id: str, name: str, data: bytes) -> Path:
    """Write payload file ``name`` and list it in the manifest with its real digest (a consistent forgery)."""
    path = store_root / "payloads" / artifact_id / name
    path.write_bytes(data)

    def relist(body: dict[str, Any]) -> None:
        files = [f for f in body["payload"]["files"] if f["name"] != name]
        body["payload"]["files"] = [*files, {"name": name, "sha256": sha256_hex(data)}]

    edit_manifest(store_root, artifact_id, relist)
    return path


def gate_config(**changes: Any) -> Any:
    """A :class:`~sigma9_runtime.gates.GateConfig` with round numbers ($100k, 2%, 3 alerts a day, 60 s
    cooldown), ``changes`` applied."""
    from sigma9_runtime.gates import GateConfig

    values: dict[str, Any] = {
        "min_dollar_volume_1m": 100_000.0,
        "max_spread_pct": 2.0,
        "max_alerts_per_day": 3,
        "symbol_cooldown_sec": 60,
    }
    return GateConfig(**{**values, **changes})


def candidate_frame(rows: list[tuple[Any, ...]], **columns: Any) -> Any:
    """Candidates for the alert simulation from ``(symbol, ts_ns, score)`` tuples; tradeable by default
    ($1M dollar volume, 0.5% spread); ``columns`` add or replace whole columns (scalars broadcast)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["symbol", "ts_ns", "score"]).astype({"ts_ns": "int64", "score": "float64"})
    frame["dollar_volume_1m"] = 1_000_000.0
    frame["spread_pct"] = 0.5
    for name, value in columns.items():
        frame[name] = value
    return frame


# --- runtime strategies: a day, ticks and a container -------------------------------------------

RUNTIME_DAY = "2025-03-03"
"""A Monday, a trading day (no holiday, no early close)."""


def runtime_config(**changes: Any) -> Any:
    """A :class:`~sigma9_runtime.container.RuntimeConfig` of the shipped spec (``seismograph``, no store)."""
    from sigma9_runtime.container import RuntimeConfig

    values: dict[str, Any] = {"feature_spec": SHIPPED_FEATURE_SPEC, "strategy": "seismograph"}
    return RuntimeConfig(**{**values, **changes})


def liquid_ticks(
    symbol: str, end_ns: int, seconds: int = 120, price: float = 10.0, volume: float = 5_000.0
) -> list[Any]:
    """Trades and ``A`` bars of ``symbol`` for the ``seconds`` before ``end_ns`` (a whole second): one
    trade and one bar per second, price alternating by one cent (a 0.1% bounce spread), ``volume``
    shares a second ($3M a minute by default)."""
    from sigma9_runtime.feeds.events import AggEvent, TradeEvent

    ticks: list[Any] = []
    for k in range(seconds):
        start = end_ns - (seconds - k) * 1_000_000_000
        close = price + 0.01 * (k % 2)
        ticks.append(TradeEvent(symbol, start + 1_000_000, close, volume, (), 4, k + 1))
        ticks.append(AggEvent("A", symbol, start, start + 1_000_000_000, close, close, close, close, volume, close, 1))
    return ticks


# --- the lab chain on the session's small synthetic lake ------------------------------------------

SMALL_LAKE_CONFIG: dict[str, dict[str, Any]] = {
    "dataset": {"warmup_days": 8, "scan_every_s": 300},
    "discovery": {"n_neighbors": 10},
    "validation": {"n_estimators": 60, "min_alerts_per_day": 1.0, "folds": 2},
    "distill": {"min_alerts_per_day": 1.0},
    # the engine steps every second: three names with events, over the pre-market
    "backtest": {"tickers": ["HWDJ", "PSAM", "VVOZ"], "sessions": ["pre"]},
}
"""Smaller knobs per lab asset for the 10 ticker x 24 day ``synthetic_lake`` (asset name -> config)."""


# --- the minute-bar FeatureSpec (daily + 1-minute bars only) --------------------------------------

MINUTE_BAR_FEATURE_SPEC = ROOT / "feature_specs" / "FS_2026-01-16_003.yaml"
"""The shipped FeatureSpec over 1-minute bars alone: no trades, no 1-second bars."""


def minute_bar_feature_spec_document() -> dict[str, Any]:
    """The shipped FeatureSpec file ``feature_specs/FS_2026-01-16_003.yaml`` as a document dict."""
    return copy.deepcopy(_shipped(MINUTE_BAR_FEATURE_SPEC))


def minute_bar_feature_spec(**changes: Any) -> Any:
    """The shipped minute-bar FeatureSpec as a model, ``changes`` applied as in :func:`feature_spec`."""
    return _changed_spec(minute_bar_feature_spec_document(), changes)


# --- the hour-before-T0 FeatureSpec (002 plus 60-minute horizons) ---------------------------------

HOUR_FEATURE_SPEC = ROOT / "feature_specs" / "FS_2026-12-05_001.yaml"
"""The shipped FeatureSpec of FS_2026-01-16_002 plus a 60-minute window, ``log_return`` and ``flow_change``."""


def hour_feature_spec_document() -> dict[str, Any]:
    """The shipped FeatureSpec file ``feature_specs/FS_2026-12-05_001.yaml`` as a document dict."""
    return copy.deepcopy(_shipped(HOUR_FEATURE_SPEC))


def hour_feature_spec(**changes: Any) -> Any:
    """The shipped hour-before-T0 FeatureSpec as a model, ``changes`` applied as in :func:`feature_spec`."""
    return _changed_spec(hour_feature_spec_document(), changes)


# --- runtime strategies on 1-minute bars (``AM``) -------------------------------------------------


def delivered_ns(tick: Any) -> int:
    """When a live feed delivers a stub tick: a trade at its time, a bar at its end."""
    return int(tick.ts_ns if hasattr(tick, "ts_ns") else tick.end_ns)


def deliver(strategy: Any, ticks: Any) -> None:
    """Hand ``ticks`` (events in delivery order) to ``strategy.on_tick`` as a live loop does: the feature
    builder's feed clock moved to each tick's delivery time first, where the steps up to it would leave it
    (events far ahead of the feed clock are dropped as ``future_timestamp``)."""
    for tick in ticks:
        strategy.features.advance_clock(delivered_ns(tick))
        strategy.on_tick(tick)


def liquid_minute_bars(
    symbol: str, end_ns: int, minutes: int = 40, price: float = 10.0, volume: float = 50_000.0
) -> list[Any]:
    """``AM`` bars of ``symbol`` for the ``minutes`` before ``end_ns`` (a whole minute): each bar trades
    ``volume`` shares between ``price`` and ``price + 0.01`` (VWAP in the middle, $500k a minute by default)
    and closes alternately at the low and the high (a 0.1% close-high-low spread)."""
    from sigma9_runtime.feeds.events import AggEvent

    minute = 60_000_000_000
    bars: list[Any] = []
    for k in range(minutes):
        start = end_ns - (minutes - k) * minute
        close = price + 0.01 * (k % 2)
        bars.append(
            AggEvent("AM", symbol, start, start + minute, price, price + 0.01, price, close, volume, price + 0.005, 100)
        )
    return bars


# --- a small lake whose events are known: one ticker per resolution and per flag -------------------

EVENT_LAKE_DAYS = ("2025-01-02", "2025-01-03", "2025-01-06")
"""The daily dates of :func:`write_event_lake` (Thursday, Friday, Monday); intraday data on the last one."""
EVENT_LAKE_TICKS: dict[str, tuple[str, float, list[tuple[int, float]]]] = {
    "TRDE": ("trades,1s,1m", 10.0, [(0, 10.2), (20, 12.0), (40, 10.9), (60, 11.0), (80, 11.5)]),
    "SECS": ("1s,1m", 5.0, [(0, 5.0), (30, 5.2), (45, 5.6), (70, 5.4)]),
    "MINS": ("1m", 2.0, [(0, 2.0), (30, 2.1), (90, 2.25), (150, 2.3)]),
    "GAPS": ("1m", 4.0, [(0, 4.0), (200, 4.5)]),
    "SPLT": ("1m", 10.0, [(0, 10.0), (300, 11.5)]),
    "SUSP": ("1m", 10.0, [(0, 10.0), (10, 10.1)]),
    "NOPC": ("1m", 3.0, [(0, 3.0), (10, 3.5)]),
    "QUIE": ("1m", 8.0, [(0, 8.0), (130, 8.5), (140, 8.1)]),
}
"""Per ticker: the tables written on the last day, the previous close the day trades against, and its
eligible trades as (seconds after the regular open, price). TRDE's print at 12.0 is an average-price one
(condition 2), left out of events and bars."""


def write_event_lake(root: Path) -> Any:
    """A lake of daily bars on :data:`EVENT_LAKE_DAYS` and intraday data on the last day (:data:`EVENT_LAKE_TICKS`):

    * ``TRDE`` trades (and their 1 s / 1 m bars): an event at trade resolution, T0 = open + 60 s;
    * ``SECS`` 1 s and 1 m bars: an event at ``1s``, T0 = the end of the second holding 45 s (open + 46 s);
    * ``MINS`` 1 m bars: an event at ``1m``, T0 = the end of the minute holding 90 s (open + 120 s);
    * ``GAPS`` 1 m bars and a surge, no daily bar on the middle day: no previous close (``prev_day_missing``),
      no event (never the older close);
    * ``SPLT`` 1 m bars, a recorded 1-for-10 reverse split on the last day: an event flagged ``split_adjusted``;
    * ``SUSP`` 1 m bars, the same move without a recorded split: flagged as split-like, no event;
    * ``NOPC`` 1 m bars, no daily bar at all: no previous close;
    * ``QUIE`` 1 m bars peaking at +6.25%: no event, a near miss from +5%.
    """
    import datetime as dt

    import pyarrow as pa

    from sigma9_dag.lake.writer import LakeTransaction
    from sigma9_runtime.calendar import session_bounds
    from sigma9_runtime.lake.layout import LakeLayout
    from sigma9_runtime.lake.tables import DAILY_SCHEMA, SPLITS_SCHEMA, TRADES_SCHEMA, bars_table_from_trades
    from sigma9_runtime.units import MINUTE_NS, SECOND_NS

    d0, d1, d2 = (dt.date.fromisoformat(d) for d in EVENT_LAKE_DAYS)
    open_ns = session_bounds(d2).regular[0]
    daily: list[dict[str, Any]] = []

    def bar(ticker: str, day: dt.date, open_: float, close: float, volume: float = 1e5) -> None:
        high, low = max(open_, close), min(open_, close)
        row = {"ticker": ticker, "date": day, "open": open_, "high": high, "low": low, "close": close}
        daily.append({**row, "volume": volume, "vwap": close, "transactions": 10})

    layout = LakeLayout(root)
    with LakeTransaction(layout) as txn:
        for ticker, (tables, prev_close, ticks) in EVENT_LAKE_TICKS.items():
            n = len(ticks)
            conditions = [[2] if ticker == "TRDE" and k == 1 else [] for k in range(n)]
            trades = pa.table(
                {
                    "ticker": [ticker] * n,
                    "ts": [open_ns + s * SECOND_NS for s, _ in ticks],
                    "price": [p for _, p in ticks],
                    "size": [100.0] * n,
                    "exchange": [1] * n,
                    "conditions": conditions,
                    "sequence": list(range(n)),
                    "correction": [0] * n,
                },
                schema=TRADES_SCHEMA,
            )
            if "trades" in tables:
                txn.write_trades_day(ticker, d2, trades)
            for kind, interval in (("1s", SECOND_NS), ("1m", MINUTE_NS)):
                if kind in tables.split(","):
                    txn.write_bars(kind, ticker, bars_table_from_trades(trades, interval))
            last_close = ticks[-1][1]
            if ticker == "NOPC":
                continue
            if ticker in ("SPLT", "SUSP"):  # 1.0 the day before, 10.0 after a 1-for-10 reverse split
                bar(ticker, d1, 1.0, 1.0, volume=1e5)
                bar(ticker, d2, 10.0, last_close, volume=1e4)
                continue
            for day in (d0,) if ticker == "GAPS" else (d0, d1):
                bar(ticker, day, prev_close, prev_close)
            bar(ticker, d2, ticks[0][1], last_close)
        txn.write_daily(pa.Table.from_pylist(daily, schema=DAILY_SCHEMA))
        txn.write_splits(
            pa.table({"ticker": ["SPLT"], "execution_date": [d2], "split_from": [10.0], "split_to": [1.0]},
                     schema=SPLITS_SCHEMA)
        )  # fmt: skip
        txn.commit({"source": "test"})
    return layout


@contextlib.contextmanager
def materialized_lab(
    lake_root: Path | str,
    artifacts_root: Path | str,
    spec_id: str,
    knobs: dict[str, dict[str, Any]],
    dask_address: str | None = None,
) -> Iterator[tuple[Any, dict[str, Any], Any]]:
    """The whole lab chain and its checks materialized in process for ``spec_id`` on the lake at ``lake_root``
    (a directory or a bucket's URL) with the shipped specs and run configs and per-asset ``knobs``, its
    per-ticker work on a local pool or the Dask scheduler at ``dask_address``, its experiment history in a
    temporary MLflow store: ``(result, resources, instance)``."""
    import dagster as dg

    from sigma9_dag.definitions import ASSETS, CHECKS, lab_resources
    from sigma9_dag.partitions import sync_spec_partitions
    from sigma9_dag.resources import (
        ArtifactStoreResource,
        ComputeResource,
        ExperimentTrackerResource,
        LakeResource,
        SpecCatalogResource,
    )

    with tempfile.TemporaryDirectory() as tracking, dg.instance_for_test() as instance:
        resources = lab_resources(
            LakeResource(root=str(lake_root)),
            SpecCatalogResource(directory=str(ROOT / "feature_specs"), runs_directory=str(ROOT / "run_configs")),
            ArtifactStoreResource(root=str(artifacts_root)),
            ComputeResource(dask_address=dask_address),
            ExperimentTrackerResource(tracking_uri=f"sqlite:///{tracking}/mlflow.db"),  # the store's artifacts beside
        )
        sync_spec_partitions(instance, resources["specs"])
        result = dg.materialize(
            [*ASSETS, *CHECKS],
            instance=instance,
            resources=resources,
            partition_key=spec_id,
            run_config={"ops": {name: {"config": values} for name, values in knobs.items()}},
            raise_on_error=False,
        )
        yield result, resources, instance


def writable_view(lake_root: Path, target: Path) -> Path:
    """A lake at ``target`` whose tables are symlinks to ``lake_root``'s: a test may write lab outputs
    (``experiments/``) there without touching a shared session lake. The caches under ``derived/`` (feature
    statistics, events) stay shared: content-addressed, written atomically, the same bytes whoever computes them."""
    target.mkdir(parents=True, exist_ok=True)
    (lake_root / "derived").mkdir(exist_ok=True)  # shared even when no test has filled it yet
    for entry in lake_root.iterdir():
        if entry.name != "experiments" and not entry.name.startswith("."):
            (target / entry.name).symlink_to(entry)
    return target


def use_s3(monkeypatch: Any, endpoint: str, bucket: str) -> str:
    """Point the AWS SDK (pyarrow's S3 filesystem) at ``endpoint`` with test credentials, create ``bucket``
    and return its URL ``s3://bucket``."""
    import pyarrow.fs as pafs

    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sigma9-test",
        "AWS_SECRET_ACCESS_KEY": "sigma9-test",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    filesystem = pafs.S3FileSystem(endpoint_override=endpoint, allow_bucket_creation=True)
    filesystem.create_dir(bucket)
    return f"s3://{bucket}"

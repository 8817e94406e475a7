"""What a lake holds per ticker and day, and the one-line refusal of a spec whose tables it lacks."""

import datetime as dt

import pytest

from sigma9_dag.lake.coverage import intraday_tables, lake_coverage, require_sources, spec_fits
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_daily
from tests.stubs import feature_spec, minute_bar_feature_spec


def test_coverage_says_which_tables_hold_each_ticker_day(synthetic_lake: LakeLayout, minute_lake: LakeLayout) -> None:
    full, minute = lake_coverage(synthetic_lake), lake_coverage(minute_lake)
    assert full.tables() == ["trades", "1s", "1m", "daily"] and minute.tables() == ["1m", "daily"]
    trade_days = synthetic_lake.trade_dates()
    assert full.days(["trades"]) == trade_days == minute.days(["1m"])
    assert full.tickers(["trades", "1s", "1m"]) == synthetic_lake.trade_tickers() == minute.tickers(["1m"])
    daily = read_daily(synthetic_lake)
    summary = full.summary("daily")
    assert summary.ticker_days == daily.num_rows and summary.first == min(daily.column("date").to_pylist())
    ticker, day = synthetic_lake.trade_tickers()[0], trade_days[0]
    assert full.has(ticker, day, ["trades", "1s", "1m", "daily"]) and full.finest(ticker, day) == "trades"
    assert not minute.has(ticker, day, ["trades"]) and minute.finest(ticker, day) == "1m"
    assert (ticker, day) in minute.pairs(["1m"]) and minute.finest(ticker, summary.first) is None


def test_a_spec_is_refused_in_one_line_naming_what_is_missing_and_what_would_work(minute_lake: LakeLayout) -> None:
    coverage = lake_coverage(minute_lake)
    trades_spec, minute_spec = feature_spec(), minute_bar_feature_spec()
    assert intraday_tables(trades_spec) == ["trades", "1s", "1m"] and intraday_tables(minute_spec) == ["1m"]
    assert spec_fits(minute_spec, coverage) and not spec_fits(trades_spec, coverage)
    require_sources(minute_spec, coverage)  # it fits: no error
    with pytest.raises(LakeError) as refused:
        require_sources(trades_spec, coverage, alternatives=[trades_spec, minute_spec])
    message = str(refused.value)
    assert "\n" not in message
    assert message == (
        f"{trades_spec.id} reads tick and bar_1s; the lake at {minute_lake.root} has 1m and daily only "
        f"({coverage.span()}): use a spec whose sources are bar_1m/daily ({minute_spec.id}) or import trades"
    )


def test_a_day_the_lake_does_not_hold_is_named_with_the_tables_span(minute_lake: LakeLayout) -> None:
    coverage = lake_coverage(minute_lake)
    spec = minute_bar_feature_spec()
    first, last = coverage.summary("1m").first, coverage.summary("1m").last
    require_sources(spec, coverage, days=[first, last])
    with pytest.raises(
        LakeError,
        match=rf"reads bar_1m; .* has no 1-minute bars on 2001-01-02 \(1-minute bars cover {first}\.\.{last}\)",
    ):
        require_sources(spec, coverage, days=[first, dt.date(2001, 1, 2)])


def test_a_run_that_rebuilds_one_second_bars_from_trades_needs_trades_not_one_second_files(
    synthetic_lake: LakeLayout,
) -> None:
    import dataclasses

    no_1s = dataclasses.replace(synthetic_lake, bar_1s_template="missing/{ticker}.parquet")
    coverage = lake_coverage(no_1s)
    assert "1s" not in coverage.tables()
    with pytest.raises(LakeError, match="reads bar_1s"):
        require_sources(feature_spec(), coverage)
    require_sources(feature_spec(), coverage, tables=["trades", "1m", "daily"])


def test_an_empty_root_holds_no_market_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    coverage = lake_coverage(LakeLayout(tmp_path))
    assert coverage.tables() == [] and coverage.span() == "-"
    with pytest.raises(LakeError, match=r"holds no market table: .*import trades and daily bars"):
        require_sources(feature_spec(), coverage)

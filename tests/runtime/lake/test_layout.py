import datetime as dt
from pathlib import Path

import pytest

from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.lake.layout import DATA_ROOT_ENV, LakeLayout, resolve_data_root

ROOT = Path(__file__).resolve().parents[3]


def test_layout_paths_follow_the_documented_templates(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    assert layout.daily == tmp_path / "daily" / "all_daily.parquet"
    assert layout.bars("1m", "ABCD") == tmp_path / "1m" / "ABCD.parquet"
    assert layout.bars("1s", "BRK.B") == tmp_path / "1s" / "BRK.B.parquet"
    assert layout.trades("ABCD", dt.date(2025, 1, 2)) == tmp_path / "trades" / "ABCD" / "2025-01-02.parquet"


def test_layout_refuses_tickers_that_would_escape_the_lake(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid ticker"):
        LakeLayout(tmp_path).bars("1m", "../etc")


def test_layout_honours_run_config_path_templates() -> None:
    config = load_backtest_run_config(ROOT / "run_configs" / "RUN_2026-01-16_001.yaml")
    layout = LakeLayout.from_run_config(config)
    assert layout.root == Path("data")
    assert layout.bar_1m_template == "1m/{ticker}.parquet"
    assert layout.bar_1s_template == "1s/{ticker}.parquet"


def test_listings_ignore_in_flight_temporary_files(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    for path in (layout.bars("1m", "AAA"), layout.trades("AAA", dt.date(2025, 1, 2))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "1m" / ".tmp-BBB.parquet.x1").write_bytes(b"x")
    assert layout.bar_tickers("1m") == ["AAA"]
    assert layout.trade_files() == [("AAA", dt.date(2025, 1, 2), layout.trades("AAA", dt.date(2025, 1, 2)))]
    assert layout.trade_dates() == [dt.date(2025, 1, 2)]


def test_data_root_comes_from_flag_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)
    assert resolve_data_root() == Path("data")
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    assert resolve_data_root() == tmp_path
    assert resolve_data_root("elsewhere") == Path("elsewhere")

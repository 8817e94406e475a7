import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as dbn
import pyarrow as pa
import pytest

from sigma9_dag.lake.importers import import_databento
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars, read_trades

from . import DAY, NEXT_DAY, assert_bars_rebuilt_from_trades, at, daily_row, expected_daily, report_of, snapshot

ABC, XYZ, LATE, UNKNOWN = 101, 102, 103, 999


def px(price: float) -> int:
    return round(price * dbn.FIXED_PRICE_SCALE)


def metadata(schema: dbn.Schema | None) -> dbn.Metadata:
    mapping = SimpleNamespace(
        raw_symbol="ABC",
        intervals=[SimpleNamespace(start_date=DAY, end_date=NEXT_DAY + dt.timedelta(days=1), symbol=str(ABC))],
    )
    return dbn.Metadata(
        dataset="XNAS.ITCH",
        start=at(DAY, "00:00"),
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=schema,
        symbols=["ABC", "XYZ"],
        mappings=[mapping],
    )


def trade(
    instrument: int, clock: str, price: float | None, size: int, sequence: int, day: dt.date = DAY
) -> dbn.TradeMsg:
    ts = at(day, clock)
    return dbn.TradeMsg(
        publisher_id=2, instrument_id=instrument, ts_event=ts, price=dbn.UNDEF_PRICE if price is None else px(price),
        size=size, action=dbn.Action.TRADE, side=dbn.Side.NONE, depth=0, ts_recv=ts + 5, flags=dbn.F_LAST,
        sequence=sequence,
    )  # fmt: skip


def ohlcv(
    rtype: dbn.RType, instrument: int, clock: str, o: float, h: float, l: float, c: float, volume: int
) -> dbn.OHLCVMsg:
    return dbn.OHLCVMsg(rtype=rtype.value, publisher_id=2, instrument_id=instrument, ts_event=at(DAY, clock),
                        open=px(o), high=px(h), low=px(l), close=px(c), volume=volume)  # fmt: skip


def mapping(instrument: int, symbol: str) -> dbn.SymbolMappingMsg:
    return dbn.SymbolMappingMsg(
        publisher_id=2, instrument_id=instrument, ts_event=at(DAY, "00:00"), stype_in=dbn.SType.RAW_SYMBOL,
        stype_in_symbol=symbol, stype_out=dbn.SType.INSTRUMENT_ID, stype_out_symbol=str(instrument),
        start_ts=at(DAY, "00:00"), end_ts=at(NEXT_DAY, "00:00"),
    )  # fmt: skip


def write_dbn(path: Path, schema: dbn.Schema | None, records: list[object], *, zstd: bool = False) -> Path:
    data = metadata(schema).encode() + b"".join(bytes(r) for r in records)  # type: ignore[call-overload]
    if zstd:
        out = io.BytesIO()
        with dbn.Transcoder(out, dbn.Encoding.DBN, dbn.Compression.ZSTD) as transcoder:
            transcoder.write(data)
        data = out.getvalue()
    path.write_bytes(data)
    return path


TRADES = [
    mapping(XYZ, "XYZ"),
    trade(ABC, "09:30:00.100", 10.0, 100, 1),
    trade(ABC, "09:30:00.900", 10.5, 300, 2),
    trade(XYZ, "09:45:00", 2.0, 10, 3),
    trade(UNKNOWN, "09:45:01", 5.0, 10, 4),
    trade(ABC, "09:31:30", None, 10, 5),  # undefined price
    trade(ABC, "10:00:00", 10.2, 50, 6),
    trade(ABC, "09:30:00", 11.0, 50, 1, NEXT_DAY),
]


def test_trades_and_bars_land_with_symbols_from_metadata_and_mapping_records(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    trades = write_dbn(tmp_path / "trades.dbn.zst", dbn.Schema.TRADES, TRADES, zstd=True)
    minutes = write_dbn(
        tmp_path / "ohlcv-1m.dbn",
        dbn.Schema.OHLCV_1M,
        [
            ohlcv(dbn.RType.OHLCV_1M, ABC, "09:30", 10.0, 10.5, 10.0, 10.5, 400),  # trades of this minute imported
            ohlcv(dbn.RType.OHLCV_1M, ABC, "09:35", 10.1, 10.4, 10.0, 10.2, 70),  # no trades in the import
            ohlcv(dbn.RType.OHLCV_1M, ABC, "09:36", 10.1, 10.0, 10.4, 10.2, 70),  # high < low
        ],
    )
    summary = import_databento(root, [trades, minutes])
    layout = LakeLayout(root)

    abc = read_trades(layout, "ABC", DAY)
    assert abc.column("price").to_pylist() == [10.0, 10.5, 10.2]
    assert abc.column("ts").to_pylist() == [at(DAY, "09:30:00.100"), at(DAY, "09:30:00.900"), at(DAY, "10:00")]
    assert abc.column("size").to_pylist() == [100.0, 300.0, 50.0]
    assert abc.column("sequence").to_pylist() == [1, 2, 6]
    assert abc.column("exchange").to_pylist() == [2, 2, 2]
    assert abc.column("conditions").to_pylist() == [[], [], []]
    assert read_trades(layout, "XYZ", DAY).column("price").to_pylist() == [2.0]
    assert read_trades(layout, "ABC", NEXT_DAY).num_rows == 1

    bars = read_bars(layout, "1m", "ABC", at(DAY, "00:00"), at(NEXT_DAY, "00:00")).to_pylist()
    assert [(b["ts"], b["open"], b["high"], b["low"], b["close"], b["volume"]) for b in bars] == [
        (at(DAY, "09:30"), 10.0, 10.5, 10.0, 10.5, 400.0),
        (at(DAY, "09:35"), 10.1, 10.4, 10.0, 10.2, 70.0),
    ]
    assert bars[0]["vwap"] == pytest.approx((10.0 * 100 + 10.5 * 300) / 400) and bars[0]["transactions"] == 2
    assert bars[1]["vwap"] == pytest.approx((10.4 + 10.0 + 10.2) / 3) and bars[1]["transactions"] == 0
    assert_bars_rebuilt_from_trades(layout, "XYZ", DAY)
    assert_bars_rebuilt_from_trades(layout, "ABC", NEXT_DAY)
    for ticker, day in (("ABC", DAY), ("ABC", NEXT_DAY), ("XYZ", DAY)):
        assert daily_row(layout, ticker, day) == expected_daily(layout, ticker, day)

    report = report_of(summary)
    assert report["quarantined"] == {"unmapped_instrument": 1, "bad_price": 1, "high_below_low": 1}
    assert report["re_sorted"] == []
    assert report["samples"]["unmapped_instrument"][0]["row"] == 4  # record index after the metadata
    assert report["samples"]["bad_price"][0] == {**report["samples"]["bad_price"][0], "source": str(trades), "row": 5}
    assert report["notes"]["vwap_approximated"] == 1 and report["notes"]["transactions_unknown"] == 1
    assert (summary.trades, summary.quarantined, summary.tickers) == (5, 3, 2)


def test_ohlcv_1s_bars_are_kept_as_given_for_their_ticker_day(tmp_path: Path) -> None:
    seconds = write_dbn(
        tmp_path / "ohlcv-1s.dbn.zst",
        dbn.Schema.OHLCV_1S,
        [ohlcv(dbn.RType.OHLCV_1S, ABC, "09:30:05", 3.0, 3.5, 2.5, 3.2, 1000)],
        zstd=True,
    )
    summary = import_databento(tmp_path / "lake", [seconds])
    bars = read_bars(LakeLayout(tmp_path / "lake"), "1s", "ABC").to_pylist()
    assert bars == [{"ticker": "ABC", "ts": at(DAY, "09:30:05"), "open": 3.0, "high": 3.5, "low": 2.5, "close": 3.2,
                     "volume": 1000.0, "vwap": pytest.approx((3.5 + 2.5 + 3.2) / 3), "transactions": 0}]  # fmt: skip
    assert (summary.bars_1s, summary.bars_1m, summary.trades, summary.daily) == (1, 0, 0, 0)


def truncated(data: bytes) -> bytes:
    return data[:-7]


@pytest.mark.parametrize(
    ("name", "zstd", "damage", "message"),
    [
        ("t.dbn", False, truncated, r"t\.dbn: truncated DBN data"),
        ("t.dbn.zst", True, truncated, r"t\.dbn\.zst: corrupt or truncated zstd"),
        ("t.dbn", False, lambda data: b"garbage!" * 40, r"t\.dbn: corrupt DBN data"),
        ("t.dbn", False, lambda data: data[:30] + b"\xff" * 30 + data[60:], r"t\.dbn: corrupt DBN data"),
        ("t.dbn", False, lambda data: b"", r"t\.dbn: holds no rows \(empty file, 0 bytes\)"),
    ],
)
def test_a_truncated_or_corrupt_dbn_file_raises_and_leaves_the_lake_unchanged(
    tmp_path: Path, name: str, zstd: bool, damage: object, message: str
) -> None:
    root = tmp_path / "lake"
    good = write_dbn(tmp_path / "good.dbn", dbn.Schema.TRADES, TRADES)
    import_databento(root, [good])
    before = snapshot(root)
    path = write_dbn(tmp_path / name, dbn.Schema.TRADES, TRADES, zstd=zstd)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(DataError, match=message):
        import_databento(root, [good, path])
    assert snapshot(root) == before


def test_a_dbn_file_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = write_dbn(tmp_path / "mbp.dbn", dbn.Schema.MBP_1, [])
    with pytest.raises(DataError, match=r"mbp\.dbn: unsupported DBN schema 'mbp-1'"):
        import_databento(tmp_path / "lake", [path])
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").iterdir())


# --- live captures, datasets and sanity at import ---------------------------------------------------


def live_metadata(dataset: str = "XNAS.ITCH") -> dbn.Metadata:
    """Metadata of a live session as the live client writes it: no schema, no symbology mappings."""
    return dbn.Metadata(dataset=dataset, start=at(DAY, "04:00"), stype_in=None, stype_out=dbn.SType.INSTRUMENT_ID,
                        schema=None, symbols=["ABC", "XYZ"], mappings=[])  # fmt: skip


def live_mapping(
    instrument: int, symbol: str, start_ts: int, end_ts: int = dbn.UNDEF_TIMESTAMP
) -> dbn.SymbolMappingMsg:
    """A live SymbolMappingMsg: the raw symbol in stype_out_symbol, an undefined end (open-ended)."""
    return dbn.SymbolMappingMsg(
        publisher_id=2, instrument_id=instrument, ts_event=at(DAY, "04:00"), stype_in=dbn.SType.RAW_SYMBOL,
        stype_in_symbol=symbol, stype_out=dbn.SType.RAW_SYMBOL, stype_out_symbol=symbol, start_ts=start_ts,
        end_ts=end_ts,
    )  # fmt: skip


def write_live(path: Path, records: list[object], dataset: str = "XNAS.ITCH") -> Path:
    path.write_bytes(live_metadata(dataset).encode() + b"".join(bytes(r) for r in records))  # type: ignore[call-overload]
    return path


def definition(instrument: int, symbol: str, kind: dbn.InstrumentClass) -> dbn.InstrumentDefMsg:
    return dbn.InstrumentDefMsg(
        publisher_id=2, instrument_id=instrument, ts_event=at(DAY, "04:00"), ts_recv=at(DAY, "04:00"),
        min_price_increment=10_000_000, display_factor=dbn.FIXED_PRICE_SCALE, raw_symbol=symbol, asset=symbol,
        security_type="", instrument_class=kind, security_update_action=dbn.SecurityUpdateAction.ADD,
    )  # fmt: skip


def test_a_live_capture_maps_instruments_whose_mapping_has_an_undefined_end(tmp_path: Path) -> None:
    path = write_live(
        tmp_path / "live.dbn",
        [
            live_mapping(ABC, "ABC", at(DAY, "04:00")),  # undefined end: open-ended
            live_mapping(XYZ, "XYZ", dbn.UNDEF_TIMESTAMP),  # undefined start and end
            definition(ABC, "ABC", dbn.InstrumentClass.STOCK),
            trade(ABC, "09:30:00.100", 10.0, 100, 1),
            trade(XYZ, "09:30:00.200", 2.0, 50, 2),
            ohlcv(dbn.RType.OHLCV_1M, ABC, "09:30", 10.0, 10.0, 10.0, 10.0, 100),
        ],
    )
    summary = import_databento(tmp_path / "lake", [path])
    layout = LakeLayout(tmp_path / "lake")
    assert read_trades(layout, "ABC", DAY).column("price").to_pylist() == [10.0]
    assert read_trades(layout, "XYZ", DAY).column("price").to_pylist() == [2.0]
    assert (summary.trades, summary.quarantined, summary.bars_1m) == (2, 0, 2)
    assert report_of(summary)["notes"]["skipped_record:InstrumentDefMsg"] == 1


def test_a_file_in_which_no_record_maps_to_a_ticker_is_refused(tmp_path: Path) -> None:
    path = write_live(tmp_path / "live.dbn", [trade(UNKNOWN, "09:30", 10.0, 100, 1), trade(LATE, "09:31", 1.0, 1, 2)])
    with pytest.raises(DataError, match=r"live\.dbn: none of its 2 record\(s\) maps to a ticker .*103, 999"):
        import_databento(tmp_path / "lake", [path])


@pytest.mark.parametrize("dataset", ["GLBX.MDP3", "OPRA.PILLAR", "XEUR.EOBI", ""])
def test_a_file_of_a_dataset_that_is_not_us_equities_is_refused(tmp_path: Path, dataset: str) -> None:
    path = write_live(tmp_path / "f.dbn", [live_mapping(ABC, "ESH5", at(DAY, "04:00")), trade(ABC, "09:30", 1, 1, 1)],
                      dataset)  # fmt: skip
    with pytest.raises(DataError, match=rf"f\.dbn: dataset '{dataset}' is not a US equities dataset"):
        import_databento(tmp_path / "lake", [path])


@pytest.mark.parametrize("kind", [dbn.InstrumentClass.FUTURE, dbn.InstrumentClass.CALL, dbn.InstrumentClass.BOND])
def test_a_definition_of_an_instrument_that_is_not_a_stock_is_refused(
    tmp_path: Path, kind: dbn.InstrumentClass
) -> None:
    records = [live_mapping(ABC, "ABC", at(DAY, "04:00")), definition(ABC, "ABC", kind), trade(ABC, "09:30", 1, 1, 1)]
    with pytest.raises(DataError, match=rf"f\.dbn: record 1: instrument 'ABC' of dataset XNAS\.ITCH has "
                                        rf"instrument_class {kind.name}, not STOCK"):  # fmt: skip
        import_databento(tmp_path / "lake", [write_live(tmp_path / "f.dbn", records)])


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], r"holds no rows \(metadata and 0 record\(s\), none of them a trade or ohlcv-1s/1m bar\)"),
        ([live_mapping(ABC, "ABC", dbn.UNDEF_TIMESTAMP)], r"holds no rows \(metadata and 1 record\(s\)"),
    ],
)
def test_a_file_with_metadata_but_no_trade_or_bar_holds_no_rows(
    tmp_path: Path, records: list[object], message: str
) -> None:
    with pytest.raises(DataError, match=r"f\.dbn: " + message):
        import_databento(tmp_path / "lake", [write_live(tmp_path / "f.dbn", records)])
    with pytest.raises(DataError, match=r"t\.dbn: " + message):
        import_databento(tmp_path / "lake", [write_dbn(tmp_path / "t.dbn", dbn.Schema.TRADES, records)])


def test_a_symbol_that_is_not_utf8_raises_naming_the_record(tmp_path: Path) -> None:
    data = bytes(live_mapping(XYZ, "XYZ", dbn.UNDEF_TIMESTAMP))
    data = data.replace(b"XYZ", b"X\xffZ")
    path = tmp_path / "f.dbn"
    path.write_bytes(live_metadata().encode() + data + bytes(trade(XYZ, "09:30", 1.0, 1, 1)))
    with pytest.raises(DataError, match=r"f\.dbn: record 0: symbol mapping of instrument 102: symbol is not UTF-8"):
        import_databento(tmp_path / "lake", [path])


def test_timestamps_in_milliseconds_raise_naming_the_unit(tmp_path: Path) -> None:
    record = trade(ABC, "09:30", 10.0, 100, 1)
    record.ts_event = at(DAY, "09:30") // 1_000_000
    path = write_dbn(tmp_path / "t.dbn", dbn.Schema.TRADES, [record])
    with pytest.raises(DataError, match=r"t\.dbn: record 0: field 'ts_event': timestamps look like milliseconds "
                                        r"\(\d+ → 2025-01-02\), expected nanoseconds since the epoch"):  # fmt: skip
        import_databento(tmp_path / "lake", [path])


def test_absurd_prices_sizes_and_volumes_are_quarantined(tmp_path: Path) -> None:
    trades = write_dbn(
        tmp_path / "t.dbn",
        dbn.Schema.TRADES,
        [trade(ABC, "09:30", 10.0, 100, 1), trade(ABC, "09:31", 5_000_000.0, 100, 2),
         trade(ABC, "09:32", 10.0, 2_000_000_000, 3)],
    )  # fmt: skip
    bars = write_dbn(
        tmp_path / "m.dbn",
        dbn.Schema.OHLCV_1M,
        [ohlcv(dbn.RType.OHLCV_1M, ABC, "09:40", 1.0, 1.0, 1.0, 1.0, 200_000_000_000)],
    )
    report = report_of(import_databento(tmp_path / "lake", [trades, bars]))
    assert report["quarantined"] == {"bad_price": 1, "bad_size": 1, "bad_volume": 1}


def test_a_zstd_file_of_nothing_holds_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.dbn.zst"
    path.write_bytes(pa.compress(b"", codec="zstd", asbytes=True))  # a valid zstd frame of 0 bytes
    with pytest.raises(DataError, match=r"t\.dbn\.zst: holds no rows \(empty after zstd decompression"):
        import_databento(tmp_path / "lake", [path])


@pytest.mark.parametrize("chunk", [1 << 20, 37, 48])
def test_runs_of_trades_read_as_arrays_equal_the_decoders_records(tmp_path: Path, monkeypatch, chunk: int) -> None:  # type: ignore[no-untyped-def]
    import sigma9_dag.lake.importers.databento as databento
    from sigma9_dag.lake.importers.batch import ImportBatch

    records = [
        *TRADES,
        ohlcv(dbn.RType.OHLCV_1M, ABC, "09:30", 10.0, 10.5, 9.9, 10.4, 400),
        *(trade(ABC, f"11:{i // 60:02d}:{i % 60:02d}", 10 + i / 100, 10 + i, 100 + i) for i in range(150)),
        mapping(LATE, "LATE"),
        trade(LATE, "12:00:00", 3.0, 5, 999),
        ohlcv(dbn.RType.OHLCV_1S, XYZ, "09:45:00", 2.0, 2.0, 2.0, 2.0, 10),
    ]
    path = write_dbn(tmp_path / "mixed.dbn", None, records)

    def read(**patches: object) -> ImportBatch:
        with monkeypatch.context() as patched:
            patched.setattr(databento, "_CHUNK", chunk)
            for name, value in patches.items():
                patched.setattr(databento, name, value)
            batch = ImportBatch("databento")
            databento.read_dbn(path, batch)
            return batch

    arrays, objects = read(), read(_TRADE_WORDS=-1)  # -1: no record is taken for a trade run
    for kind in ("trades", "1s", "1m"):
        left = arrays.trades if kind == "trades" else arrays.bars[kind]
        right = objects.trades if kind == "trades" else objects.bars[kind]
        assert len(left) == len(right) and all(a.to_pandas().equals(b.to_pandas()) for a, b in zip(left, right)), kind
    assert sum(t.num_rows for t in arrays.trades) > 150
    assert arrays.report.to_dict() == objects.report.to_dict()

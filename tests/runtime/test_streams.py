"""A FeatureSpec's channels, lake tables and gate bar stream follow its enabled sources."""

from sigma9_runtime.streams import gate_bar_kind, spec_streams, spec_tables
from tests.stubs import MINUTE_ONLY_SOURCES, feature_spec


def test_a_spec_with_every_source_subscribes_to_every_channel_and_gates_on_one_second_bars() -> None:
    spec = feature_spec()
    assert spec_streams(spec) == ["T.*", "A.*", "AM.*"]
    assert spec_tables(spec) == ["trades", "1s", "1m", "daily"]
    assert gate_bar_kind(spec) == "A"


def test_a_spec_on_minute_bars_alone_subscribes_to_am_and_gates_on_minute_bars() -> None:
    spec = feature_spec(**MINUTE_ONLY_SOURCES)
    assert spec_streams(spec) == ["AM.*"]
    assert spec_tables(spec) == ["1m", "daily"]
    assert gate_bar_kind(spec) == "AM"

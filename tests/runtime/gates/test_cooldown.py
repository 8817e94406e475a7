"""Symbol cooldown on hand-made times."""

import pytest

from sigma9_runtime.gates import SymbolCooldown

S = 1_000_000_000


def test_cooldown_blocks_the_symbol_until_exactly_cooldown_seconds_later() -> None:
    cooldown = SymbolCooldown(180)
    cooldown.record("ABCD", 1000 * S)
    assert cooldown.blocks("ABCD", 1000 * S)
    assert cooldown.blocks("ABCD", 1180 * S - 1)
    assert not cooldown.blocks("ABCD", 1180 * S)


def test_cooldown_of_one_symbol_does_not_block_another() -> None:
    cooldown = SymbolCooldown(180)
    cooldown.record("ABCD", 0)
    assert not cooldown.blocks("WXYZ", 1)
    assert cooldown.last_alert("WXYZ") is None


def test_a_candidate_older_than_the_last_alert_is_blocked() -> None:
    cooldown = SymbolCooldown(60)
    cooldown.record("ABCD", 1000 * S)
    assert cooldown.blocks("ABCD", 10 * S)


def test_reset_forgets_alerts_and_a_zero_cooldown_is_refused() -> None:
    cooldown = SymbolCooldown(60)
    cooldown.record("ABCD", 0)
    cooldown.reset()
    assert not cooldown.blocks("ABCD", 1)
    with pytest.raises(ValueError, match="cooldown"):
        SymbolCooldown(0)

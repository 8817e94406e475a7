"""Walk-forward folds: each block validated by a scorer trained only on earlier days, purged and embargoed."""

import datetime as dt

import pytest

from sigma9_dag.lab.folds import walk_forward_folds

DAYS = [dt.date(2025, 3, 3) + dt.timedelta(days=i) for i in range(20)]  # consecutive stand-ins for trade days


def test_each_fold_trains_only_on_days_before_its_block_minus_the_purge_and_earlier_embargoes() -> None:
    train, validation = DAYS[:8], DAYS[8:20]
    folds = walk_forward_folds(train + validation, validation, folds=3, purge_days=1, embargo_days=1)
    assert [f.validation_days for f in folds] == [tuple(DAYS[8:12]), tuple(DAYS[12:16]), tuple(DAYS[16:20])]
    assert folds[0].train_days == tuple(DAYS[:7])  # day 7 purged before block 1
    # fold 2 trains on block 1 too, except day 11, purged before its own block (12-15)
    assert folds[1].train_days == tuple(DAYS[:11])
    # fold 3: day 12, the day after block 1, is embargoed; day 15 is purged
    assert folds[2].train_days == tuple(DAYS[:12] + DAYS[13:15])
    for fold in folds:
        assert max(fold.train_days) < min(fold.validation_days)
        assert not set(fold.train_days) & set(fold.validation_days)


def test_a_rolling_window_keeps_the_last_days_before_the_purge() -> None:
    folds = walk_forward_folds(DAYS, DAYS[10:], folds=2, purge_days=2, embargo_days=0, max_train_days=5)
    assert folds[0].train_days == tuple(DAYS[3:8])
    assert folds[1].train_days == tuple(DAYS[8:13])


def test_the_record_gives_bounds_and_counts() -> None:
    (fold,) = walk_forward_folds(DAYS[:6], DAYS[4:6], folds=1, purge_days=1, embargo_days=0)
    assert fold.record() == {
        "train_start": "2025-03-03",
        "train_end": "2025-03-05",
        "train_days": 3,
        "validation_start": "2025-03-07",
        "validation_end": "2025-03-08",
        "validation_days": 2,
    }


def test_more_folds_than_validation_days_gives_one_fold_a_day_and_a_fold_without_training_days_is_refused() -> None:
    folds = walk_forward_folds(DAYS[:5], DAYS[3:5], folds=4, purge_days=0, embargo_days=0)
    assert [f.validation_days for f in folds] == [(DAYS[3],), (DAYS[4],)]
    with pytest.raises(ValueError, match=r"fold 1 validating 2025-03-03\.\.2025-03-04 has no day to train on"):
        walk_forward_folds(DAYS[:4], DAYS[:4], folds=2, purge_days=0, embargo_days=0)

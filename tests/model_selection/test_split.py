"""Splitters: the test-fold contract, leak freedom, sklearn integration, errors."""

from __future__ import annotations

import inspect
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, cross_validate

import skseqrec.model_selection
from skseqrec.exceptions import DataDropWarning, InvalidParameterError
from skseqrec.model_selection import (
    GlobalTemporalSplit,
    LeaveLastOut,
    UserKFold,
    last_event_validation_split,
    time_validation_split,
)
from skseqrec.protocol import DEFAULT_COLD_TARGETS, rolling_cutoffs

USER, ITEM, TIME = "user_id", "item_id", "timestamp"


# --------------------------------------------------------------------------- data
def random_frame(seed=0, n_users=30, n_items=8, max_len=9, tie_times=False, str_ids=False):
    """Unsorted interactions; few items so that targets are rarely cold."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_len + 1, n_users)
    users = np.repeat(np.arange(n_users), lengths)
    n = len(users)
    times = rng.integers(0, 6, n) if tie_times else rng.permutation(n) * 10
    frame = pd.DataFrame(
        {
            USER: [f"u{u:03d}" for u in users] if str_ids else users,
            ITEM: rng.integers(0, n_items, n),
            TIME: times,
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def last_rows(frame: pd.DataFrame) -> pd.Series:
    """user -> label of its chronologically last row (stable sort: ties by row order)."""
    ordered = frame.sort_values(TIME, kind="stable")
    tail = ordered.groupby(USER, sort=False).tail(1)
    return pd.Series(tail.index, index=tail[USER].to_numpy())


def check_contract(X: pd.DataFrame, train: np.ndarray, test: np.ndarray) -> pd.Series:
    """Checks every fold must pass; returns user -> target label (positions == labels here)."""
    assert train.dtype.kind == "i" and test.dtype.kind == "i"
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0), "indices sorted, unique"
    fold = X.iloc[test]
    targets = last_rows(fold)
    assert not np.isin(targets.to_numpy(), train).any(), "a test target is in the train fold"
    counts = fold.groupby(USER).size()
    assert (counts >= 2).all(), "every test user has a history and a target"
    # The target is strictly after the history, or tied and later in row order.
    target_times = X.loc[targets.to_numpy(), TIME].to_numpy()
    history_max = fold.drop(index=targets.to_numpy()).groupby(USER)[TIME].max()
    assert (history_max.reindex(targets.index).to_numpy() <= target_times).all()
    return targets


def folds(cv, X):
    return [(train, test) for train, test in cv.split(X)]


# --------------------------------------------------------------------------- LeaveLastOut
def test_loo_train_excludes_exactly_last_events():
    X = random_frame(1)
    counts = X.groupby(USER).size()
    last = last_rows(X)
    expected_targets = set(last[counts[counts >= 2].index].to_numpy())
    [(train, test)] = folds(LeaveLastOut(), X)
    assert set(range(len(X))) - set(train) == expected_targets
    eligible = set(counts[counts >= 2].index)
    assert set(test) == set(np.flatnonzero(X[USER].isin(eligible)))
    targets = check_contract(X, train, test)
    assert set(targets.to_numpy()) == expected_targets


def test_loo_ties_in_time_keep_row_order():
    # user 1 has two events at time 5: the later row is the last event.
    X = pd.DataFrame({USER: [1, 1, 1, 2, 2], ITEM: [10, 11, 11, 10, 11], TIME: [5, 0, 5, 1, 2]})
    [(train, test)] = folds(LeaveLastOut(), X)
    assert train.tolist() == [0, 1, 3]
    assert test.tolist() == [0, 1, 2, 3, 4]


def test_loo_min_events_and_info():
    X = random_frame(2)
    counts = X.groupby(USER).size()
    cv = LeaveLastOut(min_events=4)
    [(train, test)] = folds(cv, X)
    tested = set(X.iloc[test][USER])
    assert tested == set(counts[counts >= 4].index)
    info = cv.split_info(X)
    assert info.loc[0, "n_test_users"] == len(tested)
    assert info.loc[0, "n_ineligible_users"] == int((counts < 4).sum())
    assert info.loc[0, "n_train_rows"] == len(train) and info.loc[0, "n_test_rows"] == len(test)


@pytest.mark.parametrize("test_size", [5, 0.2])
def test_loo_random_disjoint_user_subsets(test_size):
    X = random_frame(3, n_users=60)
    cv = LeaveLastOut(n_splits=3, test_size=test_size, random_state=0)
    seen = set()
    n_eligible = int((X.groupby(USER).size() >= 2).sum())
    expected = test_size if isinstance(test_size, int) else int(np.ceil(0.2 * n_eligible))
    for train, test in cv.split(X):
        targets = check_contract(X, train, test)
        users = set(targets.index)
        assert len(users) == expected
        assert not users & seen
        seen |= users
        # train is everything but these users' last events
        assert len(train) == len(X) - expected
    again = folds(cv, X)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(again, folds(cv, X))), (
        "random_state makes folds reproducible"
    )


def test_loo_n_splits_without_test_size_partitions_users():
    X = random_frame(4, n_users=40)
    cv = LeaveLastOut(n_splits=4, random_state=1)
    users = [set(X.iloc[test][USER]) for _, test in cv.split(X)]
    eligible = set((s := X.groupby(USER).size())[s >= 2].index)
    assert set().union(*users) == eligible
    assert sum(map(len, users)) == len(eligible)


def test_loo_cold_item_and_seen_target_drops_are_warned_and_counted():
    X = pd.DataFrame(
        {
            USER: [1, 1, 2, 2, 3, 3, 3, 4, 4],
            # user 1's target "z" occurs nowhere else: cold; user 3 repeats "a": seen target
            ITEM: ["a", "z", "a", "b", "a", "b", "a", "b", "a"],
            TIME: [0, 1, 0, 1, 0, 1, 2, 0, 1],
        }
    )
    cv = LeaveLastOut(cold_targets="exclude", exclude_seen_targets=True)
    with pytest.warns(DataDropWarning, match=r"dropped 2 of 4 test users: 1 whose target.*cold"):
        [(train, test)] = folds(cv, X)
    assert sorted(set(X.iloc[test][USER])) == [2, 4]
    # dropped users' last events stay out of train (train does not depend on the option)
    assert 1 not in train and 6 not in train
    check_contract(X, train, test)
    info = cv.split_info(X)  # does not warn (warnings are errors in this suite)
    assert info.loc[0, ["n_dropped_cold_item_users", "n_dropped_seen_target_users"]].tolist() == [
        1,
        1,
    ]
    assert info.loc[0, "n_test_users"] == 2


def test_all_users_dropped_raises():
    X = pd.DataFrame({USER: [1, 1], ITEM: ["a", "b"], TIME: [0, 1]})
    with pytest.raises(ValueError, match="no test user left: all 1 candidate users"):
        folds(LeaveLastOut(cold_targets="exclude"), X)


# --------------------------------------------------------------------------- UserKFold
def test_user_kfold_partitions_eligible_users():
    X = random_frame(5, n_users=50)
    counts = X.groupby(USER).size()
    eligible = set(counts[counts >= 3].index)
    cv = UserKFold(n_splits=4, random_state=0, min_events=3)
    tested = []
    for train, test in cv.split(X):
        targets = check_contract(X, train, test)
        fold_users = set(X.iloc[test][USER])
        assert set(targets.index) == fold_users
        # test = all rows of the fold's users, train = all rows of everyone else
        assert set(test) == set(np.flatnonzero(X[USER].isin(fold_users)))
        assert set(train) == set(np.flatnonzero(~X[USER].isin(fold_users)))
        tested.append(fold_users)
    assert set().union(*tested) == eligible
    assert sum(map(len, tested)) == len(eligible)
    info = cv.split_info(X)
    assert (info["n_ineligible_users"] == int((counts < 3).sum())).all()
    assert info["n_test_users"].sum() == len(eligible)


def test_user_kfold_without_shuffle_is_contiguous_in_id_order():
    X = random_frame(6, n_users=9, str_ids=True, max_len=4)
    X = X[X.groupby(USER)[USER].transform("size") >= 2].reset_index(drop=True)
    cv = UserKFold(n_splits=3, shuffle=False)
    firsts = [sorted(set(X.iloc[test][USER])) for _, test in cv.split(X)]
    flat = [u for fold in firsts for u in fold]
    assert flat == sorted(flat)


# --------------------------------------------------------------------------- temporal
def check_temporal_fold(X, train, test, cutoff, window_end=None, min_history=1):
    times = X[TIME].to_numpy()
    assert times[train].max() < cutoff, "a training row is at or after the cut-off"
    assert set(train) == set(np.flatnonzero(times < cutoff))
    targets = check_contract(X, train, test)
    # target = first row at/after the cut-off of each user (ties: row order)
    after = X[times >= cutoff].sort_values(TIME, kind="stable").groupby(USER).head(1)
    first_after = pd.Series(after.index, index=after[USER].to_numpy())
    assert (targets == first_after[targets.index]).all()
    target_times = times[targets.to_numpy()]
    assert (target_times >= cutoff).all()
    if window_end is not None:
        assert (target_times < window_end).all()
    history = np.setdiff1d(test, targets.to_numpy())
    assert (times[history] < cutoff).all()
    n_before = X[times < cutoff].groupby(USER).size()
    assert (n_before.reindex(targets.index, fill_value=0) >= min_history).all()
    return targets


def test_temporal_quantile_cutoff_and_contract():
    X = random_frame(7, n_users=60)
    cv = GlobalTemporalSplit(test_quantile=0.1)
    [cutoff] = cv.get_cutoffs(X)
    times = np.sort(X[TIME].to_numpy())
    # distinct times: exactly ceil(10 %) of the rows are at or after the cut-off
    assert (times >= cutoff).sum() == int(np.ceil(0.1 * len(X)))
    [(train, test)] = folds(cv, X)
    targets = check_temporal_fold(X, train, test, cutoff)
    # every user with a row on both sides is tested
    before = set(X[X[TIME] < cutoff][USER])
    after = set(X[X[TIME] >= cutoff][USER])
    assert set(targets.index) == before & after
    info = cv.split_info(X)
    assert info.loc[0, "cutoff"] == cutoff
    assert info.loc[0, "n_short_history_users"] == len(after - before)


def test_temporal_ties_at_cutoff_go_to_test():
    X = pd.DataFrame(
        {
            USER: [1, 1, 1, 2, 2, 2, 3],
            ITEM: ["a", "b", "a", "b", "a", "b", "a"],
            TIME: [0, 5, 5, 1, 5, 9, 5],
        }
    )
    cv = GlobalTemporalSplit(cutoff=5)
    [(train, test)] = folds(cv, X)
    assert train.tolist() == [0, 3]  # nothing at time 5 trains
    # user 1: two rows at time 5, the earlier row is the target; user 3 has no history
    assert test.tolist() == [0, 1, 3, 4]
    check_temporal_fold(X, train, test, 5)


def test_temporal_min_history():
    X = random_frame(8, n_users=60)
    cv = GlobalTemporalSplit(test_quantile=0.2, min_history=3)
    [cutoff] = cv.get_cutoffs(X)
    [(train, test)] = folds(cv, X)
    check_temporal_fold(X, train, test, cutoff, min_history=3)


def test_temporal_rolling_origin():
    X = random_frame(9, n_users=80)
    cv = GlobalTemporalSplit(n_splits=3, test_quantile=0.1)
    cutoffs = cv.get_cutoffs(X)
    assert cutoffs == sorted(cutoffs) and len(set(cutoffs)) == 3
    n = len(X)
    times = X[TIME].to_numpy()
    for j, c in enumerate(cutoffs):
        assert (times >= c).sum() == int(np.ceil((3 - j) * 0.1 * n))
    ends = [*cutoffs[1:], None]
    all_folds = folds(cv, X)
    assert len(all_folds) == cv.get_n_splits() == 3
    for (train, test), cutoff, end in zip(all_folds, cutoffs, ends):
        check_temporal_fold(X, train, test, cutoff, end)
    info = cv.split_info(X)
    assert info["cutoff"].tolist() == cutoffs
    assert info["window_end"].tolist()[:2] == cutoffs[1:]


def test_temporal_list_of_cutoffs():
    X = random_frame(10, n_users=60)
    cv = GlobalTemporalSplit(n_splits=2, cutoff=[300, 450])
    for (train, test), cutoff, end in zip(folds(cv, X), [300, 450], [450, None]):
        check_temporal_fold(X, train, test, cutoff, end)


def test_temporal_tz_aware_datetimes_and_string_ids():
    X = random_frame(11, n_users=40, str_ids=True)
    X[TIME] = pd.Timestamp("2024-03-01", tz="Europe/Paris") + pd.to_timedelta(X[TIME], unit="h")
    naive_cutoff = "2024-03-10 12:00"  # read in the column's time zone
    cv = GlobalTemporalSplit(cutoff=naive_cutoff)
    [cutoff] = cv.get_cutoffs(X)
    assert cutoff == pd.Timestamp(naive_cutoff, tz="Europe/Paris")
    assert str(cutoff.tz) == "Europe/Paris"
    [(train, test)] = folds(cv, X)
    assert X[TIME].iloc[train].max() < cutoff
    check_temporal_fold(X, train, test, cutoff)
    # the same instant given in UTC gives the same folds
    utc = GlobalTemporalSplit(cutoff=cutoff.tz_convert("UTC"))
    [(train2, test2)] = folds(utc, X)
    assert np.array_equal(train, train2) and np.array_equal(test, test2)
    # computed cut-offs come back as tz-aware timestamps
    [auto] = GlobalTemporalSplit(test_quantile=0.1).get_cutoffs(X)
    assert isinstance(auto, pd.Timestamp) and str(auto.tz) == "Europe/Paris"


def test_temporal_naive_datetimes_non_ns_unit():
    X = random_frame(12, n_users=30)
    X[TIME] = (pd.Timestamp("2020-01-01") + pd.to_timedelta(X[TIME], unit="D")).astype(
        "datetime64[s]"
    )
    cv = GlobalTemporalSplit(test_quantile=0.2)
    [cutoff] = cv.get_cutoffs(X)
    assert isinstance(cutoff, pd.Timestamp) and cutoff.tz is None
    [(train, test)] = folds(cv, X)
    check_temporal_fold(X, train, test, cutoff)


def test_temporal_float_times():
    X = random_frame(13, n_users=30)
    X[TIME] = X[TIME] / 7.0
    cv = GlobalTemporalSplit(test_quantile=0.2)
    [cutoff] = cv.get_cutoffs(X)
    assert isinstance(cutoff, float)
    [(train, test)] = folds(cv, X)
    check_temporal_fold(X, train, test, cutoff)


def test_temporal_cold_item_drop_warns():
    X = pd.DataFrame(
        {USER: [1, 1, 2, 2, 3, 3], ITEM: ["a", "b", "b", "new", "a", "b"], TIME: [0, 5, 1, 6, 2, 7]}
    )
    cv = GlobalTemporalSplit(cutoff=5, cold_targets="exclude")
    with pytest.warns(DataDropWarning, match="dropped 1 of 3 test users: 1 whose target item"):
        [(train, test)] = folds(cv, X)
    assert sorted(set(X.iloc[test][USER])) == [1, 3]
    assert cv.split_info(X).loc[0, "n_dropped_cold_item_users"] == 1
    # by default (cold_targets="miss") the cold user stays
    [(_, test)] = folds(GlobalTemporalSplit(cutoff=5), X)
    assert sorted(set(X.iloc[test][USER])) == [1, 2, 3]


# --------------------------------------------------------------------------- all splitters
SPLITTERS = [
    LeaveLastOut(),
    LeaveLastOut(n_splits=2, test_size=0.3, random_state=0, cold_targets="exclude"),
    UserKFold(n_splits=3, random_state=0),
    GlobalTemporalSplit(test_quantile=0.2),
    GlobalTemporalSplit(n_splits=2, test_quantile=0.15),
]


@pytest.mark.parametrize("cv", SPLITTERS, ids=repr)
def test_every_splitter_meets_the_contract(cv):
    X = random_frame(14, n_users=60, n_items=4)
    found = folds(cv, X)
    assert len(found) == cv.get_n_splits(X)
    for train, test in found:
        check_contract(X, train, test)


@pytest.mark.parametrize("cv", SPLITTERS, ids=repr)
def test_unsorted_input_gives_the_same_folds(cv):
    X = random_frame(15, n_users=40, n_items=4)  # unique times, so row order cannot matter
    X.index = [f"r{i}" for i in range(len(X))]
    shuffled = X.sample(frac=1.0, random_state=3)
    by_time = X.sort_values([USER, TIME])
    reference = None
    for frame in (X, shuffled, by_time):
        labelled = [
            (frozenset(frame.index[train]), frozenset(frame.index[test]))
            for train, test in cv.split(frame)
        ]
        reference = reference or labelled
        assert labelled == reference


@given(
    seed=st.integers(0, 10_000),
    ties=st.booleans(),
    kind=st.sampled_from(["loo", "temporal", "kfold"]),
)
@settings(max_examples=40, deadline=None)
def test_contract_property(seed, ties, kind):
    X = random_frame(seed, n_users=12, n_items=3, max_len=5, tie_times=ties)
    cv = {
        "loo": LeaveLastOut(),
        "temporal": GlobalTemporalSplit(test_quantile=0.3),
        "kfold": UserKFold(n_splits=2, random_state=seed),
    }[kind]
    try:
        found = folds(cv, X)
    except ValueError as exc:  # a generated frame may leave no test user: must say so
        assert re.search("no test user|no user has|is more than|no row of X", str(exc))
        return
    for train, test in found:
        check_contract(X, train, test)
        if kind == "temporal":
            [cutoff] = cv.get_cutoffs(X)
            assert (X[TIME].to_numpy()[train] < cutoff).all()


# --------------------------------------------------------------------------- sklearn
class LeakCheckingPopularity(BaseEstimator):
    """Recommends the ``k`` most popular training items; fails loudly on a leaked target.

    ``score`` mimics skseqrec's estimators: the target of each user of ``X`` is its
    chronologically last row; it must not have been among the training rows.
    """

    def __init__(self, k=3):
        self.k = k

    def fit(self, X, y=None):
        assert y is None
        self.top_ = X[ITEM].value_counts().index[: self.k].to_numpy()
        self.train_labels_ = frozenset(X.index)
        return self

    def score(self, X, y=None):
        targets = X.sort_values(TIME, kind="stable").groupby(USER).tail(1)
        leaked = self.train_labels_ & set(targets.index)
        if leaked:
            raise AssertionError(f"{len(leaked)} test targets were in the training fold")
        return float(targets[ITEM].isin(self.top_).mean())


@pytest.mark.parametrize("cv", SPLITTERS[:4], ids=repr)
def test_cross_validate_uses_the_splitters(cv):
    X = random_frame(16, n_users=60, n_items=5)
    result = cross_validate(LeakCheckingPopularity(), X, cv=cv, error_score="raise")
    assert len(result["test_score"]) == cv.get_n_splits()
    assert np.isfinite(result["test_score"]).all()


def test_grid_search_in_parallel_workers():
    X = random_frame(17, n_users=60, n_items=5)
    cv = GlobalTemporalSplit(n_splits=2, test_quantile=0.2)
    search = GridSearchCV(
        LeakCheckingPopularity(), {"k": [1, 5]}, cv=cv, n_jobs=2, error_score="raise"
    )
    search.fit(X)
    assert search.best_params_ == {"k": 5}  # more recommendations, more hits
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_dummy_estimator_detects_a_leak():
    """The leak check above can fail: a splitter yielding the targets in train is caught."""

    class Leaky:
        def split(self, X, y=None, groups=None):
            yield np.arange(len(X)), np.arange(len(X))

        def get_n_splits(self, X=None, y=None, groups=None):
            return 1

    with pytest.raises(AssertionError, match="test targets were in the training fold"):
        cross_validate(LeakCheckingPopularity(), random_frame(0), cv=Leaky(), error_score="raise")


def test_repr_and_pickle():
    cv = LeaveLastOut(n_splits=2, test_size=3, random_state=7)
    assert repr(cv).startswith("LeaveLastOut(n_splits=2, test_size=3, min_events=2,")
    assert "random_state=7" in repr(cv)
    assert repr(pickle.loads(pickle.dumps(cv))) == repr(cv)
    assert UserKFold().get_n_splits() == 5
    assert GlobalTemporalSplit(n_splits=3).get_n_splits(None, None, None) == 3


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "cv, match",
    [
        (LeaveLastOut(n_splits=0), r"LeaveLastOut: n_splits must be in \[1, inf\], got 0"),
        (LeaveLastOut(n_splits=1.5), "n_splits must be an int, got 1.5"),
        (LeaveLastOut(min_events=1), r"min_events must be in \[2, inf\], got 1"),
        (LeaveLastOut(test_size=0), "test_size must be None, an int >= 1 or a float"),
        (LeaveLastOut(test_size=1.5), r"test_size .* got 1.5"),
        (LeaveLastOut(test_size=True), "test_size .* got True"),
        (LeaveLastOut(test_size=1000), "test_size=1000 asks for 1000 test users"),
        (LeaveLastOut(n_splits=1000), "n_splits=1000 is more than the"),
        (LeaveLastOut(cold_targets="yes"), r"cold_targets must be one of \['miss', 'exclude'\]"),
        (LeaveLastOut(cold_targets=True), r"cold_targets must be one of .* got True"),
        (LeaveLastOut(exclude_seen_targets=None), "exclude_seen_targets must be True or False"),
        (LeaveLastOut(random_state="seed"), "random_state must be None, an int"),
        (LeaveLastOut(user_col="uid"), "no column 'uid'"),
        (UserKFold(n_splits=1), r"UserKFold: n_splits must be in \[2, inf\], got 1"),
        (UserKFold(shuffle=1), "shuffle must be True or False, got 1"),
        (UserKFold(min_events=0), r"min_events must be in \[2, inf\], got 0"),
        (UserKFold(cold_targets="drop"), "cold_targets must be one of .* got 'drop'"),
        (UserKFold(n_splits=500), "n_splits=500 is more than the"),
        (UserKFold(item_col="iid"), "no column 'iid'"),
        (GlobalTemporalSplit(test_quantile=0.0), r"test_quantile must be in \(0, 1\), got 0.0"),
        (GlobalTemporalSplit(test_quantile=1), r"test_quantile must be in \(0, 1\), got 1"),
        (GlobalTemporalSplit(n_splits=4, test_quantile=0.3), "n_splits \\* test_quantile"),
        (GlobalTemporalSplit(min_history=0), r"min_history must be in \[1, inf\], got 0"),
        (GlobalTemporalSplit(cold_targets=None), "cold_targets must be one of .* got None"),
        (GlobalTemporalSplit(n_splits=2, cutoff=5), "a single cutoff=5 makes one fold"),
        (GlobalTemporalSplit(cutoff=[5, 6]), "cutoff holds 2 values but n_splits=1"),
        (GlobalTemporalSplit(n_splits=2, cutoff=[6, 5]), "strictly increasing"),
        (GlobalTemporalSplit(cutoff="2020-01-01"), "cutoff must be a finite number"),
        (GlobalTemporalSplit(cutoff=-1), "no row of X .* is before the cut-off -1"),
        (GlobalTemporalSplit(cutoff=10**9), "has no test user"),
        (GlobalTemporalSplit(time_col="ts"), "no column 'ts'"),
    ],
    ids=repr,
)
def test_parameter_errors(cv, match):
    X = random_frame(18)
    with pytest.raises(ValueError, match=match):
        cv.split(X)  # raised at the call, not at the first fold
    with pytest.raises(ValueError, match=match):
        cv.split_info(X)


def test_datetime_cutoff_errors():
    X = random_frame(19)
    X[TIME] = pd.to_datetime(X[TIME], unit="s")
    with pytest.raises(ValueError, match="cutoff must be a datetime"):
        GlobalTemporalSplit(cutoff=5).split(X)
    with pytest.raises(ValueError, match="cannot be read as a datetime"):
        GlobalTemporalSplit(cutoff="not a date").split(X)
    with pytest.raises(ValueError, match="is tz-aware but column 'timestamp' holds tz-naive"):
        GlobalTemporalSplit(cutoff=pd.Timestamp("1970-01-01", tz="UTC")).split(X)


@pytest.mark.parametrize("cv", SPLITTERS, ids=repr)
def test_bad_frames(cv):
    with pytest.raises(TypeError, match="must be a pandas"):
        cv.split(np.zeros((3, 3)))
    X = random_frame(20)
    X.loc[3, USER] = None
    with pytest.raises(ValueError, match="Column 'user_id' of X has 1 missing"):
        cv.split(X)


def test_no_eligible_user_message_gives_counts():
    X = pd.DataFrame({USER: [1, 2, 3], ITEM: [1, 2, 3], TIME: [0, 1, 2]})
    with pytest.raises(ValueError, match="no user has >= 2 events .* 3 users and 3 rows"):
        LeaveLastOut().split(X)


# --------------------------------------------------------------------------- helpers
def test_time_validation_split():
    X = random_frame(21, n_users=60)
    train, valid = time_validation_split(X, fraction=0.2)
    [cutoff] = GlobalTemporalSplit(test_quantile=0.2).get_cutoffs(X)
    check_temporal_fold(X, train, valid, cutoff)


def test_time_validation_split_errors_and_cold_option():
    X = pd.DataFrame({USER: [1, 2, 3], ITEM: [1, 2, 3], TIME: [0, 1, 2]})
    with pytest.raises(ValueError, match=r"no validation user: of 3 users \(3 rows\)"):
        time_validation_split(X, fraction=0.3)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\), got 1.0"):
        time_validation_split(X, fraction=1.0)
    X = pd.DataFrame({USER: [1, 1, 2, 2], ITEM: [1, 2, 1, 1], TIME: [0, 5, 1, 6]})
    train, valid = time_validation_split(X, fraction=0.5)  # cold target kept by default
    assert valid.tolist() == [0, 1, 2, 3]
    with pytest.warns(DataDropWarning, match="dropped 1 of 2 validation users"):
        train, valid = time_validation_split(X, fraction=0.5, cold_targets="exclude")
    assert valid.tolist() == [2, 3]


def test_last_event_validation_split():
    X = random_frame(22, n_users=50)
    counts = X.groupby(USER).size()
    n_eligible = int((counts >= 3).sum())
    train, valid = last_event_validation_split(X, fraction=0.25, random_state=0)
    targets = check_contract(X, train, valid)
    assert len(targets) == int(np.ceil(0.25 * n_eligible))
    assert (counts[targets.index] >= 3).all()
    assert set(targets.to_numpy()) == set(last_rows(X)[targets.index].to_numpy())
    assert len(train) == len(X) - len(targets)
    again = last_event_validation_split(X, fraction=0.25, random_state=0)
    assert np.array_equal(again[1], valid)
    # at least one user even for a tiny fraction
    _, valid = last_event_validation_split(X, fraction=1e-6, random_state=0)
    assert X.iloc[valid][USER].nunique() == 1


def test_last_event_validation_split_errors():
    X = pd.DataFrame({USER: [1, 1, 2], ITEM: [1, 2, 3], TIME: [0, 1, 2]})
    with pytest.raises(ValueError, match=r"no user has >= 3 events .* 2 users and 3 rows"):
        last_event_validation_split(X)
    with pytest.raises(ValueError, match=r"min_events must be in \[2, inf\], got 1"):
        last_event_validation_split(X, min_events=1)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\), got 0"):
        last_event_validation_split(X, fraction=0)
    with pytest.raises(ValueError, match="random_state must be"):
        last_event_validation_split(X, random_state="x", min_events=2)


# --------------------------------------------------------------------------- cold targets
def cold_frame() -> pd.DataFrame:
    """Every splitter below drops someone: cold last items ("z", "y") and repeated targets.

    user 1: a z a, user 2: a b, user 3: a b a, user 4: b a, user 5: c y (times 0, 1, 2, ...;
    user 5's second event at time 3).
    """
    return pd.DataFrame(
        {
            USER: [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5],
            ITEM: ["a", "z", "a", "a", "b", "a", "b", "a", "b", "a", "c", "y"],
            TIME: [0, 1, 2, 0, 1, 0, 1, 2, 0, 1, 0, 3],
        }
    )


DROPPING = [
    LeaveLastOut(cold_targets="exclude", exclude_seen_targets=True),
    UserKFold(n_splits=2, shuffle=False, cold_targets="exclude", exclude_seen_targets=True),
    GlobalTemporalSplit(cutoff=1, cold_targets="exclude", exclude_seen_targets=True),
]


def test_cold_targets_default_is_the_protocol_default():
    for splitter in (LeaveLastOut, UserKFold, GlobalTemporalSplit):
        assert splitter().cold_targets == DEFAULT_COLD_TARGETS == "miss"
    for helper in (time_validation_split, last_event_validation_split):
        assert inspect.signature(helper).parameters["cold_targets"].default == "miss"


@pytest.mark.parametrize("cv", DROPPING, ids=repr)
def test_cold_targets_miss_keeps_cold_users(cv):
    """With "miss" a user whose target item is not in the training rows stays tested."""
    X = cold_frame()
    params = {**vars(cv), "exclude_seen_targets": False}
    miss = cv.__class__(**{**params, "cold_targets": "miss"})
    n_cold = 0
    for train, test in folds(miss, X):  # no warning (warnings are errors here)
        targets = check_contract(X, train, test)
        train_items = set(X.loc[train, ITEM])
        n_cold += sum(X.loc[row, ITEM] not in train_items for row in targets)
    assert n_cold > 0, "the frame has cold targets"
    assert (miss.split_info(X)["n_dropped_cold_item_users"] == 0).all()
    exclude = cv.__class__(**{**params, "cold_targets": "exclude"})
    assert exclude.split_info(X)["n_dropped_cold_item_users"].sum() == n_cold


@pytest.mark.parametrize("cv", DROPPING, ids=repr)
def test_drop_warning_says_where_the_dropped_users_rows_are(cv):
    X = cold_frame()
    keep_all = cv.__class__(**{**vars(cv), "cold_targets": "miss", "exclude_seen_targets": False})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = folds(cv, X)
    messages = {
        int(re.search(r"fold (\d+) dropped", str(w.message)).group(1)): str(w.message)
        for w in caught
    }
    assert len(messages) == len(caught) == len(found), "one warning per fold, each drops"
    for fold, ((train, test), (_, all_test)) in enumerate(zip(found, folds(keep_all, X))):
        message = messages[fold]
        dropped = set(X.loc[all_test, USER]) - set(X.loc[test, USER])
        rows = np.flatnonzero(X[USER].isin(dropped))
        in_train = int(np.isin(rows, train).sum())
        assert not np.isin(rows, test).any(), "a dropped user's row is in the test fold"
        assert f"dropped {len(dropped)} of" in message
        if in_train:
            verb = "is" if in_train == 1 else "are"
            expected = (
                f"Of their {len(rows)} rows, {in_train} {verb} in the training fold and "
                f"{len(rows) - in_train} in neither side of the fold."
            )
        else:
            expected = f"Their {len(rows)} rows are in neither side of the fold."
        assert message.endswith(expected), message
        if isinstance(cv, UserKFold):  # a test user never trains its own fold
            assert in_train == 0
        elif isinstance(cv, LeaveLastOut):  # only the targets leave the training fold
            assert len(rows) - in_train == len(dropped)
        else:  # time alone decides: rows before the cut-off train
            times = X[TIME].to_numpy()[rows]
            assert in_train == int((times < cv.cutoff).sum()) > 0


@pytest.mark.parametrize("cv", DROPPING, ids=repr)
def test_drop_warning_points_at_the_callers_line(cv):
    X = cold_frame()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cv.split(X)
    assert caught and all(issubclass(w.category, DataDropWarning) for w in caught)
    assert {w.filename for w in caught} == {__file__}
    # through scikit-learn, the warning points at the line calling scikit-learn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cross_validate(LeakCheckingPopularity(), X, cv=cv, error_score="raise")
    drops = [w for w in caught if issubclass(w.category, DataDropWarning)]
    assert drops and {w.filename for w in drops} == {__file__}


def test_validation_split_warnings_point_at_the_callers_line():
    X = cold_frame()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        time_validation_split(X, fraction=0.3, cold_targets="exclude")
        last_event_validation_split(X, fraction=0.99, min_events=2, cold_targets="exclude")
    assert len(caught) == 2 and {w.filename for w in caught} == {__file__}
    assert all("validation users" in str(w.message) for w in caught)


# --------------------------------------------------------------------------- one cut rule
@pytest.mark.parametrize(
    "seed, n_users, n_splits, share, expected",
    [  # cut-offs of the splitter before it used skseqrec.protocol.rolling_cutoffs
        (7, 60, 1, 0.1, [2970]),
        (9, 80, 3, 0.1, [3210, 3670, 4130]),
        (14, 60, 2, 0.15, [2100, 2550]),
        (8, 60, 1, 0.2, [2290]),
        (17, 60, 2, 0.2, [1710, 2280]),
    ],
)
def test_cutoffs_follow_the_protocol_cut_rule(seed, n_users, n_splits, share, expected):
    X = random_frame(seed, n_users=n_users)
    cutoffs = GlobalTemporalSplit(n_splits=n_splits, test_quantile=share).get_cutoffs(X)
    assert cutoffs == expected == rolling_cutoffs(X[TIME].to_numpy(), n_splits, share)
    if n_splits == 1:
        train, _ = time_validation_split(X, fraction=share)
        assert X[TIME].to_numpy()[train].max() < cutoffs[0]
        assert (X[TIME].to_numpy() < cutoffs[0]).sum() == len(train)


# --------------------------------------------------------------------------- bad parameters
BAD_VALUES = {
    "n_splits": 0,
    "test_size": 0,
    "min_events": 1.5,
    "min_history": 0,
    "cold_targets": "drop",
    "exclude_seen_targets": "yes",
    "shuffle": 1,
    "random_state": "seed",
    "cutoff": "tomorrow",
    "test_quantile": 1.5,
    "fraction": 1.0,
    "user_col": 3,
    "item_col": "",
    "time_col": None,
}
PUBLIC = [
    getattr(skseqrec.model_selection, name)
    for name in skseqrec.model_selection.__all__
    if getattr(skseqrec.model_selection, name).__module__ == LeaveLastOut.__module__
]


def test_every_public_name_of_the_module_is_covered():
    names = {obj.__name__ for obj in PUBLIC}
    assert names == {
        "GlobalTemporalSplit",
        "LeaveLastOut",
        "UserKFold",
        "last_event_validation_split",
        "time_validation_split",
    }


@pytest.mark.parametrize("public", PUBLIC, ids=lambda obj: obj.__name__)
def test_every_bad_parameter_raises_invalid_parameter_error(public):
    X = random_frame(23)
    names = [n for n in inspect.signature(public).parameters if n != "X"]
    assert set(names) <= set(BAD_VALUES), "give each new parameter a bad value"
    for name in names:
        value = BAD_VALUES[name]
        if inspect.isclass(public):
            call = public(**{name: value}).split
        else:
            call = lambda X, name=name, value=value: public(X, **{name: value})  # noqa: E731
        with pytest.raises(InvalidParameterError) as info:
            call(X)
        message = str(info.value)
        assert message.startswith(f"{public.__name__}: "), message
        assert name in message and repr(value) in message, message
        assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)

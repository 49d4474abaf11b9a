"""gap_conditioning: the time until the predicted event (the request's when serving)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from skseqrec import BERT4RecEstimator, ESASRecEstimator, evaluate
from skseqrec.data import build_sequences
from skseqrec.exceptions import InvalidParameterError
from skseqrec.nn import GapEmbedding
from skseqrec.protocol import first_after_holdout

DAY = 86_400
RETURN_ITEM = 99


def _sessions(n_users=60, n_sessions=5, seed=0):
    """Users from time 0 in sessions of 3-7 events a minute apart, 10-60 days between sessions: each
    session opens with item 99 (what a returning user picks), then walks a chain of
    items 1..30 from a random start. Only the time since the last event tells whether
    the next event is 99 (the session lengths vary)."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        t = 0
        for _ in range(n_sessions):
            rows.append((user, RETURN_ITEM, t))
            item = int(rng.integers(1, 31))
            for _ in range(int(rng.integers(3, 8))):
                t += 60
                rows.append((user, item, t))
                item = item % 30 + 1
            t += int(rng.integers(10 * DAY, 60 * DAY))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def _model(**params):
    base = dict(
        hidden_units=32,
        num_blocks=1,
        max_len=20,
        epochs=50,
        batch_size=32,
        early_stopping_steps=None,
        early_stopping_patience=None,
        validation=None,
        random_state=0,
    )
    return ESASRecEstimator(**{**base, **params})


@pytest.fixture(scope="module")
def sessions():
    return _sessions()


@pytest.fixture(scope="module")
def fitted(sessions):
    return _model(gap_conditioning=True).fit(sessions), _model(gap_conditioning=False).fit(sessions)


def _top1(model, X, at):
    recs = model.recommend(X, top_k=1, exclude_seen=False, at=at)
    return recs["item_id"].to_numpy()


def test_gap_model_reads_the_time_to_the_request(sessions, fitted):
    gap, plain = fitted
    last = int(sessions["timestamp"].max())
    later = last + 40 * DAY  # every user has been away for over a month
    # after a break the next event is the returning item; right after, the chain goes on
    assert (_top1(gap, sessions, later) == RETURN_ITEM).mean() >= 0.9
    # a history cut right after an event of a session, asked a minute later
    cut = sessions.groupby("user_id").head(3)  # 99, then two chain items
    at_soon = int(cut["timestamp"].max()) + 60
    assert (_top1(gap, cut, at_soon) == RETURN_ITEM).mean() <= 0.1
    # the plain model cannot tell the two requests apart: it ignores at=
    assert (_top1(plain, sessions, later) == RETURN_ITEM).mean() <= 0.2
    pd.testing.assert_frame_equal(
        plain.recommend(sessions, top_k=5, exclude_seen=False, at=later),
        plain.recommend(sessions, top_k=5, exclude_seen=False),
    )


def test_predict_reads_each_rows_own_time(sessions, fitted):
    """predict: each row's time is its request time, so the gap model knows which rows
    open a session (after a break of days) and the plain model cannot."""
    gap, plain = fitted
    later_rows = sessions.groupby("user_id").cumcount() > 0
    opens = (sessions["item_id"] == RETURN_ITEM).to_numpy() & later_rows.to_numpy()
    gap_predicted = np.asarray(gap.predict(sessions)) == RETURN_ITEM
    assert gap_predicted[opens].mean() >= 0.9  # a row days after the last one
    assert gap_predicted[~opens & later_rows.to_numpy()].mean() <= 0.1  # a minute after
    plain_predicted = np.asarray(plain.predict(sessions)) == RETURN_ITEM
    assert plain_predicted[opens].mean() <= 0.5
    proba = gap.predict_proba(sessions)
    return_column = list(gap.classes_).index(RETURN_ITEM)
    assert np.array_equal(proba.argmax(axis=1) == return_column, gap_predicted)


def test_unknown_request_time_is_scored(sessions, fitted):
    gap, _ = fitted
    recs = gap.recommend(sessions, top_k=5, exclude_seen=False)  # no at=: the unknown-gap vector
    assert len(recs) == 5 * sessions["user_id"].nunique()
    assert np.isfinite(recs["score"]).all()


def test_pickled_gap_model_gives_identical_recommendations(sessions, fitted):
    gap, _ = fitted
    at = int(sessions["timestamp"].max()) + DAY
    restored = pickle.loads(pickle.dumps(gap))
    pd.testing.assert_frame_equal(
        restored.recommend(sessions, exclude_seen=False, at=at),
        gap.recommend(sessions, exclude_seen=False, at=at),
    )


def test_request_before_the_latest_event_warns(sessions, fitted):
    gap, _ = fitted
    at = int(sessions["timestamp"].min())
    with pytest.warns(UserWarning, match=r"60 of 60 users have events in X after at="):
        gap.recommend(sessions, exclude_seen=False, at=at)


def test_at_must_match_the_time_column(sessions, fitted):
    gap, _ = fitted
    with pytest.raises(InvalidParameterError, match="at must be a finite number"):
        gap.recommend(sessions, at="2024-01-01")
    dated = sessions.assign(timestamp=pd.to_datetime(sessions["timestamp"], unit="s"))
    with pytest.raises(InvalidParameterError, match="at must be a datetime"):
        gap.recommend(dated, at=5)


def test_datetime_column_reads_at_as_a_datetime(sessions):
    dated = sessions.assign(timestamp=pd.to_datetime(sessions["timestamp"], unit="s"))
    model = _model(gap_conditioning=True).fit(dated)
    later = dated["timestamp"].max() + pd.Timedelta(days=30)
    assert (_top1(model, dated, later) == RETURN_ITEM).mean() >= 0.9
    assert (_top1(model, dated, str(later)) == _top1(model, dated, later)).all()


def test_bert4rec_reads_the_gap_before_its_mask(sessions):
    """Bidirectional: each position reads the gap since the previous event; the [MASK]
    slot appended to recommend reads the request's."""
    params = dict(hidden_units=32, num_blocks=1, max_len=20, epochs=50, batch_size=32)
    params.update(early_stopping_steps=None, validation=None, random_state=0)
    params.update(early_stopping_min_steps=0, early_stopping_rate=0.0)
    model = BERT4RecEstimator(gap_conditioning=True, **params).fit(sessions)
    later = int(sessions["timestamp"].max()) + 30 * DAY
    assert (_top1(model, sessions, later) == RETURN_ITEM).mean() >= 0.9
    cut = sessions.groupby("user_id").head(3)
    assert (_top1(model, cut, int(cut["timestamp"].max()) + 60) == RETURN_ITEM).mean() <= 0.1


def test_time_protocol_requests_at_the_cutoff(sessions):
    users = np.repeat([1, 2], 3)
    sequences = build_sequences(users, np.array([1, 2, 3, 4, 5, 6]), np.array([0, 5, 9, 1, 2, 3]))
    train, holdout = first_after_holdout(sequences, cutoff=4)
    assert holdout.history.request_times.tolist() == [4.0]  # user 1 only: user 2 is all before
    assert train.request_times is None
    # evaluate under TIME reads the cut-off as the request time of a gap model
    table = evaluate(_model(gap_conditioning=True, epochs=2), sessions, protocol="time")
    assert table["n_users"].iloc[0] > 0


def test_request_times_follow_selections():
    sequences = build_sequences(np.array([1, 2, 3]), np.array([4, 5, 6]), np.array([0, 1, 2]))
    timed = sequences.with_request_times([10.0, np.nan, 30.0])
    assert timed.select([2, 0]).request_times.tolist() == [30.0, 10.0]
    picked = timed.select_users(np.array([3, 7]))
    assert picked.request_times[0] == 30.0 and np.isnan(picked.request_times[1])
    joined = type(sequences).concat([timed, sequences])
    assert joined.request_times[:1].tolist() == [10.0] and np.isnan(joined.request_times[3:]).all()
    assert timed.drop_last().request_times[0] == 10.0
    assert timed.append(np.array([1, 0, 0])).request_times[2] == 30.0


def test_gap_embedding_hides_a_share_in_training():
    gap = GapEmbedding(d_model=4, unknown_share=0.5)
    with torch.no_grad():
        gap.embedding.weight.normal_()
    gaps = torch.full((1000,), 60.0)
    _ = torch.manual_seed(0)
    trained = gap.train()(gaps)
    unknown = gap.embedding.weight[gap.n_buckets]
    hidden = (trained == unknown).all(dim=-1).float().mean().item()
    assert 0.4 < hidden < 0.6
    assert not (gap.eval()(gaps) == unknown).all(dim=-1).any()
    assert gap.buckets(torch.tensor([-5.0, float("nan")])).tolist() == [0, gap.n_buckets]


def test_longer_gaps_than_trained_read_as_the_longest_trained():
    gap = GapEmbedding(d_model=3)
    with torch.no_grad():  # steps of buckets 0..5 learned, the rest untrained (zero)
        gap.embedding.weight[:6] = torch.arange(18.0).view(6, 3)
    hour, month, years = gap.eval()(torch.tensor([3600.0, 30 * DAY, 3e9]))
    assert hour.tolist() == month.tolist() == years.tolist()  # all past bucket 5
    assert hour.tolist() == torch.arange(18.0).view(6, 3).sum(0).tolist()


def test_a_time_column_that_only_orders_events_gives_no_gaps(sessions):
    """Positions 0, 1, 2, ... as the time: every gap is the same, there is nothing to
    read, and the model is the one without gap_conditioning."""
    order_only = sessions.assign(timestamp=sessions.groupby("user_id").cumcount())
    model = _model(gap_conditioning=True, epochs=3).fit(order_only)
    assert model.gap_conditioning and not model.gap_conditioning_
    assert model.module_.gap is None
    plain = _model(gap_conditioning=False, epochs=3).fit(order_only)
    pd.testing.assert_frame_equal(
        model.recommend(order_only, top_k=3, exclude_seen=False),
        plain.recommend(order_only, top_k=3, exclude_seen=False),
    )
    gap, _ = _model(gap_conditioning=True, epochs=1).fit(sessions), None
    assert gap.gap_conditioning_ and gap.module_.gap is not None

"""skseqrec.explain: gradient x input attributions of a recommendation to its history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

import skseqrec
from skseqrec import (
    MLPRankerEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    TwoStageRecommender,
    explain,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import TransformerRecommender
from skseqrec.nn import SequenceEncoder
from skseqrec.preprocessing import InteractionFilter

N_ITEMS = 20
FAST = dict(
    hidden_units=8,
    num_blocks=1,
    num_heads=2,
    max_len=8,
    epochs=1,
    batch_size=16,
    num_negatives=4,
    device="cpu",
)
COLUMNS = ["position", "item_id", "attribution", "explained_item", "score"]
#: every torch estimator exported by skseqrec (new presets join automatically)
TORCH = sorted(
    (
        getattr(skseqrec, name)
        for name in skseqrec.__all__
        if isinstance(getattr(skseqrec, name), type)
        and issubclass(getattr(skseqrec, name), TransformerRecommender)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.fixture(scope="module")
def world():
    return make_sequential_world(
        n_users=40, n_items=N_ITEMS, min_length=6, max_length=12, noise=0.1, random_state=0
    )


def _fit(cls, X, **params):
    names = cls().get_params()
    estimator = cls(**{k: v for k, v in {**FAST, **params}.items() if k in names})
    y = (X["item_id"] % 5 + 1).astype(float) if is_regressor(estimator) else None
    return estimator.fit(X, y)


def _frame(items, user=0, times=None):
    times = np.arange(len(items)) if times is None else times
    return pd.DataFrame({"user_id": user, "item_id": items, "timestamp": times})


@pytest.fixture(scope="module")
def sasrec(world):
    return _fit(SASRecClassifierEstimator, world, random_state=0)


def _state(estimator):
    return {k: v.detach().clone() for k, v in estimator.module_.state_dict().items()}


def _grads(estimator):
    return [None if p.grad is None else p.grad.clone() for p in estimator.module_.parameters()]


# ------------------------------------------------------------------------ every preset
@pytest.mark.parametrize("cls", TORCH, ids=lambda cls: cls.__name__)
def test_every_preset_explains_its_top_recommendation(cls, world):
    estimator = _fit(cls, world)
    history = [3, 11, 7, 8, 9, 12, 1, 2, 4, 5]  # longer than max_len=8
    before_state, before_grads = _state(estimator), _grads(estimator)
    before_top = estimator.recommend(_frame(history), top_k=5)
    rng_before = torch.get_rng_state()

    result = explain(estimator, history)

    assert result.columns.tolist() == COLUMNS
    assert result["position"].tolist() == list(range(len(history)))
    assert result["item_id"].tolist() == history
    assert result["attribution"].dtype == np.float64
    assert np.isfinite(result["attribution"]).all()
    # the default item is the top recommendation, with the score recommend reports
    top = before_top.iloc[0]
    assert (result["explained_item"] == top["item_id"]).all()
    np.testing.assert_allclose(result["score"], top["score"], rtol=1e-5, atol=1e-6)
    # only the window the model reads is attributed (BERT4Rec: max_len - 1 events)
    window = FAST["max_len"] - 1 if cls is skseqrec.BERT4RecEstimator else FAST["max_len"]
    assert (result["attribution"].iloc[: len(history) - window] == 0.0).all()
    assert (result["attribution"].iloc[len(history) - window :] != 0.0).any()

    # nothing changed: weights, gradients, mode, random state, recommendations
    after_state = _state(estimator)
    assert before_state.keys() == after_state.keys()
    for key, value in before_state.items():
        assert torch.equal(value, after_state[key]), key
    for before, after in zip(before_grads, _grads(estimator), strict=True):
        assert (before is None and after is None) or torch.equal(before, after)
    assert not estimator.module_.training
    assert torch.equal(rng_before, torch.get_rng_state())
    pd.testing.assert_frame_equal(estimator.recommend(_frame(history), top_k=5), before_top)


def test_training_mode_is_restored(sasrec):
    sasrec.module_.train()
    try:
        first = explain(sasrec, [1, 2, 3])
        assert sasrec.module_.training  # given back as it was
        second = explain(sasrec, [1, 2, 3])  # dropout is off during the call
        pd.testing.assert_frame_equal(first, second)
    finally:
        sasrec.module_.eval()


# ------------------------------------------------------------------------ what it means
def test_last_item_drives_the_next_item():
    """In a world where the next item is the last one + 1, the last event decides."""
    n_items = 30
    X = make_sequential_world(
        n_users=200, n_items=n_items, min_length=8, max_length=12, noise=0.3, random_state=0
    )
    model = SASRecClassifierEstimator(
        hidden_units=32,
        num_blocks=1,
        num_heads=1,
        max_len=8,
        dropout_rate=0.0,
        loss="softmax",
        negative_sampling="full",
        epochs=20,
        batch_size=32,
        random_state=0,
        device="cpu",
    ).fit(X)
    rng = np.random.default_rng(1)
    decided = 0
    for _ in range(20):
        history = rng.choice(n_items, size=6, replace=False).tolist()  # no run to follow
        follower = (history[-1] + 1) % n_items
        size = np.abs(explain(model, history, item=follower)["attribution"].to_numpy())
        decided += size[-1] > 5 * size[:-1].max()
    assert decided >= 18


def test_without_blocks_only_the_last_event_counts(world):
    # no attention: the user vector is a function of the last event alone
    model = _fit(SASRecClassifierEstimator, world, num_blocks=0)
    result = explain(model, [4, 9, 1, 6])
    assert (result["attribution"].iloc[:-1] == 0.0).all()
    assert result["attribution"].iloc[-1] != 0.0


def test_attribution_is_the_derivative_of_scaling_the_item_vector(sasrec):
    """a_p = d/dt score(e_p * (1 + t)) at t = 0, checked by central differences."""
    history = [5, 12, 3, 17, 8]
    item = 9
    result = explain(sasrec, history, item=item)
    encoder = next(m for m in sasrec.module_.modules() if isinstance(m, SequenceEncoder))
    _, _, sequences = sasrec.encode_history(_frame(history))
    code = sasrec.item_encoder_.encode(np.array([item]))

    def score(position, t):
        def scale(module, inputs, output):
            output = output.clone()
            output[:, position] *= 1.0 + t  # a short window: no padding, position = event
            return output

        handle = encoder.item_embedding.register_forward_hook(scale)
        try:
            return float(sasrec.score_pairs(sequences, code)[0, 0])
        finally:
            handle.remove()

    eps = 1e-2
    finite = [(score(p, eps) - score(p, -eps)) / (2 * eps) for p in range(len(history))]
    np.testing.assert_allclose(result["attribution"], finite, rtol=2e-2, atol=2e-4)
    assert result["score"].iloc[0] == pytest.approx(score(0, 0.0), rel=1e-5)


# ------------------------------------------------------------------------ inputs
def test_dataframe_history_in_any_order_with_string_ids():
    X = make_sequential_world(n_users=30, n_items=15, id_type="str", random_state=0)
    model = _fit(SASRecClassifierEstimator, X)
    items = ["i03", "i10", "i07", "i08"]
    frame = pd.DataFrame({"item_id": items, "timestamp": [10, 20, 30, 40]})
    shuffled = frame.iloc[[2, 0, 3, 1]]  # no user column, rows out of time order
    result = explain(model, shuffled, item="i09")
    assert result["item_id"].tolist() == items
    assert (result["explained_item"] == "i09").all()
    pd.testing.assert_frame_equal(result, explain(model, items, item="i09"))
    pd.testing.assert_frame_equal(
        result, explain(model, pd.Series(items, index=[5, 1, 2, 0]), item="i09")
    )


def test_explicit_item_and_seen_items(sasrec):
    history = [3, 4, 5]
    assert (explain(sasrec, history, item=4)["explained_item"] == 4).all()
    top_any = sasrec.recommend(_frame(history), top_k=1, exclude_seen=False)
    result = explain(sasrec, history, exclude_seen=False)
    assert (result["explained_item"] == top_any["item_id"].iloc[0]).all()


def test_regressor_explains_a_predicted_rating(world):
    model = _fit(SASRecRegressorEstimator, world)
    result = explain(model, [1, 2, 3], item=7)
    rated = model.recommend(_frame([1, 2, 3]), top_k=1, items=[7])
    assert result["score"].iloc[0] == pytest.approx(rated["score"].iloc[0], rel=1e-5)


def test_pipeline_and_search_are_unwrapped(world):
    pipe = make_pipeline(InteractionFilter(), SASRecClassifierEstimator(**FAST)).fit(world)
    result = explain(pipe, [1, 2, 3])
    direct = explain(pipe[-1], [1, 2, 3])
    pd.testing.assert_frame_equal(result, direct)


# ------------------------------------------------------------------------ errors
def test_not_fitted():
    with pytest.raises(NotFittedError):
        explain(SASRecClassifierEstimator(), [1, 2])


@pytest.mark.parametrize(
    "estimator",
    [
        PopularityRecommender(),
        TwoStageRecommender(
            retriever=SASRecClassifierEstimator(**FAST),
            ranker=MLPRankerEstimator(hidden_layer_sizes=(8,), epochs=1),
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_estimators_are_refused(estimator, world):
    with pytest.raises(TypeError, match=f"torch estimator.*got {type(estimator).__name__}"):
        explain(estimator, [1, 2])
    with pytest.raises(TypeError, match="expected a skseqrec recommender"):
        explain("not a model", [1, 2])


def test_unknown_items_are_named_and_counted(sasrec):
    with pytest.raises(ValueError, match=r"3 of the 5 history events .*'item_id': 99, 100"):
        explain(sasrec, [1, 99, 2, 100, 99])
    with pytest.raises(ValueError, match="item 99 is not an item of the fitted model"):
        explain(sasrec, [1, 2], item=99)


def test_bad_histories_and_method(sasrec):
    with pytest.raises(ValueError, match=r"one user's events.*2 users"):
        explain(sasrec, pd.concat([_frame([1, 2], user=0), _frame([3, 4], user=1)]))
    with pytest.raises(ValueError, match="no event"):
        explain(sasrec, [])
    with pytest.raises(TypeError, match="string"):
        explain(sasrec, "abc")
    with pytest.raises(ValueError, match="timestamp"):
        explain(sasrec, pd.DataFrame({"item_id": [1, 2]}))
    with pytest.raises(ValueError, match=r"method must be one of \['gradient'\]"):
        explain(sasrec, [1, 2], method="attention")
    every_item = list(range(N_ITEMS))
    with pytest.raises(ValueError, match="no item is left"):
        explain(sasrec, every_item)

"""TwoStageRecommender and MLPRankerEstimator: id dropout, the unknown flag, cold items."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skseqrec import (
    MLPRankerEstimator,
    SASRecClassifierEstimator,
    TwoStageRecommender,
)
from skseqrec.data.candidates import CandidateLists, ItemSide
from skseqrec.estimators.ranker import COLD_OFFSETS
from skseqrec.exceptions import InvalidParameterError
from skseqrec.nn.ranker import PairRanker

N_GROUPS = 4
ITEMS_PER_GROUP = 15


def group_world(n_users=240, length=16, seed=0):
    """Users who only consume items of their own group; metadata says each item's group.

    Item ``i`` belongs to group ``i % N_GROUPS``; its ``genres`` are the group's name and,
    for half the items, a shared tag; ``year`` is numeric noise.
    """
    rng = np.random.default_rng(seed)
    n_items = N_GROUPS * ITEMS_PER_GROUP
    groups = rng.integers(0, N_GROUPS, n_users)
    rows = []
    for user, group in enumerate(groups):
        members = np.arange(group, n_items, N_GROUPS)
        for t, item in enumerate(rng.choice(members, size=length)):
            rows.append((user, int(item), t))
    X = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    items = pd.DataFrame(
        {
            "item_id": np.arange(n_items),
            "genres": [f"g{i % N_GROUPS}" + ("|shared" if i % 2 else "") for i in range(n_items)],
            "year": rng.integers(1990, 2000, n_items).astype(float),
        }
    )
    return X, items, groups


def small_model(**kwargs):
    params = dict(
        n_candidates=12,
        random_state=0,
    )
    params.update(kwargs)
    return TwoStageRecommender(
        retriever=SASRecClassifierEstimator(
            hidden_units=16, epochs=3, batch_size=32, random_state=0
        ),
        ranker=MLPRankerEstimator(
            hidden_layer_sizes=(32,), epochs=8, batch_size=32, random_state=0
        ),
        **params,
    )


@pytest.fixture(scope="module")
def cold_setup():
    X, items, groups = group_world()
    cold = np.array([0, 1, 2, 3, 8, 9, 10, 11])  # two cold items per group
    train = X[~X["item_id"].isin(cold)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_model().fit(train, item_features=items)
    return model, train, items, groups, cold


# ----------------------------------------------------------------- the torch module
def _tiny_ranker(unknown_last=True):
    torch.manual_seed(0)
    n, d = 5, 4
    vectors = torch.randn(n + 1, d)
    unknown = torch.zeros(n + 1, dtype=torch.bool)
    if unknown_last:
        unknown[n] = True
        vectors[n] = 0
    popularity = torch.rand(n + 1)
    popularity[n] = 0
    codes = torch.tensor([[0], [2], [3], [2], [3], [2]])
    return PairRanker(
        vectors,
        popularity,
        unknown,
        [codes],
        [None],
        [4],
        max_rank=3,
        hidden_layer_sizes=(8,),
        dropout_rate=0.0,
    ).eval()


def test_masked_pairs_ignore_the_id_part():
    ranker = _tiny_ranker()
    users = torch.randn(2, 4)
    items = torch.tensor([[1, 2, 3], [3, 4, 1]])
    mask = torch.ones_like(items, dtype=torch.bool)
    a = ranker(users, items, torch.randn(2, 3), torch.tensor([[1, 2, 3], [2, 0, 1]]), mask)
    b = ranker(users, items, torch.randn(2, 3) * 10, torch.tensor([[0, 0, 0], [3, 3, 3]]), mask)
    torch.testing.assert_close(a, b)


def test_unknown_item_scores_like_a_masked_known_one():
    """A cold item and a known item with the same metadata, id part hidden, score alike."""
    ranker = _tiny_ranker()
    users = torch.randn(1, 4)
    # item 5 is unknown (cold), item 3 is known; both have metadata code 2... (rows 3, 5)
    cold = ranker(users, torch.tensor([[5]]), torch.tensor([[0.0]]), torch.tensor([[0]]))
    masked = ranker(
        users,
        torch.tensor([[3]]),
        torch.tensor([[4.0]]),
        torch.tensor([[1]]),
        torch.tensor([[True]]),
    )
    torch.testing.assert_close(cold, masked)
    unmasked = ranker(users, torch.tensor([[3]]), torch.tensor([[4.0]]), torch.tensor([[1]]))
    assert not torch.allclose(cold, unmasked)


def _lists(n=200, width=6, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return CandidateLists(
        user_vectors=rng.normal(size=(n, d)).astype(np.float32),
        items=rng.integers(1, 9, size=(n, width)),
        scores=rng.normal(size=(n, width)).astype(np.float32),
        ranks=np.tile(np.arange(1, width + 1), (n, 1)),
        positives=rng.integers(0, width, n),
    )


def _side(n_items=8, d=4):
    rng = np.random.default_rng(1)
    return ItemSide(
        vectors=rng.normal(size=(n_items + 1, d)).astype(np.float32),
        popularity=rng.random(n_items + 1).astype(np.float32),
        unknown=np.zeros(n_items + 1, dtype=bool),
        max_rank=6,
    )


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_id_dropout_rate_of_training_batches(rate):
    ranker = MLPRankerEstimator(id_dropout=rate, batch_size=50, random_state=0)
    lists = _lists()
    from skseqrec.estimators.ranker import _to_tensors

    batches = ranker._batches(
        _to_tensors(lists, torch.device("cpu")), np.random.default_rng(0), "cpu"
    )
    masks = torch.cat([b["id_mask"].flatten() for b in batches(1)])
    assert masks.numel() == lists.items.size
    assert abs(masks.float().mean().item() - rate) < 0.03


@pytest.mark.parametrize("loss", ["listwise", "pairwise"])
def test_ranker_learns_to_put_the_positive_first(loss):
    """The positive is the candidate with the highest retriever score: learnable."""
    lists = _lists(n=400)
    lists.positives = lists.scores.argmax(axis=1)
    ranker = MLPRankerEstimator(
        loss=loss, id_dropout=0.0, epochs=15, hidden_layer_sizes=(16,), random_state=0
    )
    ranker.fit(lists, _side())
    scores = ranker.decision_function(lists)
    assert (scores.argmax(axis=1) == lists.positives).mean() > 0.7  # chance: 1 in 6
    assert set(ranker.history_.columns) >= {"epoch", "train_loss", "valid_ndcg@10"}


def _retriever_order_ndcg(lists) -> float:
    target = lists.scores[np.arange(len(lists)), lists.positives]
    rank = (lists.scores >= target[:, None]).sum(axis=1)  # ties against the target
    return float(np.where(rank <= 10, 1 / np.log2(rank + 1), 0.0).mean())


def test_ranker_keeps_the_retrievers_order_when_training_does_not_clearly_beat_it():
    """Targets unrelated to anything the ranker sees: whatever the best epoch gains on the
    validation lists is luck, and the known items' head is put back to the retriever's
    order."""
    lists = _lists(n=600, width=6, seed=5)
    ranker = MLPRankerEstimator(epochs=4, hidden_layer_sizes=(16,), id_dropout=0.0)
    ranker.fit(lists, _side())
    assert not ranker.valid_gain_ > 2 * ranker.valid_gain_se_
    assert "within 2 standard errors" in ranker.stop_reason_
    last = [layer for layer in ranker.module_.mlp if isinstance(layer, torch.nn.Linear)][-1]
    assert not last.weight.detach().any() and ranker.module_.score_weight.item() == 1.0
    scores = ranker.decision_function(lists)
    np.testing.assert_array_equal(scores.argsort(axis=1), lists.scores.argsort(axis=1))


def test_ranker_keeps_its_training_when_it_clearly_beats_the_retriever():
    """The target is each list's most popular item, which the retriever's (random) scores
    do not know and the ranker's popularity feature does."""
    lists = _lists(n=600, width=6, seed=5)
    side = _side()
    lists.positives = side.popularity[lists.items].argmax(axis=1)
    ranker = MLPRankerEstimator(epochs=10, hidden_layer_sizes=(16,), id_dropout=0.0)
    ranker.fit(lists, side)
    assert ranker.valid_gain_ > 3 * ranker.valid_gain_se_ > 0
    assert "standard error" not in ranker.stop_reason_


def test_ranker_validates_on_the_lists_it_is_given():
    lists, valid = _lists(n=300, seed=1), _lists(n=80, seed=2)
    ranker = MLPRankerEstimator(epochs=2, hidden_layer_sizes=(8,)).fit(
        lists, _side(), valid_lists=valid
    )
    assert ranker.initial_valid_ndcg_ == pytest.approx(_retriever_order_ndcg(valid))
    valid.positives = None
    with pytest.raises(ValueError, match="valid_lists with positives"):
        MLPRankerEstimator(epochs=1).fit(lists, _side(), valid_lists=valid)


def test_validation_lists_hold_every_cold_item_as_served(monkeypatch):
    """Training lists carry a sample of the cold items; the held-out lists carry them all,
    as a served list does, so the cold offset weighs every cold item a user will see."""
    from skseqrec.estimators import two_stage

    monkeypatch.setattr(two_stage, "MAX_COLD_PER_LIST", 2)
    seen = {}
    fit = MLPRankerEstimator.fit

    def spy(self, lists, items, *, valid_lists=None):
        seen["lists"], seen["valid"] = lists, valid_lists
        return fit(self, lists, items, valid_lists=valid_lists)

    monkeypatch.setattr(MLPRankerEstimator, "fit", spy)
    X, items, _ = group_world()
    cold = np.array([0, 1, 2, 3, 8, 9, 10, 11])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_model(n_metadata_targets=0).fit(
            X[~X["item_id"].isin(cold)], item_features=items
        )
    codes = model.item_encoder_.encode(cold)
    valid, train = seen["valid"], seen["lists"]
    assert len(valid) == model.ranker_.validation_size(len(valid) + len(train))
    assert np.isin(codes, valid.items).all(axis=0).all()
    assert all(np.isin(codes, row).all() for row in valid.items)
    # candidates and random items, then the cold block: 2 cold items drawn, or all 8
    assert valid.items.shape[1] - train.items.shape[1] == len(cold) - 2
    assert model.n_ranker_lists_ == len(valid) + len(train)


def test_ranker_needs_positives_and_is_not_fitted_before():
    lists = _lists()
    with pytest.raises(NotFittedError):
        MLPRankerEstimator().decision_function(lists)
    lists.positives = None
    with pytest.raises(ValueError, match="positives"):
        MLPRankerEstimator().fit(lists, _side())


# ------------------------------------------------------------------ the meta-estimator
def test_nested_params_clone_and_set_params():
    model = small_model()
    params = model.get_params(deep=True)
    assert params["retriever__hidden_units"] == 16
    assert params["ranker__id_dropout"] == 0.3
    model.set_params(ranker__id_dropout=0.5, retriever__epochs=1)
    assert model.ranker.id_dropout == 0.5
    cloned = clone(model)
    assert cloned.ranker is not model.ranker
    assert cloned.get_params()["ranker__id_dropout"] == 0.5


def test_two_stage_recommends_and_scores_without_metadata():
    X, _, _ = group_world(n_users=120)
    model = small_model().fit(X)
    recs = model.recommend(X, top_k=5)
    assert recs.groupby("user_id").size().eq(5).all()
    seen = set(zip(X["user_id"], X["item_id"]))
    assert not any((u, i) in seen for u, i in zip(recs["user_id"], recs["item_id"]))
    assert 0.0 <= model.score(X) <= 1.0
    # one list per user whose target the retriever found (the others teach nothing)
    assert model.n_ranker_lists_ + model.n_missed_targets_ == 120
    assert model.n_ranker_lists_ > 0
    # the retriever never trained on the ranker's targets: each user's last event
    assert model.retriever_.item_counts_.sum() < len(X) - 120 + 1
    predicted = model.predict(X.head(20))
    assert len(predicted) == 20


def test_cold_items_enter_the_catalogue_and_are_ranked_by_metadata(cold_setup):
    model, train, items, groups, cold = cold_setup
    assert set(cold) <= set(model.classes_)
    assert sorted(model.cold_items_) == sorted(cold)
    # rank the cold items only: a user's own group's cold items come first
    recs = model.recommend(train, top_k=2, items=cold)
    own = (recs["item_id"].to_numpy() % N_GROUPS) == groups[recs["user_id"].to_numpy()]
    chance = 2 / len(cold)
    assert own.mean() > 0.5, f"own-group share {own.mean():.2f} (chance {chance:.2f})"


def test_cold_items_stay_below_known_ones_when_no_held_out_target_is_new(cold_setup):
    """No user's held-out event is an item new to the retriever: the cold offset keeps
    cold items below the known ones in full recommendations (they are still ranked when
    asked for: test_cold_items_enter_the_catalogue_and_are_ranked_by_metadata)."""
    model, train, *_, cold = cold_setup
    assert model.ranker_.cold_offset_ == min(COLD_OFFSETS)
    assert not model.recommend(train, top_k=10)["item_id"].isin(cold).any()


def test_cold_items_reach_full_recommendations_when_new_items_are_consumed():
    """Items whose only events are users' last events are new to the retriever (cold) and
    are the held-out targets of some validation lists: the cold offset lets them up."""
    X, items, groups = group_world(n_users=300, seed=4)
    cold = np.array([0, 1, 2, 3, 8, 9, 10, 11])
    X = X[~X["item_id"].isin(cold)].copy()
    last = X.groupby("user_id").tail(1).index
    new = last[np.random.default_rng(0).random(len(last)) < 0.5]
    # a new item of the user's own group, as their last event
    X.loc[new, "item_id"] = cold[X.loc[new, "user_id"].map(lambda u: groups[u]) % len(cold)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_model().fit(X, item_features=items)
    assert set(cold) <= set(model.cold_items_)
    assert model.ranker_.cold_offset_ > min(COLD_OFFSETS)
    assert model.recommend(X, top_k=10)["item_id"].isin(cold).any()


def test_cold_items_never(cold_setup):
    _, train, items, _, cold = cold_setup
    with pytest.warns(UserWarning, match="cold_items='never'"):
        model = small_model(cold_items="never").fit(train, item_features=items)
    assert not set(cold) & set(model.classes_)
    assert not model.recommend(train, top_k=10)["item_id"].isin(cold).any()


def test_metadata_warnings_count_items():
    X, items, _ = group_world(n_users=80)
    partial = items[items["item_id"] >= 5]
    extra = pd.DataFrame({"item_id": [500, 501], "genres": ["g0", "g1"], "year": [1995.0, 1996.0]})
    with pytest.warns(UserWarning) as record:
        small_model().fit(X, item_features=pd.concat([partial, extra]))
    messages = " ".join(str(w.message) for w in record)
    assert "5 of 60 items of X have no row in item_features" in messages
    assert "2 of 57 items of item_features have no interaction in X" in messages


def test_bad_metadata_errors():
    X, items, _ = group_world(n_users=40)
    duplicated = pd.concat([items, items.head(2)])
    with pytest.raises(ValueError, match="duplicate"):
        small_model().fit(X, item_features=duplicated)
    string_ids = items.assign(item_id=items["item_id"].map(lambda i: f"i{i}"))
    with pytest.raises(TypeError, match="item_id"):
        small_model().fit(X, item_features=string_ids)


def test_pickle_keeps_recommendations(cold_setup):
    model, train, *_ = cold_setup
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(model.recommend(train, top_k=5), again.recommend(train, top_k=5))


def test_not_fitted_and_no_predict_proba():
    model = small_model()
    with pytest.raises(NotFittedError):
        model.recommend(pd.DataFrame({"user_id": [1], "item_id": [1], "timestamp": [1]}))
    assert not hasattr(model, "predict_proba")


def test_retriever_must_have_embeddings():
    from skseqrec import PopularityRecommender

    X, _, _ = group_world(n_users=30)
    with pytest.raises(InvalidParameterError, match="retriever"):
        TwoStageRecommender(retriever=PopularityRecommender()).fit(X)


def test_same_random_state_same_model_and_global_generators_untouched():
    X, items, _ = group_world(n_users=80)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    first = small_model().fit(X, item_features=items)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()  # noqa: NPY002
    torch.manual_seed(5)
    second = small_model().fit(X, item_features=items)
    pd.testing.assert_frame_equal(first.recommend(X), second.recommend(X), check_exact=True)
    other = (
        small_model(random_state=1).set_params(ranker__random_state=1).fit(X, item_features=items)
    )
    assert not first.recommend(X)["score"].equals(other.recommend(X)["score"])


def test_fitted_state_holds_data_and_two_modules_only(cold_setup):
    model, train, *_ = cold_setup
    state = vars(model)
    assert not [k for k, v in state.items() if callable(v) and not isinstance(v, type)]
    modules = {
        name
        for name in ("retriever_", "ranker_")
        if isinstance(getattr(state[name], "module_", None), torch.nn.Module)
    }
    assert modules == {"retriever_", "ranker_"}
    assert len(pickle.dumps(model)) < 4 * (
        len(pickle.dumps(model.retriever_)) + len(pickle.dumps(model.ranker_))
    )


def test_rank_from_metadata_is_the_cold_start_view(cold_setup):
    model, train, items, groups, cold = cold_setup
    _, users, histories = model.encode_history(train)
    codes, scores = model.rank_from_metadata(histories, top_k=5)
    assert codes.shape == (len(histories), 5) and (codes > 0).all()
    ranked_items = model.classes_[codes - 1]
    own = (ranked_items % N_GROUPS) == groups[users.classes][:, None]
    assert own.mean() > 0.5  # chance: 1 in 4
    # seen items are left out, as in rank()
    seen = set(zip(train["user_id"], train["item_id"]))
    assert not any((u, i) in seen for u, row in zip(users.classes, ranked_items) for i in row)


def test_grid_search_over_both_stages():
    from sklearn.model_selection import GridSearchCV

    from skseqrec.model_selection import LeaveLastOut

    X, items, _ = group_world(n_users=80)
    search = GridSearchCV(
        small_model(item_features=items),
        {"ranker__id_dropout": [0.0, 0.5], "retriever__hidden_units": [8, 16]},
        cv=LeaveLastOut(n_splits=2, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.ranker_.id_dropout in (0.0, 0.5)


def test_a_failed_refit_leaves_the_fitted_model_as_it_was():
    X, items, _ = group_world(n_users=60)
    model = small_model().fit(X, item_features=items)
    before = model.recommend(X, top_k=3)
    with pytest.raises(ValueError, match="duplicate"):
        model.fit(X, item_features=pd.concat([items, items.head(1)]))
    pd.testing.assert_frame_equal(model.recommend(X, top_k=3), before)


def test_ranker_validates_on_served_lists_and_counts_ties_against_the_target():
    """All-masked metadata lists (every score tied at first) never enter validation."""
    served = _lists(n=300, width=6)
    rng = np.random.default_rng(3)
    metadata = CandidateLists(
        user_vectors=rng.normal(size=(600, 4)).astype(np.float32),
        items=rng.integers(1, 9, size=(600, 3)),
        scores=np.zeros((600, 3), np.float32),
        ranks=np.zeros((600, 3), np.int64),
        positives=np.zeros(600, np.int64),
        masked=np.ones((600, 3), bool),
    )
    lists = CandidateLists.concat([served, metadata])  # metadata lists padded to width 6
    ranker = MLPRankerEstimator(epochs=1, hidden_layer_sizes=(8,), random_state=0)
    ranker.fit(lists, _side())
    # served lists: the positive is a random slot, ranked by a random retriever score;
    # tied metadata lists would give 1.0
    assert ranker.initial_valid_ndcg_ < 0.8


def test_cold_offset_pushes_down_cold_items_that_are_never_targets():
    from skseqrec.estimators.ranker import COLD_OFFSETS, _calibrate_cold, _to_tensors

    lists = _lists(n=200, width=6)
    lists.positives = lists.scores.argmax(axis=1)  # warm targets, first by their score
    side = _side()
    side.unknown[7:] = True  # items 7 and 8 are cold: never a target here
    lists.positives = np.where(
        np.isin(lists.items[np.arange(200), lists.positives], [7, 8]), -1, lists.positives
    )
    keep = lists.positives >= 0
    lists = lists.select(keep)
    ranker = MLPRankerEstimator(epochs=1, hidden_layer_sizes=(8,), random_state=0).fit(lists, side)
    module = ranker.module_
    with torch.no_grad():
        module.cold_mlp[-1].bias.fill_(10.0)  # a cold head that puts cold items first
    data = _to_tensors(lists, torch.device("cpu"))
    offset = _calibrate_cold(module, data, 64)
    assert offset in COLD_OFFSETS and offset < 0
    assert float(module.cold_offset) == offset
    assert ranker.cold_offset_ in COLD_OFFSETS

"""Sparse item updates: a step trains only the item rows it read (``sparse_item_updates``)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import hit_rate, split_last

import skseqrec.estimators._transformer as transformer_module
from skseqrec import ESASRecEstimator, GSASRecEstimator, SASRecRegressorEstimator
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import TransformerRecommender
from skseqrec.exceptions import InvalidParameterError, SkseqrecWarning
from skseqrec.nn import Objective, build_encoder
from skseqrec.training import Callback, GradientClipping, LearningRateSchedule
from skseqrec.training.optim import CombinedOptimizer

FAST = dict(
    hidden_units=16,
    num_blocks=1,
    validation=None,
    early_stopping_steps=None,
    device="cpu",
    random_state=0,
)


class Snapshot(Callback):
    """The module's state when training begins."""

    def on_train_begin(self, trainer):
        self.state = {k: v.detach().clone() for k, v in trainer.module.state_dict().items()}


def long_histories(n_users=6, n_items=300, length=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users), length),
            "item_id": rng.permutation(np.resize(np.arange(n_items), n_users * length)),
            "timestamp": np.tile(np.arange(length), n_users),
        }
    )


# ----------------------------------------------------------------------------- the module
def test_encoder_gradient_holds_the_rows_read():
    torch.manual_seed(0)
    encoder = build_encoder(50, d_model=8, n_blocks=1, n_heads=2, dropout=0.0, max_len=4)
    encoder.sparse_gradients = True
    items = torch.tensor([[0, 3, 4, 5], [6, 7, 8, 9]])
    hidden = encoder(items[:, :-1])
    objective = Objective(loss="sampled_softmax", negative_sampling="shared", num_negatives=3)
    generator = torch.Generator().manual_seed(0)
    negatives = objective.negatives(items[:, 1:], items[:, :-1] > 0, 50, generator)[0]
    loss = objective(
        encoder,
        hidden,
        items[:, 1:],
        items[:, :-1] > 0,
        generator=torch.Generator().manual_seed(0),
    )
    loss.backward()
    grad = encoder.item_embedding.weight.grad
    assert grad.is_sparse
    rows = set(grad.coalesce().indices()[0].tolist())
    # inputs, positives and the shared negatives; never the padding row
    assert rows == ({3, 4, 6, 7, 8, 5, 9} | set(negatives.tolist())) - {0}


def test_sparse_and_dense_gradients_have_the_same_values():
    grads = []
    for sparse in (False, True):
        torch.manual_seed(0)
        encoder = build_encoder(
            30, d_model=8, n_blocks=1, n_heads=2, dropout=0.0, max_len=5, tied=False
        )
        encoder.sparse_gradients = sparse
        items = torch.tensor([[0, 3, 4, 5, 3], [6, 7, 8, 9, 10]])
        hidden = encoder(items[:, :-1])
        for objective in (
            Objective(loss="bce", negative_sampling="uniform", num_negatives=4),
            Objective(loss="sampled_softmax", negative_sampling="shared", num_negatives=4),
            Objective(loss="softmax"),  # every row: the full-table lookup under autograd
        ):
            loss = objective(
                encoder,
                hidden,
                items[:, 1:],
                items[:, :-1] > 0,
                generator=torch.Generator().manual_seed(1),
            )
            loss.backward(retain_graph=True)
        grads.append(
            [
                t.weight.grad.to_dense() if t.weight.grad.is_sparse else t.weight.grad
                for t in (encoder.item_embedding, encoder.output_embedding)
            ]
        )
    for dense, sparse in zip(*grads):
        torch.testing.assert_close(sparse, dense)


def test_scores_are_the_same_without_autograd():
    encoder = build_encoder(20, d_model=4, n_blocks=0, n_heads=1, dropout=0.0, max_len=3)
    encoder.sparse_gradients = True
    with torch.no_grad():
        scores = encoder.score_all(torch.ones(2, 4))
    expected = torch.ones(2, 4) @ encoder.item_embedding.weight[1:21].T
    torch.testing.assert_close(scores, expected)


# ------------------------------------------------------------------------ the estimators
def test_a_step_moves_only_the_rows_it_read():
    # max_len=5: the older events of these 40-event histories are never read; 4 shared
    # negatives; one batch of all users: one step
    X = long_histories(n_items=200)
    snapshot = Snapshot()
    est = TransformerRecommender(
        **FAST,
        max_len=5,
        loss="sampled_softmax",
        negative_sampling="shared",
        num_negatives=4,
        batch_size=64,
        epochs=1,
        sparse_item_updates=True,
        callbacks=[snapshot],
    ).fit(X)
    assert est.sparse_item_updates_ and len(est.batch_history_) == 1
    before = snapshot.state["item_embedding.weight"]
    after = est.module_.item_embedding.weight.detach()
    moved = set(torch.nonzero((after != before).any(1)).flatten().tolist())
    windows = X.sort_values(["user_id", "timestamp"]).groupby("user_id").tail(6)
    read = set(est.item_encoder_.encode(windows["item_id"].to_numpy()).tolist())
    assert moved - read and len(moved - read) <= 4  # the rest: the 4 negatives
    assert read <= moved
    assert len(moved) < est.n_items_ / 4  # most of the catalogue kept its values

    # a first step is the same with dense Adam (rows without gradient have no moments
    # yet); later steps differ: dense moments keep moving the rows a step did not read
    dense = TransformerRecommender(**{**est.get_params(), "sparse_item_updates": False}).fit(X)
    assert not dense.sparse_item_updates_
    torch.testing.assert_close(dense.module_.item_embedding.weight.detach(), after)


def test_auto_resolves_by_catalogue_and_objective(monkeypatch):
    X = make_sequential_world(n_users=30, n_items=60, min_length=5, max_length=8, random_state=0)
    base = dict(FAST, epochs=1)
    assert not ESASRecEstimator(**base).fit(X).sparse_item_updates_  # a small catalogue
    monkeypatch.setattr(transformer_module, "SPARSE_ITEM_UPDATES_MIN_ITEMS", 50)
    monkeypatch.setattr(transformer_module, "FULL_CATALOGUE_MAX_ITEMS", 50)
    est = ESASRecEstimator(**base, num_negatives=8).fit(X)
    assert est.negative_sampling_ == "shared" and est.sparse_item_updates_
    assert isinstance(est.module_.item_embedding.weight, torch.nn.Parameter)
    # the full softmax reads every row: dense whatever the catalogue
    for params in ({"loss": "softmax"}, {"negative_sampling": "full"}):
        assert not ESASRecEstimator(**base, **params).fit(X).sparse_item_updates_
    # a regression reads the rows of its inputs and targets only
    rated = SASRecRegressorEstimator(**base).fit(X, np.ones(len(X)))
    assert rated.sparse_item_updates_ and not rated.module_.item_bias.sparse
    # forced either way
    assert not ESASRecEstimator(**base, sparse_item_updates=False).fit(X).sparse_item_updates_
    assert (
        ESASRecEstimator(**base, loss="softmax", sparse_item_updates=True)
        .fit(X)
        .sparse_item_updates_
    )


def test_off_is_today_and_auto_is_off_on_small_catalogues():
    X = make_sequential_world(n_users=40, n_items=30, min_length=5, max_length=8, random_state=0)
    params = dict(FAST, epochs=2, loss="bce", num_negatives=3)
    auto = TransformerRecommender(**params).fit(X)
    off = TransformerRecommender(**params, sparse_item_updates=False).fit(X)
    on = TransformerRecommender(**params, sparse_item_updates=True).fit(X)
    np.testing.assert_array_equal(auto.item_embeddings_, off.item_embeddings_)
    assert auto.history_["train_loss"].tolist() == off.history_["train_loss"].tolist()
    assert isinstance(auto._make_optimizer(auto.module_), torch.optim.Adam)
    assert not np.array_equal(on.item_embeddings_, off.item_embeddings_)


def test_the_parameter_is_validated():
    X = make_sequential_world(n_users=10, n_items=10, min_length=3, max_length=4, random_state=0)
    with pytest.raises(InvalidParameterError, match="sparse_item_updates must be 'auto', True"):
        TransformerRecommender(sparse_item_updates="yes").fit(X)
    assert GSASRecEstimator().get_params()["sparse_item_updates"] == "auto"


@pytest.mark.parametrize(
    "params",
    [
        # eSASRec: LiGR, sampled softmax against shared negatives, tied table
        dict(block="ligr", loss="sampled_softmax", negative_sampling="shared", num_negatives=64),
        # gSASRec's objective: per-position negatives, a separate output table
        dict(loss="gbce", num_negatives=16, tied_embeddings=False),
    ],
    ids=["shared-sampled-softmax", "uniform-gbce-untied"],
)
def test_lazy_updates_learn_a_large_world(params):
    # 1,000 items, each read a few dozen times per epoch: most rows sit still in most steps
    world = make_sequential_world(
        n_users=1000, n_items=1000, min_length=15, max_length=25, noise=0.02, random_state=0
    )
    train, test = split_last(world)
    est = TransformerRecommender(
        **{**FAST, "hidden_units": 32},
        **params,
        batch_size=32,
        learning_rate=0.005,
        epochs=12,
        sparse_item_updates=True,
    ).fit(train)
    assert est.sparse_item_updates_
    assert hit_rate(est.recommend(train, top_k=10), test) > 0.85


def test_partial_fit_pickle_and_warm_start_keep_the_sparse_path():
    X = long_histories(n_users=8, n_items=60, length=10)
    est = TransformerRecommender(
        **FAST,
        loss="sampled_softmax",
        negative_sampling="shared",
        num_negatives=4,
        epochs=1,
        sparse_item_updates=True,
    )
    est.partial_fit(X)
    state = est._optimizer_state
    assert [len(s["state"]) > 0 for s in state["optimizers"]] == [True, True]
    est.partial_fit(X)  # the lazy moments carry over
    restored = pickle.loads(pickle.dumps(est))
    assert restored.sparse_item_updates_
    np.testing.assert_array_equal(restored.item_embeddings_, est.item_embeddings_)
    more = pd.DataFrame(
        {"user_id": [100, 100, 100], "item_id": [500, 501, 3], "timestamp": [0, 1, 2]}
    )
    est.set_params(warm_start=True, epochs=1).fit(pd.concat([X, more]))
    assert est.sparse_item_updates_ and est.n_items_ == 62


def test_adam_weight_decay_warns_that_the_tables_are_not_decayed():
    X = long_histories(n_users=4, n_items=30, length=6)
    params = dict(FAST, loss="bce", epochs=1, sparse_item_updates=True)
    with pytest.warns(SkseqrecWarning, match="weight_decay=0.01"):
        TransformerRecommender(**params, weight_decay=0.01).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # AdamW never decays embeddings: nothing changes, nothing to say
        TransformerRecommender(**params, optimizer="adamw", weight_decay=0.01).fit(X)


# ----------------------------------------------------------------- the combined optimiser
def two_optimizers():
    table = torch.nn.Embedding(10, 2, sparse=True)
    head = torch.nn.Linear(2, 1)
    sparse = torch.optim.SparseAdam(table.parameters(), lr=0.1)
    dense = torch.optim.Adam(head.parameters(), lr=0.1)
    return table, head, CombinedOptimizer([sparse, dense])


def test_combined_optimizer_steps_schedules_and_reloads():
    table, head, optimizer = two_optimizers()
    head(table(torch.tensor([1, 2]))).sum().backward()
    optimizer.step()
    assert len(optimizer.state) == 3  # the table, the weight and the bias of the head
    optimizer.zero_grad(set_to_none=True)
    assert table.weight.grad is None and head.weight.grad is None

    # a schedule edits param_groups: the lr of both optimisers follows
    schedule = LearningRateSchedule(warmup_steps=4)
    trainer = type("T", (), {"optimizer": optimizer})()
    schedule.on_train_begin(trainer)
    assert [g["lr"] for o in optimizer.optimizers for g in o.param_groups] == [0.025] * 2

    _, _, other = two_optimizers()
    other.load_state_dict(optimizer.state_dict())
    assert int(other.optimizers[0].state_dict()["state"][0]["step"]) == 1


def test_combined_optimizer_rejects_bad_layouts():
    table, head, optimizer = two_optimizers()
    with pytest.raises(ValueError, match="at least one"):
        CombinedOptimizer([])
    with pytest.raises(ValueError, match="optimizers\\[1\\] holds a parameter of shape"):
        CombinedOptimizer([torch.optim.Adam(head.parameters()), torch.optim.SGD(head.parameters())])
    with pytest.raises(ValueError, match="has 2 optimizers; the state dict has 1"):
        optimizer.load_state_dict({"optimizers": [{}]})


def test_gradient_clipping_counts_the_sparse_rows():
    X = long_histories(n_users=8, n_items=60, length=10)
    params = dict(
        FAST,
        loss="sampled_softmax",
        negative_sampling="shared",
        num_negatives=8,
        batch_size=64,
        epochs=1,
    )
    norms = []
    for sparse in (False, True):
        clip = GradientClipping(max_norm=1e-3)
        TransformerRecommender(**params, sparse_item_updates=sparse, callbacks=[clip]).fit(X)
        assert clip.n_clipped == 1
        norms.append(clip.last_norm)
    # the same gradient, dense or sparse (a row read twice counts once, summed)
    assert norms[1] == pytest.approx(norms[0], rel=1e-5)

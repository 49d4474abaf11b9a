"""partial_fit: one more epoch per call, a growing catalogue, pruning loops and searches."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import hit_rate, split_last

from skseqrec import (
    BERT4RecEstimator,
    GSASRecEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.model_selection import LeaveLastOut
from skseqrec.training import Callback

SMALL = dict(
    hidden_units=32,
    num_blocks=1,
    dropout_rate=0.1,
    max_len=12,
    batch_size=32,
    learning_rate=0.005,
    epochs=50,  # ignored by partial_fit: one epoch per call
)


def walk(n_users, n_items, random_state, item_step=1, first_user=0):
    """A generated small_world with item ids multiplied by ``item_step`` and shifted user ids."""
    X = make_sequential_world(
        n_users=n_users,
        n_items=n_items,
        min_length=8,
        max_length=12,
        noise=0.02,
        random_state=random_state,
    )
    return X.assign(item_id=X["item_id"] * item_step, user_id=X["user_id"] + first_user)


@pytest.fixture(scope="module")
def small_world():
    return walk(150, 40, random_state=0)


class AtTrainBegin(Callback):
    """What each call starts from: item weights and the optimiser's step count."""

    def __init__(self):
        self.weights, self.steps = [], []

    def on_train_begin(self, trainer):
        self.weights.append(
            {k: v.detach().to("cpu", copy=True) for k, v in trainer.module.state_dict().items()}
        )
        state = trainer.optimizer.state
        self.steps.append(int(next(iter(state.values()))["step"]) if state else 0)


def test_each_call_trains_one_more_epoch(small_world):
    starts = AtTrainBegin()
    model = SASRecClassifierEstimator(**SMALL, callbacks=[starts])
    n_batches = int(np.ceil(small_world["user_id"].nunique() / SMALL["batch_size"]))
    for call in (1, 2, 3):
        model.partial_fit(small_world)
        assert model.n_epochs_ == call
        assert model.history_["epoch"].tolist() == list(range(1, call + 1))
        assert len(model.batch_history_) == call * n_batches
        assert model.stop_reason_ == "reached epochs=1"
    # the optimiser state carries over while the catalogue does not grow
    assert starts.steps == [0, n_batches, 2 * n_batches]


def test_a_fitted_model_continues_with_partial_fit(small_world):
    model = SASRecClassifierEstimator(**{**SMALL, "epochs": 2}).fit(small_world)
    before = {k: v.clone() for k, v in model.module_.state_dict().items()}
    starts = AtTrainBegin()
    model.set_params(callbacks=[starts]).partial_fit(small_world)
    assert model.n_epochs_ == 3
    assert all(torch.equal(before[k], starts.weights[0][k]) for k in before)


def test_calls_learn_the_world(small_world):
    train, test = split_last(small_world)
    model = SASRecClassifierEstimator(**SMALL)
    for _ in range(5):
        model.partial_fit(train)
    losses = model.history_["train_loss"].to_numpy()
    assert losses[-1] < 0.8 * losses[0]  # each call continued from the last one
    popular = PopularityRecommender().fit(train).recommend(train, top_k=10)
    assert hit_rate(popular, test) < 0.5
    assert hit_rate(model.recommend(train, top_k=10), test) > 0.9


@pytest.mark.parametrize(
    "model",
    [
        SASRecClassifierEstimator(**SMALL),
        BERT4RecEstimator(**SMALL, num_negatives=8),  # a [MASK] row after the items
        GSASRecEstimator(**SMALL, num_negatives=8),  # a separate output table
    ],
    ids=lambda model: type(model).__name__,
)
def test_new_items_extend_the_catalogue_and_known_items_keep_their_weights(model):
    even = walk(60, 20, random_state=1, item_step=2)  # items 0, 2, ..., 38
    every = walk(60, 40, random_state=2, first_user=1000)  # items 0..39: odd ones are new
    starts = AtTrainBegin()
    model.set_params(callbacks=[starts])
    model.partial_fit(even)
    np.testing.assert_array_equal(model.classes_, np.arange(0, 40, 2))
    after_first = {k: v.detach().clone() for k, v in model.module_.state_dict().items()}
    old_codes = model.item_encoder_.encode(np.arange(0, 40, 2))

    model.partial_fit(every)
    np.testing.assert_array_equal(model.classes_, np.arange(40))
    assert model.n_epochs_ == 2
    new_codes = model.item_encoder_.encode(np.arange(0, 40, 2))
    assert not np.array_equal(old_codes, new_codes)  # known items moved to new codes
    grown = starts.weights[1]
    for name, old in after_first.items():
        new = grown[name]
        if old.shape == new.shape:
            assert torch.equal(old, new), name
            continue
        n_special = old.shape[0] - (20 + 1)  # rows after padding and items, e.g. [MASK]
        assert new.shape[0] == 40 + 1 + n_special, name
        assert torch.equal(new[new_codes], old[old_codes]), name
        assert torch.equal(new[0], old[0]), name  # padding
        assert torch.equal(new[41:], old[21:]), name  # special tokens stay last
    assert starts.steps == [0, 0]  # a grown catalogue starts a new optimiser

    model.partial_fit(every)
    assert starts.steps[2] > 0  # ... which carries over again
    recommended = model.recommend(every, top_k=10)["item_id"]
    assert (recommended % 2 == 1).any()  # the new items can be recommended


def test_same_seed_and_calls_give_the_same_model(small_world):
    def train(random_state):
        model = SASRecClassifierEstimator(**SMALL, random_state=random_state)
        for _ in range(3):
            model.partial_fit(small_world)
        return model

    first, second, other = train(7), train(7), train(8)
    pd.testing.assert_frame_equal(
        first.recommend(small_world, top_k=10), second.recommend(small_world, top_k=10)
    )
    pd.testing.assert_frame_equal(first.batch_history_, second.batch_history_)
    # the comparison can fail: another seed draws other batches and negatives
    assert not np.allclose(first.batch_history_["train_loss"], other.batch_history_["train_loss"])


def test_a_manual_pruning_loop(small_world):
    """Train a trial one epoch at a time, score the held-out fold, stop hopeless trials."""
    train_index, test_index = next(LeaveLastOut().split(small_world))
    train, test = small_world.iloc[train_index], small_world.iloc[test_index]

    def trial(learning_rate, reference=None, max_calls=6):
        model = SASRecClassifierEstimator(**{**SMALL, "learning_rate": learning_rate})
        scores = []
        for call in range(max_calls):
            scores.append(model.partial_fit(train).score(test))
            if reference is not None and call >= 1 and scores[-1] < 0.5 * reference[call]:
                break  # pruned
        return model, scores

    good, good_scores = trial(0.005)
    assert len(good_scores) == 6 and good.n_epochs_ == 6
    assert good_scores[-1] > 0.8
    hopeless, hopeless_scores = trial(1e-6, reference=good_scores)
    assert len(hopeless_scores) == 2 and hopeless.n_epochs_ == 2
    assert hopeless_scores[-1] < 0.3


def test_optuna_search_prunes_a_hopeless_trial(small_world):
    optuna = pytest.importorskip("optuna")
    optuna_integration = pytest.importorskip("optuna_integration")
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rates = [1e-6, 0.005]
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.GridSampler({"learning_rate": rates}, seed=0),
        pruner=optuna.pruners.ThresholdPruner(lower=0.3, n_warmup_steps=1),
    )
    with warnings.catch_warnings():  # optuna's own notices, not ours
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
        warnings.filterwarnings("ignore", "Failed to report cross validation scores")
        search = optuna_integration.OptunaSearchCV(
            SASRecClassifierEstimator(**{**SMALL, "epochs": 3}),
            {"learning_rate": CategoricalDistribution(rates)},
            cv=LeaveLastOut(),
            enable_pruning=True,
            max_iter=4,
            n_trials=2,
            study=study,
            error_score="raise",
        )
        search.fit(small_world)
    states = {t.params["learning_rate"]: t.state for t in study.trials}
    assert states == {1e-6: TrialState.PRUNED, 0.005: TrialState.COMPLETE}
    steps = {t.params["learning_rate"]: len(t.intermediate_values) for t in study.trials}
    assert steps == {1e-6: 2, 0.005: 4}
    assert search.best_params_ == {"learning_rate": 0.005}
    assert search.best_estimator_.n_epochs_ == 3  # refit with fit(), not partial_fit

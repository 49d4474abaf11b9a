"""Callbacks passed to an estimator as ``callbacks=[...]``: hooks, stops, checkpoints, logs."""

from __future__ import annotations

import logging
import math
import pickle
import re

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import split_last
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import make_sequential_world
from skseqrec.exceptions import InvalidParameterError, SkseqrecWarning
from skseqrec.model_selection import LeaveLastOut
from skseqrec.training import Callback, Checkpoint, EarlyStopping, TimeBudget

N_USERS, BATCH_SIZE = 60, 16
N_BATCHES = math.ceil(N_USERS / BATCH_SIZE)  # every user has >= 5 events: one row each
FAST = dict(hidden_units=8, num_blocks=1, max_len=8, batch_size=BATCH_SIZE, epochs=3)
# Adam moves every weight by about the learning rate: 1e-12 leaves the ranking (and so any
# ranking metric) unchanged, while zero-initialised biases still differ from epoch to epoch
FROZEN = 1e-12


@pytest.fixture(scope="module")
def small_world():
    return make_sequential_world(
        n_users=N_USERS, n_items=30, min_length=5, max_length=8, noise=0.0, random_state=0
    )


class Recorder(Callback):
    """Remembers every hook call, and the loss of every optimiser step."""

    def __init__(self):
        self.events = []
        self.losses = []

    def on_train_begin(self, trainer):
        self.events.append(("train_begin",))

    def on_epoch_begin(self, trainer):
        self.events.append(("epoch_begin",))

    def on_batch_end(self, trainer, batch, loss):
        assert isinstance(loss, torch.Tensor) and loss.dim() == 0
        self.events.append(("batch_end", batch))
        self.losses.append(float(loss))

    def on_epoch_end(self, trainer, record):
        self.events.append(("epoch_end", record["epoch"]))

    def on_train_end(self, trainer):
        self.events.append(("train_end",))


class StopAfter(Callback):
    """Ends training after epoch ``last`` by setting ``trainer.stop_reason``."""

    def __init__(self, last):
        self.last = last

    def on_epoch_end(self, trainer, record):
        if record["epoch"] >= self.last:
            trainer.stop_reason = f"StopAfter({self.last})"


class Snapshots(Callback):
    """A CPU copy of the weights at the end of every epoch."""

    def __init__(self):
        self.states = {}

    def on_epoch_end(self, trainer, record):
        self.states[record["epoch"]] = {
            k: v.detach().to("cpu", copy=True) for k, v in trainer.module.state_dict().items()
        }


class FailAt(Callback):
    """Raises ``error`` after optimiser step ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch, error):
        self.epoch, self.batch, self.error = epoch, batch, error

    def on_train_begin(self, trainer):
        self.seen = 0

    def on_epoch_begin(self, trainer):
        self.seen += 1

    def on_batch_end(self, trainer, batch, loss):
        if (self.seen, batch) == (self.epoch, self.batch):
            raise self.error


def expected_events(n_epochs, n_batches=N_BATCHES, last_batches=None):
    """The hook calls of ``n_epochs`` epochs (the last one cut after ``last_batches`` steps)."""
    events = [("train_begin",)]
    for epoch in range(1, n_epochs + 1):
        steps = n_batches if epoch < n_epochs or last_batches is None else last_batches
        events.append(("epoch_begin",))
        events += [("batch_end", index) for index in range(steps)]
        if epoch < n_epochs or last_batches is None:
            events.append(("epoch_end", epoch))
    return events + [("train_end",)]


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


def test_hooks_fire_in_order_once_per_step(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(**FAST, callbacks=[recorder]).fit(small_world)
    assert model.callbacks[0] is recorder  # used as given
    assert recorder.events == expected_events(3)
    assert model.n_epochs_ == 3 and model.stop_reason_ == "reached epochs=3"


def test_hooks_when_early_stopping_ends_training(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(
        **{**FAST, "epochs": 10, "learning_rate": FROZEN},
        early_stopping_patience=1,
        callbacks=[recorder],
    ).fit(small_world)
    # the metric cannot improve after epoch 1: patience 1 stops after epoch 2
    assert model.n_epochs_ == 2
    assert model.stop_reason_.startswith("early stopping: valid_ndcg@10")
    assert recorder.events == expected_events(2)


def test_hooks_when_the_time_budget_ends_training(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(
        **{**FAST, "epochs": 10}, callbacks=[recorder, TimeBudget(1e-6)]
    ).fit(small_world)
    assert model.n_epochs_ == 1
    assert model.stop_reason_.startswith("time budget")
    assert recorder.events == expected_events(1)


def test_a_callback_stops_training_through_stop_reason(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(
        **{**FAST, "epochs": 10}, callbacks=[StopAfter(2), recorder]
    ).fit(small_world)
    assert model.n_epochs_ == 2 and len(model.history_) == 2
    assert model.stop_reason_ == "StopAfter(2)"
    # callbacks later in the list still see the epoch that set the reason
    assert recorder.events == expected_events(2)


def test_train_end_fires_after_an_error_and_the_fit_is_undone(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(
        **FAST, callbacks=[recorder, FailAt(2, 1, RuntimeError("boom"))]
    )
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(small_world)
    assert recorder.events == expected_events(2, last_batches=2)
    assert not hasattr(model, "module_")


def test_train_end_fires_after_an_interrupt_and_the_fit_is_kept(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(
        **FAST, callbacks=[recorder, FailAt(2, 0, KeyboardInterrupt())]
    )
    with pytest.warns(SkseqrecWarning, match="interrupted after 1 epoch"):
        model.fit(small_world)
    assert recorder.events == expected_events(2, last_batches=1)
    assert model.n_epochs_ == 1
    assert model.stop_reason_.startswith("interrupted")
    assert len(model.recommend(small_world, top_k=3)) == 3 * N_USERS


def test_callbacks_survive_clone_and_set_params(small_world):
    budget, recorder = TimeBudget(60), Recorder()
    model = SASRecClassifierEstimator(**FAST, callbacks=[budget, recorder])
    assert model.get_params()["callbacks"] == [budget, recorder]
    copy = clone(model)
    assert [type(c) for c in copy.callbacks] == [TimeBudget, Recorder]
    assert copy.callbacks[0].seconds == 60
    assert copy.callbacks[1] is not recorder  # clone copies; fitting the copy is isolated
    copy.fit(small_world)
    assert copy.callbacks[1].events == expected_events(3)
    assert recorder.events == []

    other = Recorder()
    model.set_params(callbacks=[other]).fit(small_world)
    assert other.events == expected_events(3)
    assert recorder.events == []


def test_grid_search_over_callbacks(small_world):
    search = GridSearchCV(
        SASRecClassifierEstimator(**{**FAST, "epochs": 5}),
        {"callbacks": [[StopAfter(1)], [StopAfter(2)]]},
        cv=LeaveLastOut(),
        scoring=lambda estimator, X, y=None: estimator.n_epochs_,
    ).fit(small_world)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], [1, 2])
    assert search.best_params_["callbacks"][0].last == 2
    assert search.best_estimator_.n_epochs_ == 2


def test_early_stopping_callback_restores_the_best_epoch(small_world):
    """EarlyStopping in callbacks= on a record key that exists without validation data."""
    snapshots = Snapshots()
    stopper = EarlyStopping("train_loss", patience=2, mode="min")
    model = SASRecClassifierEstimator(
        **{**FAST, "epochs": 20, "learning_rate": FROZEN}, callbacks=[snapshots, stopper]
    ).fit(small_world)
    # replay the rule on the recorded losses (frozen weights: the loss only wanders)
    losses = model.history_["train_loss"].tolist()
    best, best_epoch, wait = math.inf, None, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
    assert wait == 2  # stopped at the second epoch in a row without improvement
    assert model.n_epochs_ == len(losses) < 20
    assert model.stop_reason_.startswith("early stopping: train_loss")
    assert model.best_epoch_ == stopper.best_epoch == best_epoch
    final = model.module_.state_dict()
    assert same_state(final, snapshots.states[best_epoch])
    assert not same_state(final, snapshots.states[model.n_epochs_])


def test_early_stopping_callback_with_x_valid_stops_like_the_parameter(small_world):
    train, _ = split_last(small_world)
    params = {**FAST, "epochs": 30, "learning_rate": 0.01}
    by_parameter = SASRecClassifierEstimator(**params, early_stopping_patience=2).fit(
        train, X_valid=small_world
    )
    assert by_parameter.n_epochs_ < 30  # the comparison below is about a real stop
    by_callback = SASRecClassifierEstimator(
        **params, callbacks=[EarlyStopping("valid_ndcg@10", patience=2)]
    ).fit(train, X_valid=small_world)
    columns = ["epoch", "train_loss", "valid_ndcg@10"]
    pd.testing.assert_frame_equal(by_callback.history_[columns], by_parameter.history_[columns])
    assert by_callback.stop_reason_ == by_parameter.stop_reason_
    assert by_callback.best_epoch_ == by_parameter.best_epoch_


def test_checkpoint_every_epoch_holds_the_final_weights(small_world, tmp_path):
    path = tmp_path / "weights.pt"
    checkpoint = Checkpoint(path)
    model = SASRecClassifierEstimator(**FAST, callbacks=[checkpoint]).fit(small_world)
    assert checkpoint.saved_epochs == [1, 2, 3]
    assert same_state(torch.load(path, weights_only=True), model.module_.state_dict())


def test_checkpoint_on_a_monitor_saves_only_improvements(small_world, tmp_path):
    path = tmp_path / "best.pt"
    checkpoint = Checkpoint(path, monitor="train_loss", mode="min")
    snapshots = Snapshots()
    model = SASRecClassifierEstimator(
        **{**FAST, "epochs": 8, "learning_rate": FROZEN}, callbacks=[snapshots, checkpoint]
    ).fit(small_world)
    losses = model.history_["train_loss"].to_numpy()
    improved = [e for e in range(1, 9) if losses[e - 1] < losses[: e - 1].min(initial=np.inf)]
    assert checkpoint.saved_epochs == improved
    assert len(improved) < 8  # some epochs were not saved: the rule was exercised
    assert same_state(torch.load(path, weights_only=True), snapshots.states[improved[-1]])


@pytest.mark.parametrize("verbose", [True, 1])
def test_verbose_shows_a_progress_bar(small_world, capsys, verbose):
    SASRecClassifierEstimator(**FAST, verbose=verbose).fit(small_world)
    err = capsys.readouterr().err
    assert "SASRecClassifierEstimator" in err and "3/3" in err


def test_the_progress_bar_counts_epochs_when_rounds_are_shorter(small_world, capsys):
    """validation_interval=1: one round per step, several per epoch; the bar still ends
    at epochs/epochs (it once counted rounds: "9epoch" of 3)."""
    model = SASRecClassifierEstimator(**FAST, validation_interval=1, verbose=1).fit(small_world)
    assert len(model.history_) > model.n_epochs_  # several rounds per epoch
    counts = [int(n) for n in re.findall(r"(\d+)/3 ", capsys.readouterr().err)]
    assert counts and max(counts) == 3


def test_not_verbose_prints_nothing(small_world, capsys):
    SASRecClassifierEstimator(**FAST, verbose=0).fit(small_world)
    assert capsys.readouterr() == ("", "")


def test_batch_history_has_one_row_per_step(small_world):
    recorder = Recorder()
    model = SASRecClassifierEstimator(**FAST, callbacks=[recorder]).fit(small_world)
    steps = model.batch_history_
    assert list(steps.columns) == ["epoch", "batch", "train_loss"]
    assert len(steps) == 3 * N_BATCHES
    assert steps["epoch"].tolist() == [e for e in (1, 2, 3) for _ in range(N_BATCHES)]
    assert steps["batch"].tolist() == list(range(N_BATCHES)) * 3
    assert steps["train_loss"].tolist() == recorder.losses
    means = steps.groupby("epoch")["train_loss"].mean().to_numpy()
    np.testing.assert_allclose(means, model.history_["train_loss"], rtol=0, atol=1e-9)


def test_one_info_record_per_epoch(small_world, caplog):
    caplog.set_level(logging.INFO, logger="skseqrec")
    SASRecClassifierEstimator(**FAST).fit(small_world)
    records = [
        r for r in caplog.records if r.name.startswith("skseqrec") and r.levelno == logging.INFO
    ]
    assert len(records) == 3
    for epoch, record in enumerate(records, start=1):
        assert f"epoch {epoch} step " in record.getMessage()
        assert "train_loss=" in record.getMessage()


def test_a_fitted_estimator_with_callbacks_pickles(small_world, tmp_path):
    callbacks = [Recorder(), Checkpoint(tmp_path / "w.pt"), TimeBudget(60), StopAfter(5)]
    model = SASRecClassifierEstimator(**FAST, callbacks=callbacks, verbose=True).fit(small_world)
    loaded = pickle.loads(pickle.dumps(model))
    assert [type(c) for c in loaded.callbacks] == [type(c) for c in callbacks]
    assert loaded.callbacks[0].events == callbacks[0].events
    pd.testing.assert_frame_equal(
        loaded.recommend(small_world, top_k=5), model.recommend(small_world, top_k=5)
    )
    pd.testing.assert_frame_equal(loaded.batch_history_, model.batch_history_)


@pytest.mark.parametrize(
    "callbacks, message",
    [
        ([object()], r"callbacks\[0\] must be a skseqrec.training.Callback"),
        (Recorder(), "callbacks must be None or a list"),
    ],
    ids=["not-a-callback", "not-a-list"],
)
def test_bad_callbacks_are_refused_at_fit(small_world, callbacks, message):
    model = SASRecClassifierEstimator(**FAST, callbacks=callbacks)
    with pytest.raises(InvalidParameterError, match=message):
        model.fit(small_world)

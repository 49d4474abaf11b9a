"""Validation rounds counted in optimiser steps, and early stopping with tol="se"."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import split_last

from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import make_sequential_world
from skseqrec.training import Callback, EarlyStopping, History, Trainer


class Rounds(Callback):
    """The records passed to ``on_epoch_end``, and the trainer's step at each."""

    def on_train_begin(self, trainer):
        self.records, self.steps = [], []

    def on_epoch_end(self, trainer, record):
        self.records.append(dict(record))
        self.steps.append(trainer.step)


class StopAtStep(Callback):
    def __init__(self, step):
        self.step = step

    def on_epoch_end(self, trainer, record):
        if record["step"] >= self.step:
            trainer.stop_reason = f"stop at {self.step}"


def _trainer(batches_per_epoch, epochs, validate_every, callbacks=()):
    """A trainer whose step ``s`` (from 1) has loss ``s``; validation returns a counter."""
    weight = torch.nn.Parameter(torch.zeros(1))
    module = torch.nn.Module()
    module.weight = weight
    counter = {"validations": 0, "step": 0}

    def loss_fn(batch):
        return weight.sum() * 0 + float(batch)

    def batches(epoch):
        for _ in range(batches_per_epoch):
            counter["step"] += 1
            yield counter["step"]

    def validate():
        counter["validations"] += 1
        return {"ndcg@10": 0.1 * counter["validations"], "ndcg@10_se": 0.01}

    trainer = Trainer(
        module=module,
        optimizer=torch.optim.SGD([weight], lr=0.1),
        loss_fn=loss_fn,
        batches=batches,
        epochs=epochs,
        validate=validate,
        callbacks=[Rounds(), *callbacks],
        history=History(),
        amp=False,
        validate_every=validate_every,
    )
    return trainer, counter


def test_a_validated_round_every_n_steps_and_a_record_at_the_end_of_an_epoch():
    trainer, counter = _trainer(batches_per_epoch=7, epochs=2, validate_every=3)
    trainer.run()
    rounds = trainer.callbacks[0]
    steps = [r["step"] for r in trainer.history.records]
    assert steps == [3, 6, 7, 9, 12, 14] == rounds.steps
    assert [r["epoch"] for r in trainer.history.records] == [1, 1, 1, 2, 2, 2]
    # validation at the multiples of 3 only; epoch ends (7, 14) are recorded unvalidated
    assert counter["validations"] == 4 and len(rounds.records) == 6
    assert [r.get("valid_ndcg@10") for r in trainer.history.records] == pytest.approx(
        [0.1, 0.2, None, 0.3, 0.4, None]
    )
    # train_loss is the mean loss of the round's own steps (step s has loss s)
    assert [r["train_loss"] for r in trainer.history.records] == pytest.approx(
        [2.0, 5.0, 7.0, 8.5, 11.0, 13.5]
    )
    assert [len(b) for b in trainer.history.batch_losses] == [3, 3, 1, 2, 3, 2]
    # the batch index counts on through an epoch's rounds and restarts with the next epoch
    frame = trainer.history.batches_frame()
    assert frame["batch"].tolist() == list(range(7)) * 2
    assert frame["train_loss"].tolist() == [float(s) for s in range(1, 15)]
    assert trainer.history.to_frame()["step"].tolist() == steps


def test_no_extra_round_when_an_epoch_ends_on_a_multiple():
    trainer, counter = _trainer(batches_per_epoch=6, epochs=2, validate_every=3)
    trainer.run()
    assert [r["step"] for r in trainer.history.records] == [3, 6, 9, 12]
    assert counter["validations"] == 4


def test_without_validate_every_one_round_per_epoch():
    trainer, _ = _trainer(batches_per_epoch=7, epochs=2, validate_every=None)
    trainer.run()
    assert [(r["epoch"], r["step"]) for r in trainer.history.records] == [(1, 7), (2, 14)]
    assert [r["train_loss"] for r in trainer.history.records] == pytest.approx([4.0, 11.0])


def test_a_stop_at_a_step_round_ends_training_inside_the_epoch():
    trainer, _ = _trainer(
        batches_per_epoch=7, epochs=3, validate_every=3, callbacks=[StopAtStep(6)]
    )
    trainer.run()
    assert trainer.step == 6 and trainer.epochs_run == 1
    assert [r["step"] for r in trainer.history.records] == [3, 6]
    assert trainer.stop_reason == "stop at 6"


@pytest.fixture(scope="module")
def fitted_every_3():
    X = make_sequential_world(n_users=60, n_items=20, min_length=5, max_length=8, random_state=0)
    train, last = split_last(X)
    # 60 users in batches of 16: 4 steps per epoch
    est = SASRecClassifierEstimator(
        hidden_units=8, num_blocks=1, max_len=8, batch_size=16, epochs=3, validation_interval=3
    )
    return est.fit(train, X_valid=last)


def test_estimator_history_has_a_row_per_round(fitted_every_3):
    history = fitted_every_3.history_
    assert list(history.columns) == [
        "epoch",
        "step",
        "train_loss",
        "valid_ndcg@10",
        "valid_ndcg@10_se",
        "seconds",
    ]
    assert history["step"].tolist() == [3, 4, 6, 8, 9, 12]
    assert history["epoch"].tolist() == [1, 1, 2, 2, 3, 3]
    epoch_ends = set(4 * np.arange(1, 4))
    assert all(s % 3 == 0 or s in epoch_ends for s in history["step"])
    # validated every 3 steps; an epoch end between two of them is recorded, not validated
    validated = history["step"] % 3 == 0
    se = history["valid_ndcg@10_se"]
    assert ((se[validated] > 0) & (se[validated] < 1)).all()
    assert history.loc[~validated, ["valid_ndcg@10", "valid_ndcg@10_se"]].isna().all().all()
    assert fitted_every_3.n_epochs_ == 3


def test_estimator_batch_history_counts_on_within_an_epoch(fitted_every_3):
    batches = fitted_every_3.batch_history_
    assert len(batches) == 12
    assert batches["epoch"].tolist() == [1] * 4 + [2] * 4 + [3] * 4
    assert batches["batch"].tolist() == [0, 1, 2, 3] * 3
    # each round's train_loss is the mean of its own steps
    history = fitted_every_3.history_
    bounds = [0, *history["step"].tolist()]
    for (begin, end), loss in zip(zip(bounds, bounds[1:]), history["train_loss"]):
        assert loss == pytest.approx(batches["train_loss"].iloc[begin:end].mean())


# ---------------------------------------------------------------- EarlyStopping tol="se"
def _feed(callback, records, steps_per_record=5):
    """Records in order to a fake trainer; ``(stopped at record n or None, trainer)``."""
    trainer = SimpleNamespace(step=0, module=torch.nn.Linear(2, 2), stop_reason=None)
    callback.on_train_begin(trainer)
    for n, record in enumerate(records, start=1):
        trainer.step += steps_per_record
        callback.on_epoch_end(trainer, {"epoch": n, **record})
        if trainer.stop_reason is not None:
            return n, trainer
    return None, trainer


def _records(values, se):
    return [{"valid_ndcg@10": v, "valid_ndcg@10_se": s} for v, s in zip(values, se)]


def test_tol_se_ignores_gains_within_one_standard_error():
    values = [0.30, 0.33, 0.34, 0.36]
    records = _records(values, [0.05] * 4)
    se = EarlyStopping("valid_ndcg@10", patience=2, tol="se")
    stopped, trainer = _feed(se, records)
    # 0.33 and 0.34 are within 0.05 of the best 0.30: two records without improvement
    assert stopped == 3 and se.best == 0.30 and se.best_epoch == 1
    assert "did not improve for 2 epochs" in trainer.stop_reason
    plain = EarlyStopping("valid_ndcg@10", patience=2)
    assert _feed(plain, records)[0] is None and plain.best == 0.36


def test_tol_se_uses_each_records_own_standard_error():
    # 0.33 beats 0.30 by more than its own se (0.01), though not by the first record's
    records = _records([0.30, 0.33, 0.335], [0.2, 0.01, 0.01])
    callback = EarlyStopping("valid_ndcg@10", patience=1, tol="se")
    stopped, _ = _feed(callback, records)
    assert stopped == 3 and callback.best == 0.33 and callback.best_epoch == 2
    assert callback.best_step == 10


def test_tol_se_with_mode_min_and_a_nan_standard_error():
    records = [
        {"valid_loss": 1.0, "valid_loss_se": 0.1},
        {"valid_loss": 0.95, "valid_loss_se": 0.1},  # within one se: no improvement
        {"valid_loss": 0.85, "valid_loss_se": 0.1},  # more than one se lower
        {"valid_loss": 0.84, "valid_loss_se": math.nan},  # no se known: any gain counts
    ]
    callback = EarlyStopping("valid_loss", patience=3, mode="min", tol="se")
    assert _feed(callback, records)[0] is None
    assert callback.best == 0.84 and callback.best_epoch == 4


def test_tol_se_needs_the_standard_error_in_the_record():
    callback = EarlyStopping("valid_ndcg@10", patience=2, tol="se")
    with pytest.raises(KeyError, match="valid_ndcg@10_se"):
        _feed(callback, [{"valid_ndcg@10": 0.3}])
    # a float tol does not need it
    assert _feed(EarlyStopping("valid_ndcg@10", patience=2), [{"valid_ndcg@10": 0.3}])[0] is None


@pytest.mark.parametrize(
    "tol",
    [
        -0.1,
        "sd",
        "0.1",
        True,
        math.nan,
        None,
        [0.1],
    ],
)
def test_bad_tol_raises(tol):
    with pytest.raises(ValueError, match="tol"):
        EarlyStopping("valid_ndcg@10", patience=2, tol=tol)


def test_patience_counts_records_when_validating_in_steps():
    trainer, _ = _trainer(batches_per_epoch=7, epochs=3, validate_every=2)
    # validate() rises by 0.1 a round; with tol=0.25 nothing after the first round counts
    stopper = EarlyStopping("valid_ndcg@10", patience=2, tol=0.25, restore_best=False)
    trainer.callbacks.append(stopper)
    trainer.run()
    assert [r["step"] for r in trainer.history.records] == [2, 4, 6]
    assert "did not improve for 2 records" in trainer.stop_reason
    assert stopper.best_step == 2


def test_early_stopping_and_checkpoint_skip_unvalidated_epoch_ends(tmp_path):
    from skseqrec.training import Checkpoint

    X = make_sequential_world(n_users=60, n_items=20, min_length=5, max_length=8, random_state=0)
    train, last = split_last(X)
    checkpoint = Checkpoint(tmp_path / "w.pt", monitor="valid_ndcg@10")
    est = SASRecClassifierEstimator(
        hidden_units=8,
        num_blocks=1,
        max_len=8,
        batch_size=16,
        epochs=6,
        validation_interval=3,  # 4 steps per epoch: most epoch ends are not validated
        early_stopping_steps=100,
        callbacks=[checkpoint],
    ).fit(train, X_valid=last)
    history = est.history_
    assert history["valid_ndcg@10"].isna().any() and history["valid_ndcg@10"].notna().any()
    best = history.loc[history["valid_ndcg@10"].idxmax()]
    assert est.best_epoch_ == best["epoch"]
    assert checkpoint.saved_epochs and set(checkpoint.saved_epochs) <= set(
        history.loc[history["valid_ndcg@10"].notna(), "epoch"]
    )

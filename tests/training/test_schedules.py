"""Step-based training control: learning-rate warm-up/decay and gradient clipping."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.base import clone

from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import make_sequential_world
from skseqrec.training import (
    Callback,
    EarlyStopping,
    GradientClipping,
    LearningRateSchedule,
    ReduceLROnPlateau,
)


@pytest.fixture(scope="module")
def X():
    return make_sequential_world(
        n_users=64, n_items=30, min_length=6, max_length=10, random_state=0
    )


class StepRecorder(Callback):
    """Learning rate and gradient norm seen by each optimiser step."""

    def on_train_begin(self, trainer):
        self.rates, self.norms = [], []

    def on_after_backward(self, trainer):
        self.rates.append(trainer.optimizer.param_groups[0]["lr"])
        grads = [p.grad.norm() for p in trainer.module.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack(grads))))


def _model(callbacks, epochs=3):
    return SASRecClassifierEstimator(
        hidden_units=8, num_blocks=1, max_len=8, batch_size=8, epochs=epochs, callbacks=callbacks
    )


def test_factor_follows_the_documented_formula():
    schedule = LearningRateSchedule(warmup_steps=4, decay="cosine", decay_steps=10, min_factor=0.1)
    assert [schedule.factor(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule.factor(4) == pytest.approx(1.0)
    assert schedule.factor(9) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 0.5)) / 2)
    assert schedule.factor(14) == pytest.approx(0.1) and schedule.factor(100) == pytest.approx(0.1)
    linear = LearningRateSchedule(decay="linear", decay_steps=4, min_factor=0.0)
    assert [linear.factor(s) for s in range(6)] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert LearningRateSchedule().factor(123) == 1.0


def test_every_step_uses_the_scheduled_rate(X):
    schedule = LearningRateSchedule(warmup_steps=3, decay="linear", decay_steps=5, min_factor=0.2)
    recorder = StepRecorder()
    model = _model([schedule, recorder]).fit(X)
    steps = len(model.batch_history_)
    assert len(recorder.rates) == steps > 8
    expected = [model.learning_rate * schedule.factor(s) for s in range(steps)]
    assert recorder.rates == pytest.approx(expected)
    # the optimiser is left at its base rate, so a later partial_fit starts a new schedule
    recorder_again = StepRecorder()
    model.set_params(callbacks=[schedule, recorder_again]).partial_fit(X)
    assert recorder_again.rates[0] == pytest.approx(model.learning_rate / 3)


def test_gradient_clipping_bounds_the_norm_of_every_step(X):
    clipper, recorder = GradientClipping(max_norm=0.05), StepRecorder()
    _model([clipper, recorder]).fit(X)  # recorder runs after the clipper
    assert clipper.n_clipped > 0 and clipper.last_norm > 0.05
    assert max(recorder.norms) <= 0.05 + 1e-6
    unclipped = StepRecorder()
    _model([unclipped]).fit(X)
    assert max(unclipped.norms) > 0.05  # the bound was active


def test_schedules_are_ordinary_parameters(X):
    model = _model([LearningRateSchedule(warmup_steps=2), GradientClipping(1.0)], epochs=1)
    copy = clone(model)
    assert (
        repr(copy.callbacks)
        == "[LearningRateSchedule(warmup_steps=2, decay=None, decay_steps=None, min_factor=0.0), GradientClipping(max_norm=1.0)]"
    )
    assert copy.fit(X).n_epochs_ == 1
    with pytest.raises(ValueError, match="decay_steps"):
        LearningRateSchedule(decay="cosine")
    with pytest.raises(ValueError, match="max_norm"):
        GradientClipping(0)


def _run_early_stopping(callback, values, steps_per_epoch):
    """Feed ``values`` as successive epoch records; return the epoch training stopped at."""
    from types import SimpleNamespace

    trainer = SimpleNamespace(step=0, module=torch.nn.Linear(2, 2), stop_reason=None)
    callback.on_train_begin(trainer)
    for epoch, value in enumerate(values, start=1):
        trainer.step += steps_per_epoch
        callback.on_epoch_end(trainer, {"epoch": epoch, "valid_ndcg@10": value})
        if trainer.stop_reason is not None:
            callback.on_train_end(trainer)
            return epoch, trainer.stop_reason
    return None, None


def test_patience_in_steps_means_the_same_on_small_and_large_data():
    # best at epoch 2, then a long plateau
    values = [0.1, 0.3] + [0.2] * 60
    small = EarlyStopping("valid_ndcg@10", patience_steps=80)
    large = EarlyStopping("valid_ndcg@10", patience_steps=80)
    # 8 steps per epoch (a small dataset): 10 epochs of waiting; 80 per epoch: one epoch
    assert _run_early_stopping(small, values, 8)[0] == 12
    assert _run_early_stopping(large, values, 80)[0] == 3
    epoch, reason = _run_early_stopping(EarlyStopping("valid_ndcg@10", 3), values, 8)
    assert epoch == 5 and "did not improve for 3 epochs" in reason


def test_patience_rate_grows_the_patience_with_the_best_step():
    # slow gains with dips longer than the base patience: best at epoch 30 (step 2400)
    values = [0.01 * e for e in range(1, 31)] + [0.25] * 40
    values[20:24] = [0.1] * 4  # a dip of 4 epochs (320 steps) at step 1,680
    fixed = EarlyStopping("valid_ndcg@10", patience_steps=240)
    growing = EarlyStopping("valid_ndcg@10", patience_steps=240, patience_rate=0.5)
    # the fixed patience stops in the dip; the growing one waits 240 + 0.5 * 1600 steps
    assert _run_early_stopping(fixed, values, 80)[0] == 23
    epoch, reason = _run_early_stopping(growing, values, 80)
    assert fixed.best_step == 1600 and growing.best_step == 2400
    # 240 + 0.5 * 2400 = 1440 steps (18 epochs) after the best at epoch 30
    assert epoch == 48 and "did not improve for 1440 steps" in reason
    with pytest.raises(ValueError, match="patience_rate must be a number >= 0"):
        EarlyStopping("valid_ndcg@10", patience_steps=8, patience_rate=-1)
    with pytest.raises(ValueError, match="pass patience_steps"):
        EarlyStopping("valid_ndcg@10", patience=3, patience_rate=0.5)


def test_min_steps_keeps_training_through_an_early_plateau():
    values = [0.3] + [0.2] * 40
    early = EarlyStopping("valid_ndcg@10", patience=2)
    patient = EarlyStopping("valid_ndcg@10", patience=2, min_steps=100)
    assert _run_early_stopping(early, values, 8)[0] == 3
    epoch, reason = _run_early_stopping(patient, values, 8)
    assert epoch == 13 and "did not improve for 12 epochs" in reason  # step 104 >= 100
    with pytest.raises(ValueError, match="exactly one of patience and patience_steps"):
        EarlyStopping("valid_ndcg@10")


def _feed_plateau(callback, values, steps_per_record, optimizer):
    """Feed ``values`` as validation records; return the rate after each."""
    from types import SimpleNamespace

    trainer = SimpleNamespace(step=0, optimizer=optimizer)
    callback.on_train_begin(trainer)
    rates = []
    for epoch, value in enumerate(values, start=1):
        trainer.step += steps_per_record
        callback.on_epoch_end(trainer, {"epoch": epoch, "valid_ndcg@10": value})
        rates.append(optimizer.param_groups[0]["lr"])
    callback.on_train_end(trainer)
    return rates


def test_reduce_lr_on_plateau_follows_its_rule():
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=0.01)
    plateau = ReduceLROnPlateau(patience_steps=100, factor=0.5, min_factor=0.2)
    # a record every 50 steps: best 0.3 at step 50, reduced at 150 (100 steps later);
    # 0.4 at 200 is a new best; reduced at 300 and (counting from that) 400, to the floor
    values = [0.3, 0.2, 0.2, 0.4, 0.1, 0.1, 0.1, 0.1]
    rates = _feed_plateau(plateau, values, 50, optimizer)
    assert rates == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.002])
    assert plateau.reductions == [150, 300, 400] and plateau.last_factor == 0.2
    values = [0.3] + [0.1] * 20
    plateau = ReduceLROnPlateau(patience_steps=100, factor=0.5, min_factor=0.2)
    rates = _feed_plateau(plateau, values, 100, optimizer)
    assert plateau.reductions == [200, 300, 400] and rates[-1] == pytest.approx(0.002)
    # the optimiser is left at its starting rate for a later fit
    assert optimizer.param_groups[0]["lr"] == 0.01
    for bad in (
        {"factor": 1.0},
        {"patience_steps": 0},
        {"min_factor": 0},
        {"mode": "up"},
        {"tol": -1},
    ):
        with pytest.raises(ValueError):
            ReduceLROnPlateau(**bad)


def test_reduce_lr_on_plateau_steers_a_real_fit(X):
    # a learning rate of 1e-12 freezes the ranking: nothing improves after the first record
    plateau, recorder = ReduceLROnPlateau(patience_steps=8, factor=0.5), StepRecorder()
    model = SASRecClassifierEstimator(
        hidden_units=8,
        num_blocks=1,
        max_len=8,
        batch_size=8,
        epochs=4,
        learning_rate=1e-12,
        validation_interval=4,
        early_stopping_steps=1000,
        callbacks=[plateau, recorder],
    ).fit(X)
    assert plateau.reductions, model.history_
    first = plateau.reductions[0]
    assert recorder.rates[first - 1] == pytest.approx(1e-12)
    assert recorder.rates[first] == pytest.approx(0.5e-12)


def test_reduce_lr_on_plateau_waits_for_min_steps():
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=0.01)
    plateau = ReduceLROnPlateau(patience_steps=100, factor=0.5, min_steps=500)
    rates = _feed_plateau(plateau, [0.3] + [0.1] * 7, 100, optimizer)
    # stalled from step 100; the first reduction comes at step 500
    assert plateau.reductions == [500, 600, 700, 800] and rates[3] == 0.01


def test_adaptive_learning_rate_schedule_builds_the_callback():
    from skseqrec import ESASRecEstimator

    est = ESASRecEstimator(learning_rate_schedule="adaptive", early_stopping_steps=300)
    stop, plateau = est._training_callbacks(True)
    assert isinstance(stop, EarlyStopping) and isinstance(plateau, ReduceLROnPlateau)
    assert (plateau.patience_steps, plateau.min_steps) == (300, est.early_stopping_min_steps)
    # the cut comes at half early stopping's growth: before training would stop
    assert plateau.patience_rate == stop.patience_rate / 2 == est.early_stopping_rate / 2 > 0
    # a patience in rounds has no steps to count a plateau in: constant rate
    est.set_params(early_stopping_patience=3)
    assert [type(c) for c in est._training_callbacks(True)] == [EarlyStopping]
    est.set_params(learning_rate_schedule="constant", early_stopping_patience=None)
    assert [type(c) for c in est._training_callbacks(True)] == [EarlyStopping]


def test_reduce_lr_on_plateau_patience_grows_with_the_best_step():
    optimizer = torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), lr=0.01)
    plateau = ReduceLROnPlateau(patience_steps=100, factor=0.5, patience_rate=0.25)
    # rising to step 1,200, then flat: the cut waits 100 + 0.25 * 1200 = 400 steps
    values = [0.01 * i for i in range(1, 13)] + [0.05] * 10
    _feed_plateau(plateau, values, 100, optimizer)
    assert plateau.reductions == [1600, 2000]
    with pytest.raises(ValueError, match="patience_rate"):
        ReduceLROnPlateau(patience_rate=-0.1)

"""TimeBudget stops training before the budget would be overrun."""

import time

import pytest
import torch

from skseqrec.training import EarlyStopping, TimeBudget, Trainer


def _trainer(epochs, callbacks, seconds_per_epoch=0.05, validate=None):
    module = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.0)

    def batches(epoch):
        time.sleep(seconds_per_epoch)
        yield torch.ones(4, 2)

    return Trainer(
        module=module,
        optimizer=optimizer,
        loss_fn=lambda batch: module(batch).sum(),
        batches=batches,
        epochs=epochs,
        validate=validate,
        callbacks=callbacks,
    )


def test_time_budget_stops_before_overrunning():
    trainer = _trainer(100, [TimeBudget(0.26)]).run()
    # 0.05 s epochs: after epoch n the next would end near 0.05 (n + 1) s
    assert 2 <= len(trainer.history) <= 5
    assert trainer.stop_reason.startswith("time budget")


def test_time_budget_runs_at_least_one_epoch_and_leaves_other_stops_alone():
    trainer = _trainer(5, [TimeBudget(1e-6)]).run()
    assert len(trainer.history) == 1
    trainer = _trainer(2, [TimeBudget(60)]).run()
    assert trainer.stop_reason == "reached epochs=2"
    scores = iter([0.5, 0.4, 0.3, 0.2])
    stopper = EarlyStopping("valid_score", patience=1)
    trainer = _trainer(4, [stopper, TimeBudget(60)], validate=lambda: {"score": next(scores)}).run()
    assert trainer.stop_reason.startswith("early stopping")


def test_time_budget_rejects_a_non_positive_budget():
    with pytest.raises(ValueError, match="time budget must be positive"):
        TimeBudget(0)


def test_time_budget_counts_validation_rounds_and_names_the_step():
    # validation every 2 steps of 5-step epochs: rounds of 2, 2 and 1 steps per epoch;
    # the budget is spent in the 4th epoch, not after "11 epochs" (the rounds so far)
    module = torch.nn.Linear(2, 1)

    def batches(epoch):
        for _ in range(5):
            time.sleep(0.01)
            yield torch.ones(4, 2)

    trainer = Trainer(
        module=module,
        optimizer=torch.optim.SGD(module.parameters(), lr=0.0),
        loss_fn=lambda batch: module(batch).sum(),
        batches=batches,
        epochs=100,
        validate=lambda: {"score": 0.0},
        validate_every=2,
        callbacks=[TimeBudget(0.17)],
    ).run()
    assert trainer.stop_reason.startswith("time budget")
    assert f"at step {trainer.step} (epoch {trainer.epochs_run})" in trainer.stop_reason
    assert 2 <= trainer.epochs_run <= 5

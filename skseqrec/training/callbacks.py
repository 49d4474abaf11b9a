"""Training callbacks: early stopping, a time budget and progress bars.

A callback's hooks receive the running :class:`~skseqrec.training.loop.Trainer`.
``on_epoch_end`` may set ``trainer.stop_reason`` to end training.
"""

from __future__ import annotations

import copy
import math
import time

__all__ = ["Callback", "EarlyStopping", "ProgressBar", "TimeBudget"]


class Callback:
    """Base class; every hook is optional."""

    def on_train_begin(self, trainer) -> None:
        pass

    def on_epoch_begin(self, trainer) -> None:
        pass

    def on_batch_end(self, trainer, loss) -> None:
        pass

    def on_epoch_end(self, trainer, record: dict) -> None:
        pass

    def on_train_end(self, trainer) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        Key of the epoch record, e.g. ``"valid_ndcg@10"`` or ``"valid_loss"``.
    patience : int
    mode : {"max", "min"}
    tol : float, default=0.0
        Improvement must exceed ``tol`` (as in scikit-learn's ``n_iter_no_change``).
    restore_best : bool, default=True
        Load the best epoch's weights when training ends (also after an interrupt).
    """

    def __init__(
        self,
        monitor: str,
        patience: int,
        mode: str = "max",
        tol: float = 0.0,
        restore_best: bool = True,
    ):
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.tol = tol
        self.restore_best = restore_best

    def on_train_begin(self, trainer) -> None:
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_epoch = None
        self.best_state = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "max":
            return value > self.best + self.tol
        return value < self.best - self.tol

    def on_epoch_end(self, trainer, record: dict) -> None:
        value = record.get(self.monitor)
        if value is None:
            raise KeyError(
                f"EarlyStopping monitors {self.monitor!r}, absent from {sorted(record)}."
            )
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, record["epoch"], 0
            if self.restore_best:
                self.best_state = {
                    k: v.detach().to("cpu", copy=True)
                    for k, v in trainer.module.state_dict().items()
                }
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_reason = (
                    f"early stopping: {self.monitor} did not improve for {self.patience} epochs "
                    f"(best {self.best:.5f} at epoch {self.best_epoch})"
                )

    def on_train_end(self, trainer) -> None:
        if self.restore_best and self.best_state is not None:
            trainer.module.load_state_dict(self.best_state)
        trainer.best_epoch = self.best_epoch

    def __deepcopy__(self, memo):  # never copy saved weights along with the settings
        return EarlyStopping(self.monitor, self.patience, self.mode, self.tol, self.restore_best)


class TimeBudget(Callback):
    """Stop before an epoch that would end after ``seconds`` of training.

    After each epoch, training stops when the time spent so far plus the mean epoch time
    would exceed the budget (so the budget is kept on average, not overrun by a whole
    epoch). At least one epoch always runs. Used by the benchmarks to compare models at an
    equal CPU budget.

    Parameters
    ----------
    seconds : float
        Training budget in wall-clock seconds (validation time included).
    """

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"the time budget must be positive, got {seconds!r} seconds.")
        self.seconds = seconds

    def on_train_begin(self, trainer) -> None:
        self.started = time.perf_counter()
        self.epochs = 0

    def on_epoch_end(self, trainer, record: dict) -> None:
        self.epochs += 1
        elapsed = time.perf_counter() - self.started
        if trainer.stop_reason is None and elapsed * (self.epochs + 1) / self.epochs > self.seconds:
            trainer.stop_reason = (
                f"time budget: {elapsed:.0f} s spent of {self.seconds:g} s after "
                f"{self.epochs} epochs"
            )

    def __deepcopy__(self, memo):
        return TimeBudget(self.seconds)


class ProgressBar(Callback):
    """tqdm bar over epochs (notebook-aware), showing the last record."""

    def on_train_begin(self, trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=trainer.epochs, desc=trainer.description, unit="epoch", leave=True)

    def on_epoch_end(self, trainer, record: dict) -> None:
        shown = {
            k: (f"{v:.4f}" if isinstance(v, float) else v)
            for k, v in record.items()
            if k != "epoch"
        }
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer) -> None:
        self.bar.close()

    def __deepcopy__(self, memo):
        return ProgressBar()


def copy_callbacks(callbacks):
    return [copy.deepcopy(c) for c in callbacks]

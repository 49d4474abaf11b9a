"""Training callbacks: early stopping, a time budget, checkpoints and progress bars.

Pass them to any torch estimator as ``callbacks=[...]``. A callback's hooks receive the
running :class:`~skseqrec.training.Trainer` (``trainer.module``, ``trainer.optimizer``,
``trainer.history``, ``trainer.epochs``); ``on_batch_end`` and ``on_epoch_end`` may set
``trainer.stop_reason`` to end training after the current epoch.
"""

from __future__ import annotations

import inspect
import math
import os
import time
from pathlib import Path

import torch

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GradientClipping",
    "LearningRateSchedule",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TimeBudget",
    "unvalidated",
]


def unvalidated(trainer, record: dict) -> bool:
    """Whether ``record`` closes a round the trainer did not validate (an epoch end between
    two ``validate_every`` steps): callbacks that monitor a validation score skip it."""
    return getattr(trainer, "validate", None) is not None and not any(
        key.startswith("valid_") for key in record
    )


class Callback:
    """Base class of training callbacks; override the hooks you need (each is a no-op).

    Hooks fire in this order: ``on_train_begin`` once, then for every epoch
    ``on_epoch_begin``, for every batch ``on_after_backward`` (gradients computed, the
    optimiser step not taken yet) and ``on_batch_end`` after the step, and
    ``on_epoch_end`` with each record: the end of every epoch, and every ``validate_every``
    steps when the trainer validates in steps (the estimators' ``validation_interval``);
    ``on_train_end`` once at the end, also after an interrupt or an error. The estimator uses the instances it is given (``clone`` copies them), so a
    callback can be inspected after ``fit``.

    Examples
    --------
    >>> from skseqrec.training import Callback
    >>> class LossPrinter(Callback):
    ...     def on_epoch_end(self, trainer, record):
    ...         print(record["epoch"], round(record["train_loss"], 1) > 0)
    """

    def on_train_begin(self, trainer) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, trainer) -> None:
        """Before each epoch's first batch."""

    def on_after_backward(self, trainer) -> None:
        """After the backward pass of each batch, before the optimiser step (e.g. to clip
        or inspect gradients)."""

    def on_batch_end(self, trainer, batch: int, loss: torch.Tensor) -> None:
        """After each optimiser step; ``loss`` is a 0-d tensor on the training device
        (``float(loss)`` waits for the device)."""

    def on_epoch_end(self, trainer, record: dict) -> None:
        """After each epoch, with its record (``epoch``, ``train_loss``, ``valid_*``, ...)."""

    def on_train_end(self, trainer) -> None:
        """After the last epoch (also after an interrupt or an error)."""

    def __repr__(self) -> str:
        names = [
            name
            for name, parameter in inspect.signature(type(self).__init__).parameters.items()
            if name != "self"
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in names
            if hasattr(self, name) and _plain(getattr(self, name))
        )
        return f"{type(self).__name__}({shown})"


def _monitored(callback, trainer, record: dict):
    """The value ``callback.monitor`` names in ``record``; None on a record the trainer did
    not validate (a KeyError names the keys when the monitor is missing otherwise)."""
    value = record.get(callback.monitor)
    if value is None and not unvalidated(trainer, record):
        raise KeyError(
            f"{type(callback).__name__} monitors {callback.monitor!r}, absent from "
            f"{sorted(record)}."
        )
    return value


def _beats(value: float, best: float, mode: str, tol: float) -> bool:
    """Whether ``value`` improves on ``best`` by more than ``tol`` (``mode`` "max"/"min")."""
    return value > best + tol if mode == "max" else value < best - tol


def _scale_rates(optimizer, base_rates: list, factor: float) -> None:
    """Set every parameter group's learning rate to its base rate times ``factor``."""
    for group, base in zip(optimizer.param_groups, base_rates):
        group["lr"] = base * factor


def _plain(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, Path))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` records (or steps).

    The rule. A value improves when it beats the best so far by more than the tolerance
    (``tol``, or with ``tol="se"`` the standard error the record gives for it, key
    ``<monitor>_se``: a gain within one standard error of the validation set is taken as
    noise); the best value, its epoch, step and (``restore_best``) weights are kept.
    Training stops at the first record where no improvement came for ``patience``
    records (rounds: epochs, or ``validate_every`` steps) or for ``patience_steps``
    optimiser steps, but never before ``min_steps`` steps. Counting in steps means the
    same on a small dataset (few steps per epoch) and a large one; validation curves of
    sequential recommenders have plateaus of hundreds of steps early on, which a patience
    of a few epochs of a small dataset stops inside. With ``patience_rate`` the patience
    in steps grows with the step of the best record, ``patience_steps + patience_rate *
    best_step`` (AutoGluon's adaptive early stopping): a model still improving after
    thousands of steps (a large dataset) gains little per hundred steps, less than the
    noise of its validation score, so a fixed patience stops it on its first dip, while a
    small dataset that peaks early keeps its short patience.

    Parameters
    ----------
    monitor : str
        Key of the record, e.g. ``"valid_ndcg@10"`` or ``"valid_loss"``.
    patience : int or None
        Records without improvement before stopping.
    mode : {"max", "min"}
    tol : float or "se", default=0.0
        Improvement must exceed ``tol`` (as in scikit-learn's ``n_iter_no_change``); "se":
        the record's standard error of the monitored value.
    restore_best : bool, default=True
        Load the best record's weights when training ends (also after an interrupt).
    patience_steps : int or None, default=None
        Optimiser steps since the best record before stopping (instead of ``patience``).
    min_steps : int, default=0
        Never stop before this many optimiser steps.
    patience_rate : float, default=0.0
        With ``patience_steps``: add this fraction of the best record's step to the
        patience.

    Attributes
    ----------
    best, best_epoch, best_step
        The best value and where it was recorded.

    Examples
    --------
    The estimators add one from ``early_stopping_patience``; an own instance monitors the
    ``X_valid`` passed to ``fit``:

    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> from skseqrec.model_selection import LeaveLastOut
    >>> from skseqrec.training import EarlyStopping
    >>> train, valid = next(LeaveLastOut().split(X))
    >>> stop = EarlyStopping("valid_ndcg@10", patience=2)
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=50, callbacks=[stop])
    >>> est = est.fit(X.iloc[train], X_valid=X.iloc[valid])
    >>> est.stop_reason_
    'early stopping: valid_ndcg@10 did not improve for 2 epochs (best ... at epoch ..., step ...)'
    >>> stop.best_epoch == est.best_epoch_  # the weights of that epoch were restored
    True
    """

    def __init__(
        self,
        monitor: str,
        patience: int | None = None,
        mode: str = "max",
        tol: float | str = 0.0,
        restore_best: bool = True,
        *,
        patience_steps: int | None = None,
        min_steps: int = 0,
        patience_rate: float = 0.0,
    ):
        if (patience is None) == (patience_steps is None):
            raise ValueError("EarlyStopping needs exactly one of patience and patience_steps.")
        if isinstance(patience_rate, bool) or not (
            isinstance(patience_rate, (int, float)) and patience_rate >= 0
        ):
            raise ValueError(f"patience_rate must be a number >= 0, got {patience_rate!r}.")
        if patience_rate and patience_steps is None:
            raise ValueError(
                "EarlyStopping(patience_rate=...) grows a patience counted in steps; pass "
                "patience_steps instead of patience."
            )
        if tol != "se" and (
            isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0
        ):
            raise ValueError(f"tol must be a number >= 0 or 'se', got {tol!r}.")
        self.monitor = monitor
        self.patience = patience
        self.mode = mode
        self.tol = tol
        self.restore_best = restore_best
        self.patience_steps = patience_steps
        self.min_steps = min_steps
        self.patience_rate = patience_rate

    def on_train_begin(self, trainer) -> None:
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_epoch = None
        self.best_step = 0
        self._best_state = None
        self.wait = 0

    def _tolerance(self, record: dict) -> float:
        if self.tol != "se":
            return float(self.tol)
        key = f"{self.monitor}_se"
        if key not in record:
            raise KeyError(
                f"EarlyStopping(tol='se') needs {key!r} in the record, absent from "
                f"{sorted(record)}."
            )
        value = record[key]
        return 0.0 if not math.isfinite(value) else float(value)

    def on_epoch_end(self, trainer, record: dict) -> None:
        value = _monitored(self, trainer, record)
        if value is None:
            return
        step = getattr(trainer, "step", 0)
        if _beats(value, self.best, self.mode, self._tolerance(record)):
            self.best, self.best_epoch, self.wait = value, record["epoch"], 0
            self.best_step = step
            if self.restore_best:
                self._best_state = {
                    k: v.detach().to("cpu", copy=True)
                    for k, v in trainer.module.state_dict().items()
                }
            return
        self.wait += 1
        if step < self.min_steps:
            return
        if self.patience_steps is None:
            per_epoch = getattr(trainer, "validate_every", None) is None
            waited, unit = self.wait, "epochs" if per_epoch else "records"
            done = self.wait >= self.patience
        else:
            waited, unit = step - self.best_step, "steps"
            done = waited >= self.patience_steps + self.patience_rate * self.best_step
        if done:
            trainer.stop_reason = (
                f"early stopping: {self.monitor} did not improve for {waited} {unit} "
                f"(best {self.best:.5f} at epoch {self.best_epoch}, step {self.best_step})"
            )

    def on_train_end(self, trainer) -> None:
        if self.restore_best and self._best_state is not None:
            trainer.module.load_state_dict(self._best_state)
        self._best_state = None  # the weights live in the module; do not pickle a copy
        trainer.best_epoch = self.best_epoch


class TimeBudget(Callback):
    """Stop before an epoch that would end after ``seconds`` of training.

    After each round (an epoch, or ``validate_every`` steps when the trainer validates in
    steps), training stops when the time spent so far plus the mean round time would
    exceed the budget (so the budget is kept on average, not overrun by a whole round). At
    least one round always runs. Used by the benchmarks to compare models at an equal CPU
    budget.

    Parameters
    ----------
    seconds : float
        Training budget in wall-clock seconds (validation time included).

    Examples
    --------
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> from skseqrec.training import TimeBudget
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=1000,
    ...                                 callbacks=[TimeBudget(seconds=0.2)]).fit(X)
    >>> est.stop_reason_
    'time budget: ... s spent of 0.2 s at step ... (epoch ...)'
    >>> est.n_epochs_ < 1000
    True
    """

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"the time budget must be positive, got {seconds!r} seconds.")
        self.seconds = seconds

    def on_train_begin(self, trainer) -> None:
        self.started = time.perf_counter()
        self.rounds = 0

    def on_epoch_end(self, trainer, record: dict) -> None:
        self.rounds += 1
        elapsed = time.perf_counter() - self.started
        if trainer.stop_reason is None and elapsed * (self.rounds + 1) / self.rounds > self.seconds:
            trainer.stop_reason = (
                f"time budget: {elapsed:.0f} s spent of {self.seconds:g} s at step "
                f"{trainer.step} (epoch {record['epoch']})"
            )


class Checkpoint(Callback):
    """Save the module's weights to ``path`` (``torch.save`` of the state dict).

    Parameters
    ----------
    path : str or path-like
        File written (overwritten) at each save, by rank 0 only under ``torch.distributed``;
        load it with
        ``module.load_state_dict(torch.load(path, weights_only=True))``.
    monitor : str or None, default=None
        Save only when this record key improves (e.g. ``"valid_ndcg@10"``, ``"train_loss"``);
        None saves after every epoch.
    mode : {"max", "min"}, default="max"

    Attributes
    ----------
    saved_epochs : list of int
        Epochs whose weights were written, in order (the file holds the last one).

    Examples
    --------
    >>> import os, tempfile
    >>> import torch
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> from skseqrec.training import Checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.pt")
    >>> checkpoint = Checkpoint(path)  # monitor="valid_ndcg@10": only the best epochs
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=3,
    ...                                 callbacks=[checkpoint]).fit(X)
    >>> checkpoint.saved_epochs
    [1, 2, 3]
    >>> est.module_.load_state_dict(torch.load(path, weights_only=True))
    <All keys matched successfully>
    """

    def __init__(self, path, monitor: str | None = None, mode: str = "max"):
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        self.path = path
        self.monitor = monitor
        self.mode = mode

    def on_train_begin(self, trainer) -> None:
        self.best = -math.inf if self.mode == "max" else math.inf
        self.saved_epochs = []

    def on_epoch_end(self, trainer, record: dict) -> None:
        if self.monitor is not None:
            if self.monitor.startswith("valid_") and unvalidated(trainer, record):
                return
            if self.monitor not in record:
                raise KeyError(
                    f"Checkpoint monitors {self.monitor!r}, absent from {sorted(record)}."
                )
            value = record[self.monitor]
            better = value > self.best if self.mode == "max" else value < self.best
            if not better:
                return
            self.best = value
        if getattr(trainer, "is_main_process", True):  # rank 0 writes the one file
            state = {k: v.detach().to("cpu") for k, v in trainer.module.state_dict().items()}
            torch.save(state, os.fspath(self.path))
        self.saved_epochs.append(record["epoch"])


class GradientClipping(Callback):
    """Rescale the gradients so that their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    max_norm : float
        Largest allowed norm of all gradients together (``clip_grad_norm_``).

    Attributes
    ----------
    last_norm : float
        Norm of the last step's gradients before clipping (sparse gradients of item
        tables, ``sparse_item_updates``, included).
    n_clipped : int
        Steps whose norm exceeded ``max_norm`` in the last ``fit``.

    Examples
    --------
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> from skseqrec.training import GradientClipping
    >>> clip = GradientClipping(max_norm=1e-3)  # tiny: every step is clipped
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=3, callbacks=[clip]).fit(X)
    >>> clip.n_clipped == len(est.batch_history_), clip.last_norm > 1e-3
    (True, True)
    """

    def __init__(self, max_norm: float):
        if not max_norm > 0:
            raise ValueError(f"max_norm must be positive, got {max_norm!r}.")
        self.max_norm = max_norm

    def on_train_begin(self, trainer) -> None:
        self.n_clipped = 0
        self.last_norm = float("nan")

    def on_after_backward(self, trainer) -> None:
        parameters = [p for p in trainer.module.parameters() if p.grad is not None]
        if not any(p.grad.is_sparse for p in parameters):
            norm = torch.nn.utils.clip_grad_norm_(parameters, self.max_norm)
        else:
            # sparse item-table gradients (sparse_item_updates), which clip_grad_norm_
            # cannot read: coalesced (a row read twice counts once, summed), their norm is
            # that of their values
            for p in parameters:
                if p.grad.is_sparse:
                    p.grad = p.grad.coalesce()
            grads = [p.grad for p in parameters]
            norm = torch.linalg.vector_norm(
                torch.stack(
                    [torch.linalg.vector_norm(g.values() if g.is_sparse else g) for g in grads]
                )
            )
            coefficient = (self.max_norm / (norm + 1e-6)).clamp(max=1.0)
            for grad in grads:
                grad.mul_(coefficient)
        self.last_norm = float(norm)
        self.n_clipped += int(self.last_norm > self.max_norm)


class LearningRateSchedule(Callback):
    """Linear warm-up, then an optional cosine or linear decay, counted in optimiser steps.

    The learning rate of step ``s`` (from 0 in each ``fit``) is the optimiser's own rate
    times ``min(1, (s + 1) / warmup_steps)`` and, after the warm-up, a factor falling from
    1 to ``min_factor`` over ``decay_steps`` steps (``"cosine"``: ``min_factor + (1 -
    min_factor) (1 + cos(pi t)) / 2``; ``"linear"``: ``1 - (1 - min_factor) t``, with ``t``
    the share of the decay done), then ``min_factor``. Steps, not epochs, so the schedule
    means the same on a small and a large dataset.

    Parameters
    ----------
    warmup_steps : int, default=0
    decay : {"cosine", "linear"} or None, default=None
    decay_steps : int or None, default=None
        Needed with ``decay``.
    min_factor : float, default=0.0

    Attributes
    ----------
    last_factor : float
        Factor applied to the step after the last one (the optimiser's base rate times it
        is the current rate).

    Examples
    --------
    >>> from skseqrec.training import LearningRateSchedule
    >>> schedule = LearningRateSchedule(warmup_steps=2, decay="cosine", decay_steps=4,
    ...                                 min_factor=0.1)
    >>> [round(schedule.factor(step), 3) for step in range(7)]
    [0.5, 1.0, 1.0, 0.868, 0.55, 0.232, 0.1]
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=3, batch_size=16,
    ...                                 callbacks=[schedule]).fit(X)
    >>> len(est.batch_history_), schedule.last_factor  # 6 steps: the decay is over
    (6, 0.1)
    """

    def __init__(self, warmup_steps=0, decay=None, decay_steps=None, min_factor=0.0):
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an int >= 0, got {warmup_steps!r}.")
        if decay not in (None, "cosine", "linear"):
            raise ValueError(f"decay must be 'cosine', 'linear' or None, got {decay!r}.")
        if decay is not None and (
            isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps < 1
        ):
            raise ValueError(
                f"decay={decay!r} needs decay_steps, an int >= 1; got {decay_steps!r}."
            )
        if not 0.0 <= min_factor <= 1.0:
            raise ValueError(f"min_factor must be in [0, 1], got {min_factor!r}.")
        self.warmup_steps = warmup_steps
        self.decay = decay
        self.decay_steps = decay_steps
        self.min_factor = min_factor

    def factor(self, step: int) -> float:
        """The multiplier of the base learning rate at optimiser step ``step`` (from 0)."""
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        if self.decay is None or step < self.warmup_steps:
            return warm
        done = min(1.0, (step - self.warmup_steps) / self.decay_steps)
        if self.decay == "cosine":
            return self.min_factor + (1.0 - self.min_factor) * (1.0 + math.cos(math.pi * done)) / 2
        return 1.0 - (1.0 - self.min_factor) * done

    def _apply(self, trainer, step: int) -> None:
        self.last_factor = self.factor(step)
        _scale_rates(trainer.optimizer, self._base_rates, self.last_factor)

    def on_train_begin(self, trainer) -> None:
        self._base_rates = [group["lr"] for group in trainer.optimizer.param_groups]
        self._apply(trainer, 0)

    def on_batch_end(self, trainer, batch: int, loss) -> None:
        self._apply(trainer, trainer.step)

    def on_train_end(self, trainer) -> None:
        # leave the optimiser at its base rate: a later partial_fit starts a new schedule
        _scale_rates(trainer.optimizer, self._base_rates, 1.0)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls, counted in steps.

    The rule. After each validation record: when ``monitor`` has not beaten its best by
    more than ``tol`` for ``patience_steps + patience_rate * best_step`` optimiser steps
    since the best record or the last reduction, whichever is later, every parameter
    group's rate is multiplied by ``factor``, down to ``min_factor`` times its rate at the
    start of ``fit``. The patience grows with the step of the best record for the reason
    :class:`EarlyStopping`'s does: late in training a noisy validation score takes longer
    to beat its best even while the model still improves, and a rate cut on such a false
    plateau stalls the rise (eSASRec on s3rec-beauty: a fixed 400-step patience cut the
    rate of seed 1 at step 3,300, with validation NDCG@10 at 0.053 and rising, and the
    fit ended at test NDCG@10 0.040; seed 0, cut later, reached 0.0535). Steps, not
    epochs, so it means the same on a small and a large dataset. With
    :class:`EarlyStopping` (whose patience should be longer) it lets a model whose
    validation score has levelled out at a large learning rate take smaller steps
    before training stops, as scikit-learn's ``MLPClassifier(learning_rate="adaptive")``
    and Keras' ``ReduceLROnPlateau`` do.

    Parameters
    ----------
    monitor : str, default="valid_ndcg@10"
    patience_steps : int, default=300
    factor : float, default=0.3
        In (0, 1).
    min_factor : float, default=0.01
        The smallest multiple of the starting rate.
    mode : {"max", "min"}, default="max"
    tol : float, default=0.0
    min_steps : int, default=0
        No reduction before this many optimiser steps (a plateau early in training, as
        gSASRec's, is waited out at the full rate).
    patience_rate : float, default=0.0
        Add this fraction of the best record's step to ``patience_steps``.

    Attributes
    ----------
    reductions : list of int
        The steps at which the rate was reduced (in the last ``fit``).
    last_factor : float
        The current multiple of the starting rate.

    Examples
    --------
    >>> from skseqrec.training import ReduceLROnPlateau
    >>> plateau = ReduceLROnPlateau("valid_ndcg@10", patience_steps=100, factor=0.5)
    >>> plateau
    ReduceLROnPlateau(monitor='valid_ndcg@10', patience_steps=100, factor=0.5, min_factor=0.01, mode='max', tol=0.0, min_steps=0, patience_rate=0.0)
    """

    def __init__(
        self,
        monitor: str = "valid_ndcg@10",
        patience_steps: int = 300,
        factor: float = 0.3,
        min_factor: float = 0.01,
        mode: str = "max",
        tol: float = 0.0,
        min_steps: int = 0,
        patience_rate: float = 0.0,
    ):
        if isinstance(patience_steps, bool) or not isinstance(patience_steps, int):
            raise ValueError(f"patience_steps must be an int >= 1, got {patience_steps!r}.")
        if patience_steps < 1:
            raise ValueError(f"patience_steps must be an int >= 1, got {patience_steps!r}.")
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}.")
        if not 0.0 < min_factor <= 1.0:
            raise ValueError(f"min_factor must be in (0, 1], got {min_factor!r}.")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
        if isinstance(patience_rate, bool) or not (
            isinstance(patience_rate, (int, float)) and patience_rate >= 0
        ):
            raise ValueError(f"patience_rate must be a number >= 0, got {patience_rate!r}.")
        self.monitor = monitor
        self.patience_steps = patience_steps
        self.factor = factor
        self.min_factor = min_factor
        self.mode = mode
        self.tol = tol
        self.min_steps = min_steps
        self.patience_rate = patience_rate

    def on_train_begin(self, trainer) -> None:
        self._base_rates = [group["lr"] for group in trainer.optimizer.param_groups]
        self.best = -math.inf if self.mode == "max" else math.inf
        self.last_factor = 1.0
        self.reductions = []
        self._since = self._best_step = 0

    def on_epoch_end(self, trainer, record: dict) -> None:
        value = _monitored(self, trainer, record)
        if value is None:
            return
        step = getattr(trainer, "step", 0)
        if _beats(value, self.best, self.mode, self.tol):
            self.best, self._since, self._best_step = value, step, step
            return
        patience = self.patience_steps + self.patience_rate * self._best_step
        if (
            step < self.min_steps
            or step - self._since < patience
            or self.last_factor <= self.min_factor
        ):
            return
        self.last_factor = max(self.last_factor * self.factor, self.min_factor)
        _scale_rates(trainer.optimizer, self._base_rates, self.last_factor)
        self.reductions.append(step)
        self._since = step

    def on_train_end(self, trainer) -> None:
        # leave the optimiser at its starting rate: a later partial_fit starts afresh
        _scale_rates(trainer.optimizer, self._base_rates, 1.0)


class ProgressBar(Callback):
    """tqdm bar over epochs (notebook-aware), showing the last record.

    The estimators add one when ``verbose`` is true.

    Examples
    --------
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=30, n_items=20, random_state=0)
    >>> from skseqrec.training import ProgressBar
    >>> est = SASRecClassifierEstimator(hidden_units=16, epochs=2, callbacks=[ProgressBar()])
    >>> est.get_params()["callbacks"]
    [ProgressBar()]
    >>> est = est.fit(X)  # the bar is written to stderr
    """

    def on_train_begin(self, trainer) -> None:
        from tqdm.auto import tqdm

        self._bar = None
        if not getattr(trainer, "is_main_process", True):
            return  # one bar per training run, drawn by rank 0 of a process group
        self._bar = tqdm(total=trainer.epochs, desc=trainer.description, unit="epoch", leave=True)
        self._epoch = 0

    def on_epoch_end(self, trainer, record: dict) -> None:
        if self._bar is None:
            return
        # one call per round: an epoch, or ``validate_every`` steps (several rounds may
        # share an epoch); the bar counts epochs, so it moves when the epoch does
        shown = {
            k: (f"{v:.4f}" if isinstance(v, float) else v)
            for k, v in record.items()
            if k != "epoch"
        }
        self._bar.set_postfix(shown, refresh=False)
        epoch = int(record.get("epoch", self._epoch + 1))
        if epoch > self._epoch:
            self._bar.update(epoch - self._epoch)
            self._epoch = epoch
        else:
            self._bar.refresh()

    def on_train_end(self, trainer) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = None  # a closed bar is not worth pickling

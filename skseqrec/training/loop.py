"""The training loop, independent of any model: batches in, loss out, callbacks around."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable

import torch

from ..exceptions import SkseqrecWarning, user_stacklevel
from .device import autocast, release_host_memory
from .distributed import (
    average_gradients,
    broadcast_object,
    broadcast_parameters,
    rank_and_world_size,
)
from .history import History

__all__ = ["Trainer"]

logger = logging.getLogger("skseqrec")


class Trainer:
    """Run epochs of ``loss_fn(batch)`` steps with one optimizer.

    Parameters
    ----------
    module : nn.Module
    optimizer : torch.optim.Optimizer
    loss_fn : callable
        ``loss_fn(batch) -> scalar tensor``.
    batches : callable
        ``batches(epoch) -> iterable`` of batches already on the device.
    epochs : int
        Number of epochs to run in this call.
    validate : callable or None
        ``validate() -> dict`` of metric name -> float, called at the end of every round
        (keys get a ``valid_`` prefix in the record).
    callbacks : list of Callback
        Their hooks fire in order: ``on_train_begin``, then per epoch ``on_epoch_begin``,
        per batch ``on_after_backward`` (gradients computed, step not taken yet) and
        ``on_batch_end`` after the optimiser step, ``on_epoch_end``; ``on_train_end`` last
        (also after an interrupt or an error).
    history : History
        Records are appended; epochs continue from ``history.last_epoch``.
    device : torch.device
    amp : bool
        bf16 autocast on CUDA.
    description : str
    validate_every : int or None, default=None
        Validate every this many optimiser steps (mid-epoch when an epoch is longer, every
        few epochs when it is shorter): each multiple closes a round (validate, append a
        record, call ``on_epoch_end``); the end of an epoch closes a round without
        validation when steps were taken since the last one (its record has no
        ``valid_`` keys). None: one validated round per epoch. Steps mean the same on a
        small and a large dataset (an epoch of a million users is thousands of steps). A
        record is ``{"epoch", "step", "train_loss" (mean over the round's steps),
        "valid_<name>"..., "seconds"}``.
    batch_weight : callable or None, default=None
        ``batch_weight(batch) -> float or scalar tensor``: how many targets the batch's
        loss averages over.
        Used only under ``torch.distributed`` (more than one process): each process gets
        its share of every global batch from ``batches``, and the gradients are averaged
        over processes weighted by it (None: equal weights), so that a step equals the
        single-process step on the whole batch. A process's share may be empty (a short
        last batch): ``loss_fn`` must then return a zero loss. Rank 0 validates; its records and stop decisions are sent to every
        process (:mod:`skseqrec.training.distributed`).

    Attributes
    ----------
    RELEASE_EVERY : int
        On CPU, the heap's free memory is given back to the system every this many
        steps (:func:`~skseqrec.training.release_host_memory`): without it a CPU epoch's
        resident memory grows with its steps.
    is_main_process : bool
        False on the ranks other than 0 of a process group (callbacks that write files or
        draw progress act only on the main process).

    Examples
    --------
    Fit ``y = 3 x + 1`` with one full batch per epoch:

    >>> import torch
    >>> from skseqrec.training import Trainer
    >>> _ = torch.manual_seed(0)
    >>> module = torch.nn.Linear(1, 1)
    >>> x = torch.linspace(-1, 1, 32).unsqueeze(1)
    >>> y = 3 * x + 1
    >>> def loss_fn(batch):
    ...     inputs, targets = batch
    ...     return torch.nn.functional.mse_loss(module(inputs), targets)
    >>> trainer = Trainer(module=module, optimizer=torch.optim.SGD(module.parameters(), lr=0.5),
    ...                   loss_fn=loss_fn, batches=lambda epoch: [(x, y)], epochs=50)
    >>> trainer.run().stop_reason
    'reached epochs=50'
    >>> len(trainer.history), trainer.step
    (50, 50)
    >>> round(module.weight.item(), 3), round(module.bias.item(), 3)
    (3.0, 1.0)
    """

    RELEASE_EVERY = 100

    def __init__(
        self,
        *,
        module,
        optimizer,
        loss_fn: Callable,
        batches: Callable[[int], Iterable],
        epochs: int,
        validate: Callable[[], dict] | None = None,
        callbacks=(),
        history: History | None = None,
        device=None,
        amp: bool = True,
        description: str = "fit",
        validate_every: int | None = None,
        batch_weight: Callable | None = None,
    ):
        self.module = module
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.batches = batches
        self.epochs = epochs
        self.validate = validate
        self.callbacks = list(callbacks)
        self.history = history if history is not None else History()
        self.device = device or torch.device("cpu")
        self.amp = amp
        self.description = description
        self.stop_reason = None
        self.best_epoch = None
        self.validate_every = validate_every
        self.batch_weight = batch_weight
        self.rank, self.world_size = rank_and_world_size()
        self.is_main_process = self.rank == 0
        #: optimiser steps taken in this run (``on_batch_end`` sees the count after its step)
        self.step = 0
        #: epochs begun in this run (the one a stop interrupts included)
        self.epochs_run = 0

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _record(self, epoch: int, losses: list, started: float, validate: bool = True) -> None:
        """Close a round (an epoch, or ``validate_every`` steps): validate, log, call back."""
        # one device sync per round, not per batch
        batch_losses = torch.stack(losses).double().cpu().tolist() if losses else []
        train_loss = math.fsum(batch_losses) / max(len(batch_losses), 1)
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"The training loss became {train_loss} at epoch {epoch} (step {self.step}). "
                "Lower learning_rate (e.g. by 10x), or check the data for extreme values of y."
            )
        record = {"epoch": epoch, "step": self.step, "train_loss": train_loss}
        if self.validate is not None and validate:
            values = None
            if self.is_main_process:  # rank 0 validates, the others get its figures
                self.module.eval()
                with torch.no_grad(), autocast(self.device, self.amp):
                    values = {f"valid_{k}": float(v) for k, v in self.validate().items()}
                self.module.train()
            record.update(broadcast_object(values))
        record["seconds"] = time.perf_counter() - started
        self.history.append(record)
        self.history.append_batches(batch_losses)
        log = logger.info if self.is_main_process else logger.debug
        log(
            "%s epoch %d step %d: %s",
            self.description,
            epoch,
            self.step,
            ", ".join(
                f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in record.items()
                if k not in ("epoch", "step")
            ),
            extra={"skseqrec_record": dict(record)},
        )
        self._call("on_epoch_end", record)
        if self.world_size > 1:  # every rank stops when rank 0 does
            self.stop_reason = broadcast_object(self.stop_reason)

    def _step_loss(self, batch):
        """This process's loss on its share of the batch, and the share's weight."""
        weight = 1.0
        if self.world_size > 1 and self.batch_weight is not None:
            weight = self.batch_weight(batch)  # a number or a tensor (no device sync)
        # an empty share is still passed to loss_fn: its loss is 0 with zero gradients,
        # and the random draws it makes (shared negatives) keep the ranks' streams in step
        with autocast(self.device, self.amp):
            return self.loss_fn(batch), weight

    def _run_epoch(self, epoch: int) -> None:
        started = time.perf_counter()
        self.module.train()
        losses = []
        for index, batch in enumerate(self.batches(epoch)):
            loss, weight = self._step_loss(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            loss = loss.detach()
            if self.world_size > 1:
                loss = average_gradients(self.module.parameters(), loss, weight)
            self._call("on_after_backward")
            self.optimizer.step()
            self.step += 1
            losses.append(loss)
            if self.device.type == "cpu" and self.step % self.RELEASE_EVERY == 0:
                release_host_memory()
            self._call("on_batch_end", index, losses[-1])
            if self.validate_every and self.step % self.validate_every == 0:
                self._record(epoch, losses, started)
                losses, started = [], time.perf_counter()
                if self.stop_reason is not None:
                    return
        if losses or not self.validate_every:
            # with validate_every, an epoch's end is recorded (its training loss) but not
            # validated: validation runs every validate_every steps, on any dataset size
            self._record(epoch, losses, started, validate=not self.validate_every)

    def run(self) -> Trainer:
        """Train; on KeyboardInterrupt stop, warn and return normally.

        The module then holds the best epoch's weights when a callback restores them
        (:class:`EarlyStopping` with ``restore_best=True``), otherwise the weights at the
        moment of the interrupt (which may be part-way through an unrecorded epoch).
        """
        broadcast_parameters(self.module)  # every rank starts from rank 0's weights
        self._call("on_train_begin")
        first = self.history.last_epoch + 1
        try:
            for epoch in range(first, first + self.epochs):
                self._call("on_epoch_begin")
                self._run_epoch(epoch)
                self.epochs_run += 1
                if self.stop_reason is not None:
                    break
            else:
                self.stop_reason = f"reached epochs={self.epochs}"
        except KeyboardInterrupt:
            self.stop_reason = (
                f"interrupted (KeyboardInterrupt) at step {self.step} "
                f"(epoch {first + self.epochs_run})"
            )
            warnings.warn(
                f"Training was interrupted after {self.history.last_epoch} epoch(s); the model "
                "keeps the best weights seen so far (with early stopping), otherwise the "
                "weights it had when interrupted.",
                SkseqrecWarning,
                stacklevel=user_stacklevel(),
            )
        finally:
            self._call("on_train_end")
            self.module.eval()
        return self

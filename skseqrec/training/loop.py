"""The training loop, independent of any model: batches in, loss out, callbacks around."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable

import torch

from ..exceptions import SkseqrecWarning, user_stacklevel
from .device import autocast
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
        ``validate() -> dict`` of metric name -> float, called after every epoch
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
    """

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
        #: optimiser steps taken in this run (``on_batch_end`` sees the count after its step)
        self.step = 0

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _run_epoch(self, epoch: int) -> tuple[dict, list]:
        started = time.perf_counter()
        self.module.train()
        losses = []
        for index, batch in enumerate(self.batches(epoch)):
            with autocast(self.device, self.amp):
                loss = self.loss_fn(batch)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self._call("on_after_backward")
            self.optimizer.step()
            self.step += 1
            losses.append(loss.detach())
            self._call("on_batch_end", index, losses[-1])
        # one device sync per epoch, not per batch
        batch_losses = torch.stack(losses).double().cpu().tolist() if losses else []
        train_loss = math.fsum(batch_losses) / max(len(batch_losses), 1)
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"The training loss became {train_loss} at epoch {epoch}. Lower learning_rate "
                "(e.g. by 10x), or check the data for extreme values of y."
            )
        record = {"epoch": epoch, "train_loss": train_loss}
        if self.validate is not None:
            self.module.eval()
            with torch.no_grad(), autocast(self.device, self.amp):
                record.update({f"valid_{k}": float(v) for k, v in self.validate().items()})
        record["seconds"] = time.perf_counter() - started
        return record, batch_losses

    def run(self) -> Trainer:
        """Train; on KeyboardInterrupt stop, warn and return normally.

        The module then holds the best epoch's weights when a callback restores them
        (:class:`EarlyStopping` with ``restore_best=True``), otherwise the weights at the
        moment of the interrupt (which may be part-way through an unrecorded epoch).
        """
        self._call("on_train_begin")
        first = self.history.last_epoch + 1
        try:
            for epoch in range(first, first + self.epochs):
                self._call("on_epoch_begin")
                record, batch_losses = self._run_epoch(epoch)
                self.history.append(record)
                self.history.append_batches(batch_losses)
                logger.info(
                    "%s epoch %d: %s",
                    self.description,
                    epoch,
                    ", ".join(
                        f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in record.items()
                        if k != "epoch"
                    ),
                    extra={"skseqrec_record": dict(record)},
                )
                self._call("on_epoch_end", record)
                if self.stop_reason is not None:
                    break
            else:
                self.stop_reason = f"reached epochs={self.epochs}"
        except KeyboardInterrupt:
            self.stop_reason = f"interrupted (KeyboardInterrupt) after {len(self.history)} epochs"
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

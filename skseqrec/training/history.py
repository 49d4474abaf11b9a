"""Training records: one per round (an epoch, or ``validate_every`` optimiser steps)."""

from __future__ import annotations

import pandas as pd

__all__ = ["History"]


class History:
    """Round records (``epoch``, ``step``, ``train_loss``, ``valid_*``, ``seconds``) and the
    loss of every optimiser step (``batch_losses``: one list per record).

    A round is an epoch, or ``validate_every`` steps of the :class:`Trainer` (then an epoch
    may have several records, each with the step it ended at).

    Examples
    --------
    >>> from skseqrec.training import History
    >>> history = History()
    >>> history.append({"epoch": 1, "step": 2, "train_loss": 0.9, "valid_ndcg@10": 0.10,
    ...                 "seconds": 0.5})
    >>> history.append_batches([1.0, 0.8])
    >>> history.append({"epoch": 2, "step": 4, "train_loss": 0.7, "valid_ndcg@10": 0.15,
    ...                 "seconds": 0.5})
    >>> history.append_batches([0.75, 0.65])
    >>> len(history), history.last_epoch
    (2, 2)
    >>> history.to_frame()
       epoch  step  train_loss  valid_ndcg@10  seconds
    0      1     2         0.9           0.10      0.5
    1      2     4         0.7           0.15      0.5
    >>> history.batches_frame()
       epoch  batch  train_loss
    0      1      0        1.00
    1      1      1        0.80
    2      2      0        0.75
    3      2      1        0.65
    """

    def __init__(self, records=None, batch_losses=None):
        self.records = list(records or [])
        self.batch_losses = [list(b) for b in (batch_losses or [])]

    def __setstate__(self, state):
        # histories pickled before batch losses were recorded have none
        state.setdefault("batch_losses", [])
        self.__dict__.update(state)

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def append_batches(self, losses) -> None:
        """Losses of the optimiser steps of the epoch whose record comes next."""
        self.batch_losses.append([float(v) for v in losses])

    def copy(self) -> History:
        return History(self.records, self.batch_losses)

    def batches_frame(self) -> pd.DataFrame:
        """One row per optimiser step: ``epoch``, ``batch`` (from 0), ``train_loss``."""
        # records restored from an older file may have no batch losses: align from the end
        epochs = [r["epoch"] for r in self.records][len(self.records) - len(self.batch_losses) :]
        rows, previous, index = [], None, 0
        for epoch, losses in zip(epochs, self.batch_losses):
            if epoch != previous:  # several rounds of one epoch continue its batch count
                previous, index = epoch, 0
            for loss in losses:
                rows.append((epoch, index, loss))
                index += 1
        frame = pd.DataFrame(rows, columns=["epoch", "batch", "train_loss"])
        return frame.astype({"epoch": "int64", "batch": "int64", "train_loss": "float64"})

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last_epoch(self) -> int:
        return self.records[-1]["epoch"] if self.records else 0

    def to_frame(self) -> pd.DataFrame:
        columns = ["epoch", "step", "train_loss"]
        extra = sorted({k for r in self.records for k in r} - {*columns, "seconds"})
        frame = pd.DataFrame(self.records, columns=columns + extra + ["seconds"])
        # records from before the step counter have no step
        return frame.astype({"epoch": "int64", "step": "Int64"})

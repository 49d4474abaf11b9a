"""Per-epoch training records."""

from __future__ import annotations

import pandas as pd

__all__ = ["History"]


class History:
    """A list of per-epoch dicts (``epoch``, ``train_loss``, ``valid_*``, ``seconds``)."""

    def __init__(self, records=None):
        self.records = list(records or [])

    def append(self, record: dict) -> None:
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last_epoch(self) -> int:
        return self.records[-1]["epoch"] if self.records else 0

    def to_frame(self) -> pd.DataFrame:
        columns = ["epoch", "train_loss"]
        extra = sorted({k for r in self.records for k in r} - {"epoch", "train_loss", "seconds"})
        frame = pd.DataFrame(self.records, columns=columns + extra + ["seconds"])
        return frame.astype({"epoch": "int64"})

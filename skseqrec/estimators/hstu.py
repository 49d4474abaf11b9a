"""HSTU (Zhai et al., ICML 2024) as a next-item retriever over timestamped sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..data.validation import to_pandas
from ..nn import (
    HSTUBlock,
    LearnablePositionalEmbedding,
    SequenceEncoder,
    infonce_loss,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["HSTUEstimator"]

_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


class HSTUEstimator(TransformerRecommender):
    """HSTU: pointwise SiLU attention with relative position and time-gap biases.

    Item embeddings scaled by sqrt(d) plus learnable positions (from the window's first
    event; never on padding), dropout, ``num_blocks`` HSTU layers (``U, V, Q, K =
    SiLU(W LN(x))``, attention ``SiLU(QK^T + rab) / max_len`` without softmax, output
    ``x + W_o(LN(AV) * U)``; ``rab`` = learned relative-position bias + learned bias of
    the log-bucketed time gap between query and key). Scores are cosine similarities;
    trained with a sampled softmax at temperature ``temperature`` against
    ``num_negatives`` uniform negatives (accidental hits removed), AdamW with betas
    (0.9, 0.98). Defaults are the paper's ML-1M configuration.

    The time column is read by the model: times are converted to seconds (datetime
    columns always; numeric columns are taken in ``time_unit``). Each query's time gaps are
    measured from its own event (HSTU's code uses the next event's time, which a served
    request does not have).

    Parameters
    ----------
    hidden_units : int, default=50
    num_blocks : int, default=2
    num_heads : int, default=1
    dropout_rate : float, default=0.2
    num_negatives : int, default=128
    negative_sampling : {"shared", "per_position"}, default="shared"
        Negatives shared by the batch (one matmul) or drawn per position (the paper).
    temperature : float, default=0.05
    time_unit : {"s", "ms", "us", "ns"}, default="s"
        Unit of a numeric time column.
    max_len : int, default=200
    learning_rate : float, default=0.001
    epochs : int, default=100
    batch_size : int, default=128
    weight_decay : float, default=0.0
    early_stopping_patience : int or None, default=None
    restore_best_weights : bool, default=True
    validation : {"last_event", "time"} or None, default="last_event"
    validation_fraction : float, default=0.1
    monitor : str, default="ndcg@10"
    random_state : int, RandomState or None, default=42
    verbose : int, default=0
    device : str, default="auto"
    warm_start : bool, default=False
    user_col, item_col, time_col : str

    Examples
    --------
    >>> from skseqrec import HSTUEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> est = HSTUEstimator(epochs=2, hidden_units=16, num_negatives=8).fit(X)
    >>> est.recommend(X, top_k=2).shape
    (100, 4)
    """

    _param_specs = {
        **COMMON_PARAMS,
        "num_negatives": P.Interval(int, 1),
        "negative_sampling": P.Options("shared", "per_position"),
        "temperature": P.Interval(float, 0.0, None, closed="neither"),
        "time_unit": P.Options(*_SECONDS),
    }
    _y_range = None
    _optimizer_class = torch.optim.AdamW
    _uses_times = True

    def __init__(
        self,
        *,
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        num_negatives=128,
        negative_sampling="shared",
        temperature=0.05,
        time_unit="s",
        max_len=200,
        learning_rate=0.001,
        epochs=100,
        batch_size=128,
        weight_decay=0.0,
        early_stopping_patience=None,
        restore_best_weights=True,
        validation="last_event",
        validation_fraction=0.1,
        monitor="ndcg@10",
        random_state=42,
        verbose=0,
        device="auto",
        warm_start=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        P.store_params(self, locals())

    def _fit(self, X, y, X_valid):
        # the time column must be meaningful; ``fit`` (inherited) restores the previous
        # state, seconds_per_time_unit_ included, when this raises
        frame = to_pandas(X)
        self._check_params()
        column = frame[self.time_col] if self.time_col in frame.columns else None
        # validation turns datetimes into int64 nanoseconds (a missing or duplicated column
        # is reported by the validation in fit)
        is_datetime = isinstance(column, pd.Series) and (
            pd.api.types.is_datetime64_any_dtype(column.dtype)
            or isinstance(column.dtype, pd.DatetimeTZDtype)
        )
        self.seconds_per_time_unit_ = 1e-9 if is_datetime else _SECONDS[self.time_unit]
        return super()._fit(frame, y, X_valid)

    def _model_times(self, times):
        return np.asarray(times, dtype=np.float64) * self.seconds_per_time_unit_

    def _build_module(self, n_items):
        d = self.hidden_units
        return SequenceEncoder(
            n_items,
            d,
            [
                HSTUBlock(d, self.num_heads, self.dropout_rate, self.max_len)
                for _ in range(self.num_blocks)
            ],
            LearnablePositionalEmbedding(self.max_len, d, from_end=False),
            dropout=self.dropout_rate,
            final_norm=False,
            scale_embeddings=True,
            similarity="cosine",
        )

    def _objective(self, module, hidden, targets, valid, labels, generator, window):
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        negatives = self._draw_negatives(module, targets, generator)
        return infonce_loss(
            positive,
            module.score_items(hidden, negatives),
            valid,
            temperature=self.temperature,
            positive_items=targets,
            negative_items=negatives,
        )

"""BERT4Rec (Sun et al., CIKM 2019): bidirectional encoder trained to fill masked items."""

from __future__ import annotations

import torch

from ..nn import (
    LearnablePositionalEmbedding,
    PreNormBlock,
    SequenceEncoder,
    full_softmax_loss,
    sampled_softmax_loss,
    shared_negatives,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["BERT4RecEstimator"]


class BERT4RecEstimator(TransformerRecommender):
    """BERT4Rec: a bidirectional transformer trained with the masked-item (cloze) objective.

    Each training window (a user's most recent ``max_len`` events) has every event
    replaced by a ``[MASK]`` token with probability ``mask_prob`` (a row with no masked
    event gets its last one masked); the model predicts the masked items from both sides.
    To recommend, ``[MASK]`` is appended after the user's most recent ``max_len - 1``
    events and the model predicts it. Pre-norm blocks with GELU FFN, learnable positions
    counted from the end (never on padding), tied output.

    Parameters
    ----------
    hidden_units : int, default=64
    num_blocks : int, default=2
    num_heads : int, default=2
    dropout_rate : float, default=0.1
    mask_prob : float, default=0.2
        Share of events masked in each training window.
    loss : {"softmax", "sampled_softmax"}, default="softmax"
        Full cross-entropy over the catalogue at the masked positions, or a sampled
        softmax against ``num_negatives`` negatives shared by the batch.
    num_negatives : int, default=256
        Only used with ``loss="sampled_softmax"``.
    max_len : int, default=200
        Window length, the ``[MASK]`` slot included at recommendation time.
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

    See :class:`SASRecClassifierEstimator` for the shared attributes and methods.

    Examples
    --------
    >>> from skseqrec import BERT4RecEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> est = BERT4RecEstimator(epochs=2, hidden_units=16).fit(X)
    >>> est.recommend(X, top_k=2).shape
    (100, 4)
    """

    _param_specs = {
        **COMMON_PARAMS,
        "mask_prob": P.Interval(float, 0.0, 1.0, closed="right"),
        "loss": P.Options("softmax", "sampled_softmax"),
        "num_negatives": P.Interval(int, 1),
        "max_len": P.Interval(int, 2),
    }
    _y_range = None  # y is not used by this objective

    def __init__(
        self,
        *,
        hidden_units=64,
        num_blocks=2,
        num_heads=2,
        dropout_rate=0.1,
        mask_prob=0.2,
        loss="softmax",
        num_negatives=256,
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

    def _build_module(self, n_items):
        d = self.hidden_units
        return SequenceEncoder(
            n_items,
            d,
            [PreNormBlock(d, self.num_heads, self.dropout_rate) for _ in range(self.num_blocks)],
            LearnablePositionalEmbedding(self.max_len, d),
            dropout=self.dropout_rate,
            causal=False,
            n_special=1,  # [MASK] = n_items + 1
        )

    def _loss(self, module, batch, generator):
        sequence = batch["sequence"][:, -self.max_len :]
        valid = sequence != 0
        if batch.get("last_only"):
            masked = torch.zeros_like(valid)
            masked[:, -1] = valid[:, -1]
        else:
            draws = torch.rand(sequence.shape, generator=generator, device=generator.device)
            masked = (draws.to(sequence.device) < self.mask_prob) & valid
            none = ~masked.any(dim=1)
            masked[:, -1] |= none & valid[:, -1]  # left padding: the last column is real
        inputs = torch.where(masked, module.n_items + 1, sequence)
        hidden = module(inputs)[masked]  # (M, d): only masked positions are scored
        targets = sequence[masked]
        every = torch.ones_like(targets, dtype=torch.bool)
        if self.loss == "softmax":
            return full_softmax_loss(module.score_all(hidden), targets, every)
        negatives = shared_negatives(self.num_negatives, module.n_items, generator=generator)
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        return sampled_softmax_loss(
            positive,
            module.score_items(hidden, negatives),
            every,
            positive_items=targets,
            negative_items=negatives,
        )

    def _score_windows(self, windows, times):
        if windows.shape[1] >= self.max_len:  # make room for the [MASK] slot
            windows = windows[:, windows.shape[1] - self.max_len + 1 :]
        mask = torch.full_like(windows[:, :1], self.module_.n_items + 1)
        return self.module_.score_all(self.module_.encode_last(torch.cat([windows, mask], 1)))

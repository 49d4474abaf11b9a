"""The "modern stack" sequential retriever: RoPE, SwiGLU, RMSNorm pre-LN, InfoNCE."""

from __future__ import annotations

import torch
from torch import nn

from ..nn import (
    NoPositionalEmbedding,
    PreNormBlock,
    RotaryEmbedding,
    SequenceEncoder,
    in_batch_negatives,
    infonce_loss,
    sampling_log_q,
    shared_negatives,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["SequentialTransformerEstimator"]


class SequentialTransformerEstimator(TransformerRecommender):
    """A decoder-only retriever built from today's standard parts.

    Item embeddings (no absolute positions), ``num_blocks`` pre-norm blocks with RMSNorm,
    bias-free causal attention with rotary positions (RoPE: attention depends only on how
    far back an event is) and a SwiGLU feed-forward, a final RMSNorm, tied output.
    Scores are cosine similarities; every position is trained with InfoNCE at
    ``temperature`` against ``num_in_batch_negatives`` items drawn from the batch's own
    targets (popularity-distributed, so a logQ correction is applied) plus
    ``num_negatives`` uniform negatives, accidental hits removed. AdamW, betas
    (0.9, 0.98).

    Parameters
    ----------
    hidden_units : int, default=256
    num_blocks : int, default=4
    num_heads : int, default=8
    dropout_rate : float, default=0.1
    num_in_batch_negatives : int, default=1024
        Negatives drawn from the targets of the batch (shared by all positions).
    num_negatives : int, default=0
        Extra uniform negatives over the catalogue (shared by all positions).
    logq_correction : bool, default=True
        Subtract the log of each item's expected number of draws from its logit
        (Yi et al., 2019), which undoes the popularity bias of in-batch negatives.
    temperature : float, default=0.05
    ff_multiplier : int, default=4
    max_len : int, default=200
    learning_rate : float, default=0.001
    epochs : int, default=100
    batch_size : int, default=128
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay.
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
    >>> from skseqrec import SequentialTransformerEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> est = SequentialTransformerEstimator(epochs=2, hidden_units=16, num_heads=2)
    >>> est.fit(X).recommend(X, top_k=2).shape
    (100, 4)
    """

    _param_specs = {
        **COMMON_PARAMS,
        "num_in_batch_negatives": P.Interval(int, 0),
        "num_negatives": P.Interval(int, 0),
        "logq_correction": P.Boolean(),
        "temperature": P.Interval(float, 0.0, None, closed="neither"),
        "ff_multiplier": P.Interval(int, 1),
    }
    _y_range = None
    _optimizer_class = torch.optim.AdamW

    def __init__(
        self,
        *,
        hidden_units=256,
        num_blocks=4,
        num_heads=8,
        dropout_rate=0.1,
        num_in_batch_negatives=1024,
        num_negatives=0,
        logq_correction=True,
        temperature=0.05,
        ff_multiplier=4,
        max_len=200,
        learning_rate=0.001,
        epochs=100,
        batch_size=128,
        weight_decay=0.01,
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

    def _check_params(self):
        super()._check_params()
        if self.num_in_batch_negatives + self.num_negatives == 0:
            raise ValueError(
                "num_in_batch_negatives and num_negatives are both 0: InfoNCE needs negatives."
            )
        if (self.hidden_units // self.num_heads) % 2:
            raise ValueError(
                f"RoPE needs an even head size; hidden_units={self.hidden_units} / "
                f"num_heads={self.num_heads} is odd."
            )

    def _build_module(self, n_items):
        d = self.hidden_units
        head = d // self.num_heads
        blocks = [
            PreNormBlock(
                d,
                self.num_heads,
                self.dropout_rate,
                self.ff_multiplier,
                norm=nn.RMSNorm,
                swiglu=True,
                rotary=RotaryEmbedding(head),
                bias=False,
            )
            for _ in range(self.num_blocks)
        ]
        encoder = SequenceEncoder(
            n_items,
            d,
            blocks,
            NoPositionalEmbedding(),
            dropout=self.dropout_rate,
            norm=nn.RMSNorm,
            similarity="cosine",
        )
        # Each item's share of training targets, for the logQ correction: computed once and
        # moved with the module (not a weight: left out of the state dict).
        counts = torch.zeros(n_items + 1)
        if hasattr(self, "item_counts_") and len(self.item_counts_) == n_items + 1:
            counts = torch.as_tensor(self.item_counts_, dtype=torch.float32)
        encoder.register_buffer(
            "target_popularity", counts / counts.sum().clamp_min(1.0), persistent=False
        )
        return encoder

    def _objective(self, module, hidden, targets, valid, labels, generator, window):
        parts = []
        if self.num_in_batch_negatives:
            parts.append(
                in_batch_negatives(targets, valid, self.num_in_batch_negatives, generator=generator)
            )
        if self.num_negatives:
            parts.append(shared_negatives(self.num_negatives, module.n_items, generator=generator))
        negatives = torch.cat(parts).to(targets.device)
        positive_log_q = negative_log_q = None
        if self.logq_correction:
            popularity = module.target_popularity
            n_in_batch = len(parts[0]) if self.num_in_batch_negatives else 0
            positive_log_q = sampling_log_q(targets, popularity, n_in_batch, self.num_negatives)
            negative_log_q = sampling_log_q(negatives, popularity, n_in_batch, self.num_negatives)
        return infonce_loss(
            module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1),
            module.score_items(hidden, negatives),
            valid,
            temperature=self.temperature,
            positive_log_q=positive_log_q,
            negative_log_q=negative_log_q,
            positive_items=targets,
            negative_items=negatives,
        )

"""gSASRec: SASRec trained with generalised BCE (Petrov & Macdonald, RecSys 2023)."""

from __future__ import annotations

from ..nn import (
    LearnablePositionalEmbedding,
    PreNormBlock,
    SequenceEncoder,
    accidental_hits,
    gbce_beta,
    gbce_loss,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["GSASRecEstimator"]


class GSASRecEstimator(TransformerRecommender):
    """gSASRec: SASRec's encoder, ``k`` uniform negatives and the gBCE loss.

    gBCE raises the positive probability to ``beta = alpha (t (1 - 1/alpha) + 1/alpha)``
    with ``alpha = k / (|I| - 1)``, which counters the overconfidence BCE learns from
    negative sampling; ``t = 0`` is plain BCE, ``t = 1`` fully calibrated. Defaults follow
    the paper's ML-1M configuration (128 dims, 2 blocks, dropout 0.5, 256 negatives,
    t = 0.75, separate output item embeddings).

    Parameters
    ----------
    hidden_units : int, default=128
    num_blocks : int, default=2
    num_heads : int, default=1
    dropout_rate : float, default=0.5
    num_negatives : int, default=256
    gbce_t : float, default=0.75
        Calibration parameter ``t`` in [0, 1].
    negative_sampling : {"shared", "per_position"}, default="shared"
    tied_embeddings : bool, default=False
        Score with the input item table (``True``) or a separate output table.
    remove_accidental_hits : bool, default=True
        Leave negatives that equal the position's positive out of the loss (the paper's
        code keeps them; with a small catalogue they push the positive down).
    max_len : int, default=200
    learning_rate, epochs, batch_size, weight_decay, early_stopping_patience,
    restore_best_weights, validation, validation_fraction, monitor, random_state, verbose,
    device, warm_start, user_col, item_col, time_col
        As in :class:`SASRecClassifierEstimator` (``epochs`` default 100).

    Examples
    --------
    >>> from skseqrec import GSASRecEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=200, random_state=0)
    >>> GSASRecEstimator(epochs=1, hidden_units=16, num_negatives=8).fit(X).n_epochs_
    1
    """

    _param_specs = {
        **COMMON_PARAMS,
        "num_negatives": P.Interval(int, 1),
        "gbce_t": P.Interval(float, 0.0, 1.0),
        "negative_sampling": P.Options("shared", "per_position"),
        "tied_embeddings": P.Boolean(),
        "remove_accidental_hits": P.Boolean(),
    }
    _y_range = None

    def __init__(
        self,
        *,
        hidden_units=128,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.5,
        num_negatives=256,
        gbce_t=0.75,
        negative_sampling="shared",
        tied_embeddings=False,
        remove_accidental_hits=True,
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
            final_norm=True,
            tied=self.tied_embeddings,
        )

    def _objective(self, module, hidden, targets, valid, labels, generator, window):
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        negatives = self._draw_negatives(module, targets, generator)
        negative = module.score_items(hidden, negatives)
        hits = (
            accidental_hits(negatives, targets, negative.shape)
            if self.remove_accidental_hits
            else None
        )
        beta = gbce_beta(self.num_negatives, module.n_items, self.gbce_t)
        return gbce_loss(positive, negative, valid, beta=beta, hits=hits)

"""SASRec next-item classifier (Kang & McAuley 2018, as the scikit-rec guide describes it)."""

from __future__ import annotations

from ..nn import (
    LearnablePositionalEmbedding,
    PreNormBlock,
    SequenceEncoder,
    bce_negatives_loss,
    uniform_negatives,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["SASRecClassifierEstimator"]


class SASRecClassifierEstimator(TransformerRecommender):
    """SASRec trained with binary cross-entropy against uniform negatives.

    The encoder: item embeddings (padding row 0, kept at zero), learnable positions
    counted from the most recent event and never added to padding, ``num_blocks``
    pre-norm blocks of causal multi-head self-attention (``scaled_dot_product_attention``
    with a key-padding mask) and a GELU feed-forward of ``4 * hidden_units``, dropout,
    a final LayerNorm and weight-tied output. Every non-padding position is trained to
    score its next event above ``num_negatives`` uniformly drawn items; the negative term
    is averaged over the negatives (scikit-rec's normalisation).

    Parameters
    ----------
    hidden_units : int, default=50
        Embedding and attention size.
    num_blocks : int, default=2
    num_heads : int, default=1
        Must divide ``hidden_units``.
    dropout_rate : float, default=0.2
    num_negatives : int, default=1
        Uniform negatives per position (positives are not excluded).
    max_len : int, default=50
        Most recent events used as input.
    learning_rate : float, default=0.001
        Adam, betas (0.9, 0.98).
    epochs : int, default=200
        Upper bound; early stopping may stop sooner.
    batch_size : int, default=128
    weight_decay : float, default=0.0
    early_stopping_patience : int or None, default=None
        Stop after this many epochs without improvement of ``monitor``.
    restore_best_weights : bool, default=True
    validation : {"last_event", "time"} or None, default="last_event"
        How early stopping gets data when ``X_valid`` is not passed: the last event of a
        random ``validation_fraction`` of users with >= 3 events is held out, or every
        event after the time leaving ``validation_fraction`` of events is held out and each
        user's first such event is the target. Only used when early stopping is on.
    validation_fraction : float, default=0.1
    monitor : str, default="ndcg@10"
        ``"ndcg@10"``, ``"hit_rate@10"``, ``"mrr@10"``, ``"ndcg@20"``, ``"hit_rate@20"``
        (full ranking, history excluded) or ``"loss"``.
    random_state : int, RandomState or None, default=42
        Seeds this estimator's own generators (global torch/numpy state is left as it was).
    verbose : int, default=0
        1 shows a progress bar.
    device : str, default="auto"
        "auto" = CUDA when available (bf16 autocast), else CPU.
    warm_start : bool, default=False
        The next ``fit`` continues from the fitted weights; new items extend the catalogue.
    user_col, item_col, time_col : str
        Column names, default ``"user_id"``, ``"item_id"``, ``"timestamp"``.

    Attributes
    ----------
    classes_ : ndarray
        Item ids the model can recommend, sorted.
    n_items_ : int
    n_users_seen_ : int
    n_dropped_users_ : int
        Users with a single event in ``X`` (no training sequence).
    history_ : DataFrame
        One row per epoch: ``epoch``, ``train_loss``, ``valid_<monitor>``, ``seconds``.
    n_epochs_, best_epoch_ : int
    stop_reason_ : str
    module_ : torch.nn.Module
    item_counts_ : ndarray
        Training events per item code (popularity fallback for empty histories).

    Notes
    -----
    ``y`` (optional) holds soft labels in [0, 1] per event (scikit-rec's OUTCOME); it
    replaces the positive label of the event when that event is a target.

    Examples
    --------
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=200, random_state=0)
    >>> est = SASRecClassifierEstimator(epochs=2, hidden_units=16).fit(X)
    >>> est.recommend(X, top_k=3).shape
    (150, 4)
    """

    _param_specs = {**COMMON_PARAMS, "num_negatives": P.Interval(int, 1)}

    def __init__(
        self,
        *,
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        num_negatives=1,
        max_len=50,
        learning_rate=0.001,
        epochs=200,
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
        self.hidden_units = hidden_units
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.dropout_rate = dropout_rate
        self.num_negatives = num_negatives
        self.max_len = max_len
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.early_stopping_patience = early_stopping_patience
        self.restore_best_weights = restore_best_weights
        self.validation = validation
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.warm_start = warm_start
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def _build_module(self, n_items):
        d = self.hidden_units
        return SequenceEncoder(
            n_items,
            d,
            [PreNormBlock(d, self.num_heads, self.dropout_rate) for _ in range(self.num_blocks)],
            LearnablePositionalEmbedding(self.max_len, d, from_end=True),
            dropout=self.dropout_rate,
            final_norm=True,
        )

    def _objective(self, module, hidden, targets, valid, labels, generator):
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        negatives = uniform_negatives(
            (*targets.shape, self.num_negatives), module.n_items, generator=generator
        )
        negative = module.score_items(hidden, negatives)
        return bce_negatives_loss(positive, negative, valid, labels)

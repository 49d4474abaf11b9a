"""SASRec next-item classifier (Kang & McAuley 2018, as the scikit-rec guide describes it)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ..nn import (
    LearnablePositionalEmbedding,
    NoPositionalEmbedding,
    PostNormBlock,
    PreNormBlock,
    RatingModel,
    RotaryEmbedding,
    SequenceEncoder,
    bce_negatives_loss,
    mse_loss,
    uniform_negatives,
)
from . import _params as P
from ._transformer import COMMON_PARAMS, TransformerRecommender

__all__ = ["SASRecClassifierEstimator", "SASRecRegressorEstimator"]

ENCODER_PARAMS = {
    "block": P.Options("pre_norm", "post_norm"),
    "positional": P.Options("from_end", "from_start", "rope", "none"),
}


def sasrec_encoder(est, n_items: int) -> SequenceEncoder:
    """The SASRec encoder with ``est``'s size, block and positional options."""
    d = est.hidden_units
    rotary = RotaryEmbedding(d // est.num_heads) if est.positional == "rope" else None
    if est.block == "post_norm":
        if rotary is not None:
            raise ValueError("positional='rope' needs block='pre_norm'.")
        blocks = [PostNormBlock(d, est.num_heads, est.dropout_rate) for _ in range(est.num_blocks)]
    else:
        blocks = [
            PreNormBlock(d, est.num_heads, est.dropout_rate, rotary=rotary)
            for _ in range(est.num_blocks)
        ]
    if est.positional in ("from_end", "from_start"):
        positional = LearnablePositionalEmbedding(
            est.max_len, d, from_end=est.positional == "from_end"
        )
    else:
        positional = NoPositionalEmbedding()
    return SequenceEncoder(
        n_items,
        d,
        blocks,
        positional,
        dropout=est.dropout_rate,
        final_norm=True,
        # the original (post-norm) SASRec scales embeddings by sqrt(d)
        scale_embeddings=est.block == "post_norm",
    )


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
        Uniform negatives per position.
    exclude_history_negatives : bool, default=False
        Redraw negatives that are in the row's own training window (the original SASRec
        samples negatives outside the user's sequence); the few that are still hits after
        one redraw are left out of the loss. ``False`` samples the whole catalogue
        (scikit-rec), so an item the user interacted with elsewhere can be a negative.
    block : {"pre_norm", "post_norm"}, default="pre_norm"
        ``"post_norm"``: the original SASRec block (LayerNorm on queries, residual to the
        normalised input, ReLU FFN of ``hidden_units``, embeddings scaled by sqrt(d)).
    positional : {"from_end", "from_start", "rope", "none"}, default="from_end"
        Learnable positions counted from the most recent event (what left-padded
        fixed-width SASRec amounts to) or from the first event of the window; rotary
        positions (relative: attention depends only on how far back a key is, correct at
        every position of a packed causal batch, Huang et al.); or no positions. Padding
        never receives a position.
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

    _param_specs = {
        **COMMON_PARAMS,
        **ENCODER_PARAMS,
        "num_negatives": P.Interval(int, 1),
        "exclude_history_negatives": P.Boolean(),
    }

    def __init__(
        self,
        *,
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        num_negatives=1,
        exclude_history_negatives=False,
        block="pre_norm",
        positional="from_end",
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
        P.store_params(self, locals())

    def _build_module(self, n_items):
        return sasrec_encoder(self, n_items)

    def _objective(self, module, hidden, targets, valid, labels, generator, window):
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        shape = (*targets.shape, self.num_negatives)
        negatives = uniform_negatives(shape, module.n_items, generator=generator)
        hits = None
        if self.exclude_history_negatives:
            in_history = (negatives.unsqueeze(-1) == window[:, None, None, :]).any(-1)
            redrawn = uniform_negatives(shape, module.n_items, generator=generator)
            negatives = torch.where(in_history, redrawn, negatives)
            hits = (negatives.unsqueeze(-1) == window[:, None, None, :]).any(-1)
        negative = module.score_items(hidden, negatives)
        return bce_negatives_loss(positive, negative, valid, labels, hits=hits)


class SASRecRegressorEstimator(TransformerRecommender):
    """SASRec that predicts the rating of the next event (MSE on ``y``).

    The encoder of :class:`SASRecClassifierEstimator`; the predicted rating of item ``i``
    after a history is ``mean + <h, e_i> + b_i`` (global mean of ``y``, tied item vector,
    learned item bias). Every non-padding position is trained on the rating of its next
    event. ``y`` is required: one rating per row of ``X``.

    Parameters
    ----------
    hidden_units : int, default=50
    num_blocks : int, default=2
    num_heads : int, default=1
    dropout_rate : float, default=0.2
    block : {"pre_norm", "post_norm"}, default="pre_norm"
    positional : {"from_end", "from_start", "rope", "none"}, default="from_end"
    max_len : int, default=50
    learning_rate : float, default=0.001
    epochs : int, default=200
    batch_size : int, default=128
    weight_decay : float, default=0.0
    early_stopping_patience : int or None, default=None
        Early stopping monitors ``"loss"`` (validation MSE) unless ``monitor`` says
        otherwise; the ranking metrics rank by predicted rating.
    restore_best_weights : bool, default=True
    validation : {"last_event", "time"} or None, default="last_event"
    validation_fraction : float, default=0.1
    monitor : str, default="loss"
    random_state : int, RandomState or None, default=42
    verbose : int, default=0
    device : str, default="auto"
    warm_start : bool, default=False
    user_col, item_col, time_col : str

    Notes
    -----
    ``predict(X)`` returns, for every row, the predicted rating of that row's item given
    the user's earlier rows (a first event, or an item unknown to the model, gets
    ``mean + b_i`` or the global mean). ``recommend`` ranks items by predicted rating.
    ``score(X, y)`` is minus the RMSE on each user's last row given the rows before it,
    the same held-out events as the classifiers' ``score``.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec import SASRecRegressorEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> y = np.random.default_rng(0).integers(1, 6, len(X)).astype(float)
    >>> est = SASRecRegressorEstimator(epochs=2, hidden_units=16).fit(X, y)
    >>> est.predict(X).shape == (len(X),)
    True
    """

    _param_specs = {
        **COMMON_PARAMS,
        **ENCODER_PARAMS,
    }
    _y_range = None
    _requires_y = True

    def __init__(
        self,
        *,
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        block="pre_norm",
        positional="from_end",
        max_len=50,
        learning_rate=0.001,
        epochs=200,
        batch_size=128,
        weight_decay=0.0,
        early_stopping_patience=None,
        restore_best_weights=True,
        validation="last_event",
        validation_fraction=0.1,
        monitor="loss",
        random_state=42,
        verbose=0,
        device="auto",
        warm_start=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        P.store_params(self, locals())

    def _prepare_training(self, train):
        if self.warm_start and hasattr(self, "module_"):
            return  # the model keeps the mean it was trained around
        self.rating_mean_ = float(np.mean(train.weights)) if len(train.weights) else 0.0

    def _build_module(self, n_items):
        return RatingModel(sasrec_encoder(self, n_items), getattr(self, "rating_mean_", 0.0))

    def _objective(self, module, hidden, targets, valid, labels, generator, window):
        if labels is None:  # X_valid carries no ratings
            raise ValueError(
                "SASRecRegressorEstimator cannot compute a validation loss on X_valid (it has "
                "no ratings): use the carve-out (validation='last_event' or 'time') or a "
                "ranking monitor such as monitor='ndcg@10'."
            )
        predicted = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        return mse_loss(predicted, labels, valid)

    def _fallback_scores(self):
        hidden = torch.zeros(self.module_.encoder.d_model, device=self._inference_device())
        return self.module_.score_all(hidden)

    def predict(self, X):
        """Predicted rating of each row's item given the same user's earlier rows in ``X``.

        Returns
        -------
        ndarray of float64, shape (n_rows,)
        """
        check_is_fitted(self)
        return self._predict_events(X)[0]

    def _predict_events(self, X):
        """(predicted rating per row of ``X``, the users' chronological sequences)."""
        data, sequences, items, times, starts, ends = self._event_windows(X)
        codes = sequences.items  # 0 = unknown item
        predicted = np.full(sequences.n_events, self.rating_mean_, dtype=np.float64)
        for rows, scores in self._iter_scores(items, times, starts, ends):
            row_codes = torch.as_tensor(codes[rows], device=scores.device)
            known = row_codes > 0
            values = scores.gather(1, (row_codes - 1).clamp_min(0)[:, None])[:, 0]
            values = torch.where(known, values, torch.as_tensor(self.rating_mean_))
            predicted[rows] = values.double().cpu().numpy()
        out = np.empty(len(predicted), dtype=np.float64)
        out[sequences.rows] = predicted
        return out, sequences

    def predict_proba(self, X):
        """Not available: a regressor predicts ratings, not item probabilities."""
        raise AttributeError("SASRecRegressorEstimator has no predict_proba; use predict.")

    def score(self, X, y=None):
        """Minus the RMSE of each user's last row of ``X`` given the rows before it.

        Parameters
        ----------
        X : DataFrame
        y : array-like of shape (n_rows,)
            Ratings, one per row of ``X`` (required).

        Returns
        -------
        float
        """
        check_is_fitted(self)
        data = self._check(X, y, require_y=True)
        predicted, sequences = self._predict_events(X)
        last_rows = sequences.rows[sequences.last(1)][sequences.lengths >= 2]
        if len(last_rows) == 0:
            raise ValueError(f"X has no user with two events ({len(sequences)} users).")
        return -float(np.sqrt(np.mean((predicted[last_rows] - data.y[last_rows]) ** 2)))

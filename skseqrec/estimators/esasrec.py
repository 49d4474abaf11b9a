"""eSASRec: SASRec's shifted-sequence objective + LiGR layers + sampled softmax."""

from __future__ import annotations

from ._transformer import TransformerRecommender, preset

__all__ = ["ESASRecEstimator"]


class ESASRecEstimator(TransformerRecommender):
    """eSASRec (Tikhonovich et al., RecSys 2025).

    Item embeddings with learnable positions counted from the most recent event (never
    added to padding), embedding dropout, ``num_blocks`` LiGR layers (pre-LayerNorm
    attention and SwiGLU feed-forward, each added through a sigmoid gate computed from the
    un-normalised residual stream), no final norm, tied output. Trained with SASRec's
    shifted-sequence objective (every position predicts its next event) and a sampled
    softmax against ``num_negatives`` uniform negatives. Defaults are the paper's ML-1M
    configuration.

    Parameters
    ----------
    **params
        Any parameter of :class:`~skseqrec.estimators.TransformerRecommender`; defaults:
        ``hidden_units=64, num_blocks=2, num_heads=1, dropout_rate=0.1, max_len=200,
        block="ligr", loss="sampled_softmax", negative_sampling="shared",
        num_negatives=256, remove_accidental_hits=True, epochs=100``.
        ``negative_sampling="uniform"`` draws negatives per position, as the paper's
        RecTools code does; ``loss="softmax"`` is the full cross-entropy (SASRec+).
        ``remove_accidental_hits=True`` drops negatives equal to the positive (the paper's
        code keeps them; with a small catalogue they push the positive down).

    Examples
    --------
    >>> from skseqrec import ESASRecEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=200, random_state=0)
    >>> est = ESASRecEstimator(epochs=2, hidden_units=16, num_negatives=8).fit(X)
    >>> est.recommend(X, top_k=2).columns.tolist()
    ['user_id', 'item_id', 'score', 'rank']
    """

    __init__ = preset(
        hidden_units=64,
        dropout_rate=0.1,
        max_len=200,
        block="ligr",
        loss="sampled_softmax",
        negative_sampling="shared",
        num_negatives=256,
        remove_accidental_hits=True,
        epochs=100,
    )

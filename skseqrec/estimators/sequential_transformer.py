"""The "modern stack" sequential retriever: RoPE, SwiGLU, RMSNorm pre-LN, InfoNCE."""

from __future__ import annotations

from ._transformer import TransformerRecommender, preset

__all__ = ["SequentialTransformerEstimator"]


class SequentialTransformerEstimator(TransformerRecommender):
    """A decoder-only retriever built from today's standard parts.

    Item embeddings (no absolute positions), ``num_blocks`` pre-norm blocks with RMSNorm,
    bias-free causal attention with rotary positions (RoPE: attention depends only on how far back
    an event is) and a SwiGLU feed-forward, a final RMSNorm, tied output. Scores are
    cosine similarities; every position is trained with InfoNCE at ``temperature``
    against ``num_negatives`` items drawn from the batch's own targets
    (popularity-distributed, so the logQ correction is applied), accidental hits removed.
    AdamW, betas (0.9, 0.98).

    Parameters
    ----------
    **params
        Any parameter of :class:`~skseqrec.estimators.TransformerRecommender`; defaults:
        ``hidden_units=256, num_blocks=4, num_heads=8, dropout_rate=0.1, max_len=200,
        block="pre_norm", positional="rope", norm="rms", activation="swiglu",
        attention_bias=False,
        similarity="cosine", loss="infonce", temperature=0.05,
        negative_sampling="in_batch", num_negatives=1024, remove_accidental_hits=True,
        optimizer="adamw", weight_decay=0.01, epochs=100``.
        ``negative_sampling="mixed"`` adds uniform negatives (half of ``num_negatives``);
        ``loss="sampled_softmax"`` drops the logQ correction.

    Examples
    --------
    >>> from skseqrec import SequentialTransformerEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> est = SequentialTransformerEstimator(epochs=2, hidden_units=16, num_heads=2)
    >>> est.fit(X).recommend(X, top_k=2).shape
    (100, 4)
    """

    __init__ = preset(
        hidden_units=256,
        num_blocks=4,
        num_heads=8,
        dropout_rate=0.1,
        max_len=200,
        positional="rope",
        norm="rms",
        activation="swiglu",
        attention_bias=False,
        similarity="cosine",
        loss="infonce",
        temperature=0.05,
        negative_sampling="in_batch",
        num_negatives=1024,
        remove_accidental_hits=True,
        optimizer="adamw",
        weight_decay=0.01,
        epochs=100,
    )

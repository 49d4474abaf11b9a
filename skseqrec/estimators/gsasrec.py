"""gSASRec: SASRec trained with generalised BCE (Petrov & Macdonald, RecSys 2023)."""

from __future__ import annotations

from ._transformer import TransformerRecommender, preset

__all__ = ["GSASRecEstimator"]


class GSASRecEstimator(TransformerRecommender):
    """gSASRec: SASRec's encoder, ``k`` uniform negatives and the gBCE loss.

    gBCE raises the positive probability to ``beta = alpha (t (1 - 1/alpha) + 1/alpha)``
    with ``alpha = k / (|I| - 1)``, which counters the overconfidence BCE learns from
    negative sampling; ``t = 0`` is plain BCE, ``t = 1`` fully calibrated. Defaults follow
    the paper's ML-1M configuration and its reference code: the original SASRec block
    (``block="post_norm"``: norm on the queries, a ``hidden_units``-wide ReLU feed-forward)
    but the library's Adam betas (0.9, 0.98), not the reference's (0.9, 0.999) (see
    below), and ``num_negatives`` independent negatives at every position
    (``negative_sampling="uniform"``): with negatives shared by the batch, gSASRec
    collapsed early on ml-100k (validation falling while the training loss fell from 0.69
    to 0.03; NDCG@10 0.0377 against 0.0709 with per-position negatives), and with every
    item as a negative (``"full"``, where gBCE is plain BCE) it learns slowly.

    Parameters
    ----------
    **params
        Any parameter of :class:`~skseqrec.estimators.TransformerRecommender`; defaults:
        ``hidden_units=128, num_blocks=2, num_heads=1, dropout_rate=0.5,
        block="post_norm", loss="gbce", gbce_t=0.75, negative_sampling="uniform",
        num_negatives=256, tied_embeddings=False, remove_accidental_hits=True,
        max_len=50, batch_size=32, early_stopping_steps=400,
        early_stopping_min_steps=2000, early_stopping_rate=0.5,
        learning_rate_schedule="adaptive", validation_interval=50, epochs=300, gap_conditioning=True`` (an upper
        bound). Validation NDCG@10 first sits at a popularity-like plateau whose length
        follows Adam's second-moment time constant ``1 / (1 - beta2)``: with the reference
        code's betas (0.9, 0.999) it lasted 1,000-1,300 steps on ml-100k and ~1,700 on
        ml-1m-users1-2999 (window 200: NDCG@10 0.0360 after 15 minutes on 2 threads), with
        the library's (0.9, 0.98), the default here, ~450-500 steps on both (ml-1m window
        200: 0.1496 in the same 15 minutes; ml-100k: test 0.0708 against 0.0703, in 134 s
        against 222 s). The minimum training length keeps a margin over the plateau on
        data where it is longer. The reference code's initialisation (PyTorch's defaults:
        item vectors N(0, 1)) does not shorten it: on ml-100k it learned slower (test
        NDCG@10 0.0481 after 9,000 steps against 0.0703 with N(0, 0.02)).
        ``remove_accidental_hits=True`` leaves negatives that equal the positive out of the
        loss (the paper's code keeps them). ``sparse_item_updates="auto"``: on catalogues
        of more than :data:`~skseqrec.estimators.SPARSE_ITEM_UPDATES_MIN_ITEMS` items a
        step updates only the item rows it read (with 256 negatives per position that is
        up to 32 x 50 x 258 rows a step: the saving starts near 80k items).

    Examples
    --------
    >>> from skseqrec import GSASRecEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=200, random_state=0)
    >>> GSASRecEstimator(epochs=1, hidden_units=16, num_negatives=8).fit(X).n_epochs_
    1
    """

    __init__ = preset(
        hidden_units=128,
        dropout_rate=0.5,
        max_len=50,
        block="post_norm",
        loss="gbce",
        gbce_t=0.75,
        negative_sampling="uniform",
        num_negatives=256,
        tied_embeddings=False,
        remove_accidental_hits=True,
        batch_size=32,
        early_stopping_steps=400,
        early_stopping_min_steps=2000,
        early_stopping_rate=0.5,
        learning_rate_schedule="adaptive",
        validation_interval=50,
        epochs=300,
        gap_conditioning=True,
    )

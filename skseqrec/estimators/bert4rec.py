"""BERT4Rec (Sun et al., CIKM 2019): bidirectional encoder trained to fill masked items."""

from __future__ import annotations

import torch

from .. import params as P
from ._transformer import TRANSFORMER_PARAMS, TransformerRecommender, preset

__all__ = ["BERT4RecEstimator"]


class BERT4RecEstimator(TransformerRecommender):
    """BERT4Rec: a bidirectional transformer trained with the masked-item (cloze) objective.

    Each training window (a user's most recent ``max_len`` events) has every event
    chosen with probability ``mask_prob`` (a row with none gets its last one chosen); as
    in BERT, a chosen event is replaced by a ``[MASK]`` token 80% of the time, by a random
    item 10% and left as it is 10%; the model predicts the chosen items from both sides
    with ``loss`` (any of the sampled losses, or the full softmax). To recommend,
    ``[MASK]`` is appended after the user's most recent ``max_len - 1`` events and the
    model predicts it. Pre-norm blocks with GELU FFN, learnable positions counted from the
    end (never on padding), tied output.

    Parameters
    ----------
    mask_prob : float, default=0.2
        Share of events masked in each training window.
    **params
        Any parameter of :class:`~skseqrec.estimators.TransformerRecommender`; defaults:
        ``hidden_units=64, num_blocks=2, num_heads=2, dropout_rate=0.1, max_len=50``
        (the window, the ``[MASK]`` slot included at recommendation time),
        ``loss="softmax"``, ``negative_sampling="auto"``, ``num_negatives=256``
        (used by the sampled losses), ``remove_accidental_hits=True``, ``init="xavier"``,
        ``batch_size=32``, ``early_stopping_steps=400``, ``early_stopping_min_steps=1000``,
        ``early_stopping_rate=0.5``, ``learning_rate_schedule="adaptive"``,
        ``validation_interval=50``, ``epochs=300`` (an upper bound; the paper's ML-1M window
        is ``max_len=200``), ``gap_conditioning=True`` (each position reads the time
        since the previous event, the ``[MASK]`` slot the time since the latest event
        when the request comes).
        ``exclude_history_negatives`` is not available (no next-item objective).
        ``sparse_item_updates="auto"`` stays off with the full softmax (every step reads
        every item row); with ``loss="sampled_softmax"``, on catalogues of more than
        :data:`~skseqrec.estimators.SPARSE_ITEM_UPDATES_MIN_ITEMS` items a step updates
        only the item rows it read.

    Examples
    --------
    >>> from skseqrec import BERT4RecEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=50, n_items=100, random_state=0)
    >>> est = BERT4RecEstimator(epochs=2, hidden_units=16).fit(X)
    >>> est.recommend(X, top_k=2).shape
    (100, 4)
    """

    __init__ = preset(
        extra={"mask_prob": 0.2},
        hidden_units=64,
        num_heads=2,
        dropout_rate=0.1,
        max_len=50,
        loss="softmax",
        negative_sampling="auto",
        num_negatives=256,
        remove_accidental_hits=True,
        init="xavier",
        batch_size=32,
        early_stopping_steps=400,
        early_stopping_min_steps=1000,
        early_stopping_rate=0.5,
        learning_rate_schedule="adaptive",
        validation_interval=50,
        epochs=300,
        gap_conditioning=True,
    )
    _param_specs = {
        **TRANSFORMER_PARAMS,
        "mask_prob": P.Interval(float, 0.0, 1.0, closed="right"),
        "max_len": P.Interval(int, 2),
    }
    _causal = False
    _n_special = 1  # [MASK] = n_items + 1

    def _batch_weight(self, batch: dict) -> torch.Tensor:
        # the masked positions are drawn in _loss: weight by their expected number
        return (batch["sequence"][:, -self.max_len :] != 0).sum() * self.mask_prob

    def _loss(self, module, batch, generator, objective):
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
        if not batch.get("last_only"):
            # BERT's 80/10/10: of the masked events, 10% show a random item and 10% their
            # own item instead of [MASK], so the encoder also learns from real inputs
            draws = torch.rand(sequence.shape, generator=generator, device=generator.device)
            draws = draws.to(sequence.device)
            random_items = torch.randint(
                1,
                module.n_items + 1,
                sequence.shape,
                generator=generator,
                device=generator.device,
            ).to(sequence.device)
            inputs = torch.where(masked & (draws >= 0.8) & (draws < 0.9), random_items, inputs)
            inputs = torch.where(masked & (draws >= 0.9), sequence, inputs)
        times = batch["times"][:, -self.max_len :] if "times" in batch else None
        times, gaps = self._times_and_gaps(sequence, times)
        # (M, d): only masked positions are scored
        hidden = (module(inputs, times) if gaps is None else module(inputs, times, gaps))[masked]
        targets = sequence[masked]
        every = torch.ones_like(targets, dtype=torch.bool)
        labels = batch["labels"][:, -self.max_len :][masked] if "labels" in batch else None
        return objective(module, hidden, targets, every, generator=generator, labels=labels)

    def _times_and_gaps(self, sequence, times):
        """``(times, gaps)`` the module reads of a window's items and times (B, L): the
        times for HSTU's bias (an unknown request time, NaN in the last column, read as
        the last event's) and, with ``gap_conditioning``, each position's gap *since the
        previous event* (NaN after padding): both sides are visible to a bidirectional
        model, and the ``[MASK]`` slot's gap is the request's."""
        if times is None:
            return None, None
        gaps = None
        if self._reads_gaps:
            gaps = torch.full_like(times, torch.nan)
            after_event = sequence[:, :-1] > 0
            gaps[:, 1:] = torch.where(after_event, times[:, 1:] - times[:, :-1], torch.nan)
        if self.block != "hstu":
            return None, gaps
        return torch.where(torch.isnan(times), times.roll(1, dims=1), times), gaps

    def _encode_windows(self, windows, times):
        """The hidden state of a ``[MASK]`` appended after the most recent
        ``max_len - 1`` events (its time: the request's with ``gap_conditioning``, else
        the last event's)."""
        request = None
        if self._reads_gaps:  # times (B, W + 1): the last column is the request's
            times, request = times[:, :-1], times[:, -1:]
        if windows.shape[1] >= self.max_len:  # make room for the [MASK] slot
            windows = windows[:, windows.shape[1] - self.max_len + 1 :]
            times = None if times is None else times[:, times.shape[1] - self.max_len + 1 :]
        mask = torch.full_like(windows[:, :1], self.module_.n_items + 1)
        sequence = torch.cat([windows, mask], 1)
        if times is not None:  # the [MASK] happens "now": at the request, or the last event
            times = torch.cat([times, times[:, -1:] if request is None else request], 1)
        times, gaps = self._times_and_gaps(sequence, times)
        if gaps is None:
            return self.module_.encode_last(sequence, times)
        return self.module_.encode_last(sequence, times, gaps)

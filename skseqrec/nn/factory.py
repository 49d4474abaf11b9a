"""Build an encoder or a training objective from component names.

The estimators' component parameters (``block``, ``positional``, ``norm``, ``activation``,
``loss``, ``negative_sampling``, ...) are resolved here, once, into modules and loss calls
built from the blocks of this package.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .blocks import LiGRBlock, PostNormBlock, PreNormBlock
from .encoder import SequenceEncoder
from .gaps import GapEmbedding
from .hstu import HSTUBlock, RelativePositionBias
from .losses import (
    accidental_hits,
    bce_negatives_loss,
    full_softmax_loss,
    gbce_beta,
    gbce_loss,
    mse_loss,
    sampled_softmax_loss,
)
from .positional import LearnablePositionalEmbedding, NoPositionalEmbedding, RotaryEmbedding
from .samplers import in_batch_negatives, sampling_log_q, shared_negatives, uniform_negatives

__all__ = [
    "BLOCKS",
    "LOSSES",
    "NEGATIVE_SAMPLING",
    "NORMS",
    "POSITIONALS",
    "Objective",
    "build_encoder",
    "block_defaults",
]

BLOCKS = ("pre_norm", "post_norm", "ligr", "hstu")
POSITIONALS = ("from_end", "from_start", "rope", "relative", "none")
NORMS = {"layer": nn.LayerNorm, "rms": nn.RMSNorm}
LOSSES = ("bce", "gbce", "sampled_softmax", "softmax", "infonce", "mse")
NEGATIVE_SAMPLING = ("uniform", "shared", "in_batch", "mixed", "full")

# What each block is by design: its feed-forward, width, whether a norm follows the last
# block, and whether item embeddings are scaled by sqrt(d).
_BLOCK_DESIGN = {
    "pre_norm": {"activation": "gelu", "ff_multiplier": 4, "final_norm": True, "scale": False},
    "post_norm": {"activation": "relu", "ff_multiplier": 1, "final_norm": True, "scale": True},
    "ligr": {"activation": "swiglu", "ff_multiplier": 4, "final_norm": False, "scale": False},
    "hstu": {"activation": None, "ff_multiplier": None, "final_norm": False, "scale": True},
}


def block_defaults(block: str) -> dict:
    """A block's own activation / feed-forward width / final norm / embedding scaling."""
    return dict(_BLOCK_DESIGN[block])


def build_encoder(
    n_items: int,
    *,
    d_model: int,
    n_blocks: int,
    n_heads: int,
    dropout: float,
    max_len: int,
    block: str = "pre_norm",
    positional: str = "from_end",
    norm: str = "layer",
    activation: str | None = None,
    ff_multiplier: int | None = None,
    similarity: str = "dot",
    tied: bool = True,
    causal: bool = True,
    use_time: bool = False,
    n_special: int = 0,
    attention_bias: bool = True,
    init: str = "normal",
    gap_conditioning: bool = False,
) -> SequenceEncoder:
    """A :class:`SequenceEncoder` from component names.

    Parameters
    ----------
    n_items : int
    d_model, n_blocks, n_heads : int
    dropout : float
    max_len : int
        Longest window (learnable and relative positions have this many slots).
    block : {"pre_norm", "post_norm", "ligr", "hstu"}
    positional : {"from_end", "from_start", "rope", "relative", "none"}
        Learnable absolute positions (counted from the most recent or the first event),
        rotary positions, a learned relative-position attention bias, or nothing. The
        HSTU block always has its own relative bias.
    norm : {"layer", "rms"}
    activation : {"gelu", "relu", "swiglu"} or None
        None: the block's own (see :func:`block_defaults`).
    ff_multiplier : int or None
        Feed-forward width over ``d_model``; None: the block's own.
    similarity : {"dot", "cosine"}
    tied : bool
    causal : bool
    use_time : bool
        HSTU blocks add their time-gap bias (the model then reads timestamps).
    n_special : int
        Extra input tokens after the catalogue (e.g. BERT4Rec's ``[MASK]``).
    attention_bias : bool
        Biases of the softmax-attention projections (HSTU's projection has none).
    init : {"normal", "xavier"}
        Weight initialisation (see :meth:`SequenceEncoder.reset_parameters`).
    gap_conditioning : bool
        Add a :class:`GapEmbedding` of the time from each event to the one it predicts
        to the inputs (the model then reads gaps).
    """
    if block not in _BLOCK_DESIGN:
        raise ValueError(f"block must be one of {list(BLOCKS)}, got {block!r}.")
    if positional not in POSITIONALS:
        raise ValueError(f"positional must be one of {list(POSITIONALS)}, got {positional!r}.")
    design = _BLOCK_DESIGN[block]
    activation = activation or design["activation"]
    ff_multiplier = ff_multiplier or design["ff_multiplier"]
    norm_class = NORMS[norm]
    head = d_model // n_heads

    def positions():
        rotary = RotaryEmbedding(head) if positional == "rope" else None
        bias = (
            RelativePositionBias(max_len) if positional == "relative" and block != "hstu" else None
        )
        return rotary, bias

    blocks = []
    for _ in range(n_blocks):
        rotary, bias = positions()
        if block == "hstu":
            blocks.append(
                HSTUBlock(
                    d_model, n_heads, dropout, max_len, use_time=use_time, rotary=rotary, norm=norm
                )
            )
        elif block == "ligr":
            blocks.append(
                LiGRBlock(
                    d_model,
                    n_heads,
                    dropout,
                    ff_multiplier,
                    norm=norm_class,
                    rotary=rotary,
                    activation=activation,
                    position_bias=bias,
                    bias=attention_bias,
                )
            )
        else:
            cls = PreNormBlock if block == "pre_norm" else PostNormBlock
            blocks.append(
                cls(
                    d_model,
                    n_heads,
                    dropout,
                    ff_multiplier,
                    norm=norm_class,
                    activation=activation,
                    rotary=rotary,
                    position_bias=bias,
                    bias=attention_bias,
                )
            )
    if positional in ("from_end", "from_start"):
        absolute = LearnablePositionalEmbedding(max_len, d_model, from_end=positional == "from_end")
    else:
        absolute = NoPositionalEmbedding()
    return SequenceEncoder(
        n_items,
        d_model,
        blocks,
        absolute,
        dropout=dropout,
        final_norm=design["final_norm"],
        norm=norm_class,
        scale_embeddings=design["scale"],
        causal=causal,
        tied=tied,
        similarity=similarity,
        n_special=n_special,
        init=init,
        gap=GapEmbedding(d_model) if gap_conditioning else None,
    )


@dataclass
class Objective:
    """A training loss by name, with its negative sampler.

    Parameters
    ----------
    loss : {"bce", "gbce", "sampled_softmax", "softmax", "infonce", "mse"}
        ``"bce"``: binary cross-entropy of the positive and of each negative, the negative
        term averaged over the negatives. ``"gbce"``: gSASRec's generalised BCE with
        calibration ``gbce_t``. ``"sampled_softmax"``: cross-entropy of the positive
        against the negatives. ``"infonce"``: the same with the logQ correction of
        non-uniform (in-batch) negatives. ``"softmax"``: cross-entropy over the whole
        catalogue (no sampling). ``"mse"``: squared error of the score against ``y``.
    negative_sampling : {"uniform", "shared", "in_batch", "mixed", "full"}
        ``"uniform"``: independent uniform negatives at every position; ``"shared"``: one
        uniform set for the whole batch (one matmul); ``"in_batch"``: drawn from the
        batch's own targets (popularity-distributed); ``"mixed"``: half in-batch, half
        uniform, shared by the batch; ``"full"``: every other item of the catalogue
        (nothing sampled: the softmax losses become the full softmax, ``"gbce"`` becomes
        plain BCE over the catalogue; ``num_negatives`` is unused).
    num_negatives : int
        Negatives each positive is contrasted with.
    temperature : float
        Scores are divided by it before the loss (except ``"mse"``).
    gbce_t : float
    remove_accidental_hits : bool
        Leave out negatives equal to the position's positive.
    exclude_history_negatives : bool
        Redraw per-position negatives that are in the row's own window (the original
        SASRec); needs ``negative_sampling="uniform"``.

    Examples
    --------
    Every position of a left-padded batch predicts the next item:

    >>> import math
    >>> import torch
    >>> from skseqrec.nn import Objective, build_encoder
    >>> _ = torch.manual_seed(0)
    >>> encoder = build_encoder(20, d_model=8, n_blocks=1, n_heads=2, dropout=0.0, max_len=4)
    >>> items = torch.tensor([[0, 3, 4, 5], [6, 7, 8, 9]])
    >>> hidden = encoder(items[:, :-1])
    >>> targets, valid = items[:, 1:], items[:, :-1] > 0
    >>> loss = Objective(loss="softmax")(encoder, hidden, targets, valid, generator=None)
    >>> loss.shape, round(loss.item(), 1), round(math.log(20), 1)  # untrained: log(n_items)
    (torch.Size([]), 3.0, 3.0)
    >>> sampled = Objective(loss="sampled_softmax", num_negatives=4)
    >>> generator = torch.Generator().manual_seed(0)
    >>> loss = sampled(encoder, hidden, targets, valid, generator=generator)
    >>> loss.backward()  # gradients for the encoder's weights
    >>> encoder.item_embedding.weight.grad.shape
    torch.Size([21, 8])
    """

    loss: str = "bce"
    negative_sampling: str = "uniform"
    num_negatives: int = 1
    temperature: float = 1.0
    gbce_t: float = 0.75
    remove_accidental_hits: bool = False
    exclude_history_negatives: bool = False

    def negatives(self, targets, valid, n_items: int, generator):
        """``(negatives, n_in_batch, n_uniform)``: shape ``(k,)`` shared or ``(*targets.shape, k)``."""
        k = self.num_negatives
        if self.negative_sampling == "uniform":
            return uniform_negatives((*targets.shape, k), n_items, generator=generator), 0, k
        if self.negative_sampling == "shared":
            return shared_negatives(k, n_items, generator=generator), 0, k
        n_in_batch = k if self.negative_sampling == "in_batch" else k - k // 2
        drawn = in_batch_negatives(targets, valid, n_in_batch, generator=generator)
        parts = [drawn.to(targets.device)]
        n_uniform = k - n_in_batch
        if n_uniform:
            parts.append(shared_negatives(n_uniform, n_items, generator=generator))
        return torch.cat([p.to(targets.device) for p in parts]), len(drawn), n_uniform

    def _negative_scores(self, module, hidden, negatives):
        """Scores of the negatives. Per-position negatives on a catalogue of at most
        ``64 k`` items are read from the full score matrix (one matmul) rather than
        gathered as ``(..., k, d)`` item vectors, which costs far more time and memory
        (batch 32 x 50 positions, 128 dims, 256 negatives, one CPU thread, forward and
        backward: 0.07 s on 1,682 items against 0.92 s gathered; the matmul grows with the
        catalogue, the gather does not: they cost the same near 80 k items)."""
        if negatives.dim() > 1 and module.n_items <= 64 * negatives.shape[-1]:
            return module.score_all(hidden).gather(-1, negatives - 1)
        return module.score_items(hidden, negatives)

    def _full_catalogue_loss(self, module, hidden, targets, valid, labels):
        """Every other item is a negative; only the valid positions are scored."""
        chosen = targets[valid]
        every = torch.ones_like(chosen, dtype=torch.bool)
        logits = module.score_all(hidden[valid])  # (M, n_items), column j = code j + 1
        if self.temperature != 1.0:
            logits = logits / self.temperature
        if self.loss in ("softmax", "sampled_softmax", "infonce"):
            # logQ is constant over the catalogue: InfoNCE is the plain full softmax here
            return full_softmax_loss(logits, chosen, every)
        positive = logits.gather(1, (chosen - 1).unsqueeze(1)).squeeze(1)
        hits = torch.zeros_like(logits, dtype=torch.bool)
        hits.scatter_(1, (chosen - 1).unsqueeze(1), True)  # the positive is no negative
        if self.loss == "bce":
            chosen_labels = None if labels is None else labels[valid]
            return bce_negatives_loss(positive, logits, every, chosen_labels, hits=hits)
        beta = gbce_beta(module.n_items - 1, module.n_items, self.gbce_t)
        # gbce_loss averages over k + 1 = n + 1 columns; the positive's own is masked out,
        # so the n real terms (1 positive, n - 1 negatives) are rescaled to their mean
        n = module.n_items
        return gbce_loss(positive, logits, every, beta=beta, hits=hits) * ((n + 1) / n)

    def __call__(self, module, hidden, targets, valid, *, generator, labels=None, window=None):
        """Loss of ``targets`` (any leading shape) given ``hidden`` (same shape + (d,)).

        ``valid`` marks the real targets; ``labels`` are their ``y`` (soft labels for
        ``"bce"``, ratings for ``"mse"``); ``window`` (B, W) the rows' items, for
        ``exclude_history_negatives``.
        """
        scaled = self.temperature != 1.0
        if self.loss == "softmax" or (self.negative_sampling == "full" and self.loss != "mse"):
            return self._full_catalogue_loss(module, hidden, targets, valid, labels)
        positive = module.score_items(hidden, targets.unsqueeze(-1)).squeeze(-1)
        if self.loss == "mse":
            if labels is None:
                raise ValueError(
                    "loss='mse' needs a target y for every event (the validation data has none)."
                )
            return mse_loss(positive, labels, valid)
        negatives, n_in_batch, n_uniform = self.negatives(targets, valid, module.n_items, generator)
        hits = None
        if self.exclude_history_negatives:
            if negatives.dim() == 1:
                raise ValueError(
                    "exclude_history_negatives=True needs negative_sampling='uniform' "
                    f"(per-position negatives), got {self.negative_sampling!r}."
                )
            in_history = (negatives.unsqueeze(-1) == window[:, None, None, :]).any(-1)
            redrawn = uniform_negatives(negatives.shape, module.n_items, generator=generator)
            negatives = torch.where(in_history, redrawn, negatives)
            hits = (negatives.unsqueeze(-1) == window[:, None, None, :]).any(-1)
        negative = self._negative_scores(module, hidden, negatives)
        if scaled:
            positive, negative = positive / self.temperature, negative / self.temperature
        if self.remove_accidental_hits:
            accidental = accidental_hits(negatives, targets, negative.shape)
            hits = accidental if hits is None else hits | accidental
        if self.loss == "bce":
            return bce_negatives_loss(positive, negative, valid, labels, hits=hits)
        if self.loss == "gbce":
            beta = gbce_beta(self.num_negatives, module.n_items, self.gbce_t)
            return gbce_loss(positive, negative, valid, beta=beta, hits=hits)
        if self.loss == "infonce" and n_in_batch:
            popularity = module.target_popularity
            positive = positive - sampling_log_q(targets, popularity, n_in_batch, n_uniform)
            negative = negative - sampling_log_q(negatives, popularity, n_in_batch, n_uniform)
        if hits is not None:
            negative = negative.masked_fill(hits, float("-inf"))
        return sampled_softmax_loss(positive, negative, valid)

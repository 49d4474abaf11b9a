"""Pure-torch building blocks: attention, blocks, positions, encoders, losses, samplers.

Nothing here knows about pandas, scikit-learn or external ids.
"""

from .attention import MultiHeadSelfAttention
from .blocks import FeedForward, LiGRBlock, PostNormBlock, PreNormBlock, SwiGLU, feed_forward
from .context import SequenceContext
from .dropout import Dropout
from .encoder import INITS, RatingModel, SequenceEncoder
from .factory import (
    BLOCKS,
    LOSSES,
    NEGATIVE_SAMPLING,
    NORMS,
    POSITIONALS,
    Objective,
    block_defaults,
    build_encoder,
)
from .gaps import GapEmbedding, gap_buckets
from .hstu import HSTUBlock, RelativePositionBias, TimeGapBias, time_gap_buckets
from .losses import (
    accidental_hits,
    bce_negatives_loss,
    full_softmax_loss,
    gbce_beta,
    gbce_loss,
    infonce_loss,
    masked_mean,
    mse_loss,
    sampled_softmax_loss,
)
from .positional import LearnablePositionalEmbedding, NoPositionalEmbedding, RotaryEmbedding
from .samplers import in_batch_negatives, sampling_log_q, shared_negatives, uniform_negatives
from .topk import mask_scores, topk_items

__all__ = [
    "BLOCKS",
    "INITS",
    "LOSSES",
    "NEGATIVE_SAMPLING",
    "NORMS",
    "POSITIONALS",
    "Objective",
    "block_defaults",
    "build_encoder",
    "feed_forward",
    "GapEmbedding",
    "gap_buckets",
    "HSTUBlock",
    "RatingModel",
    "RelativePositionBias",
    "RotaryEmbedding",
    "TimeGapBias",
    "in_batch_negatives",
    "infonce_loss",
    "mse_loss",
    "sampling_log_q",
    "time_gap_buckets",
    "Dropout",
    "accidental_hits",
    "FeedForward",
    "LiGRBlock",
    "PostNormBlock",
    "SwiGLU",
    "LearnablePositionalEmbedding",
    "MultiHeadSelfAttention",
    "NoPositionalEmbedding",
    "PreNormBlock",
    "SequenceContext",
    "SequenceEncoder",
    "bce_negatives_loss",
    "full_softmax_loss",
    "gbce_beta",
    "gbce_loss",
    "shared_negatives",
    "mask_scores",
    "masked_mean",
    "sampled_softmax_loss",
    "topk_items",
    "uniform_negatives",
]

"""Component combinations of TransformerRecommender learn the world; bad ones fail at fit.

The grid is a covering set, not the product: every value of ``block``, ``positional``,
``loss`` (but "mse"), ``negative_sampling``, ``norm`` and ``activation`` is in at least one
combination (``test_the_grid_covers_every_component_value`` keeps it so).
"""

from __future__ import annotations

import pytest
from helpers import hit_rate, split_last

from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    SequentialTransformerEstimator,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import TransformerRecommender
from skseqrec.exceptions import InvalidParameterError
from skseqrec.nn import (
    HSTUBlock,
    LearnablePositionalEmbedding,
    LiGRBlock,
    NoPositionalEmbedding,
    PostNormBlock,
    PreNormBlock,
    RelativePositionBias,
    RotaryEmbedding,
)
from skseqrec.nn.factory import LOSSES, NEGATIVE_SAMPLING, NORMS, POSITIONALS

SMALL = dict(
    hidden_units=32,
    num_blocks=1,
    num_heads=2,
    dropout_rate=0.1,
    max_len=12,
    batch_size=32,
    learning_rate=0.01,
    epochs=12,
)
FEW = dict(num_negatives=16)

# (id, estimator); the comment says which values a line is there for
GRID = [
    # gBCE with one uniform negative (with many it needs tens of epochs, see test_family)
    ("sasrec-ligr-gbce", SASRecClassifierEstimator(**SMALL, block="ligr", loss="gbce")),
    (
        "hstu-rope-shared",
        HSTUEstimator(**SMALL, **FEW, positional="rope", negative_sampling="shared"),
    ),
    # BCE against every other item (the negative term averaged over the catalogue)
    ("sasrec-full-bce", SASRecClassifierEstimator(**SMALL, negative_sampling="full")),
    (
        "sasrec-post_norm-relative",
        SASRecClassifierEstimator(**SMALL, block="post_norm", positional="relative"),
    ),
    # pre_norm + rope + rms + swiglu + cosine + infonce over in-batch negatives (logQ)
    ("modern-in_batch-infonce", SequentialTransformerEstimator(**SMALL, num_negatives=32)),
    (
        "modern-mixed-from_start-relu",
        SequentialTransformerEstimator(
            **SMALL, **FEW, negative_sampling="mixed", positional="from_start", activation="relu"
        ),
    ),
    (
        "none-sampled_softmax-untied",
        TransformerRecommender(
            **SMALL,
            num_negatives=8,
            positional="none",
            loss="sampled_softmax",
            tied_embeddings=False,
        ),
    ),
    (
        "esasrec-softmax-rms-gelu",
        ESASRecEstimator(**SMALL, loss="softmax", norm="rms", activation="gelu"),
    ),
    (
        "gsasrec-hstu-uniform",
        GSASRecEstimator(**SMALL, **FEW, block="hstu", negative_sampling="uniform"),
    ),
    ("bert4rec-relative-softmax", BERT4RecEstimator(**SMALL, positional="relative")),
    (
        "bert4rec-in_batch-sampled_softmax",
        BERT4RecEstimator(
            **{**SMALL, "epochs": 20},
            num_negatives=32,
            loss="sampled_softmax",
            negative_sampling="in_batch",
        ),
    ),
    (
        "sasrec-post_norm-swiglu-history_negatives",
        SASRecClassifierEstimator(
            **SMALL, block="post_norm", activation="swiglu", exclude_history_negatives=True
        ),
    ),
    (
        "pre_norm-relative-rms-bce-in_batch",
        TransformerRecommender(
            **SMALL,
            **FEW,
            positional="relative",
            norm="rms",
            loss="bce",
            negative_sampling="in_batch",
        ),
    ),
    (
        "hstu-none-softmax-rms",
        TransformerRecommender(
            **SMALL, block="hstu", positional="none", loss="softmax", norm="rms"
        ),
    ),
    (
        "ligr-from_start-infonce-mixed-cosine",
        TransformerRecommender(
            **SMALL,
            **FEW,
            block="ligr",
            positional="from_start",
            loss="infonce",
            negative_sampling="mixed",
            similarity="cosine",
            temperature=0.05,
            optimizer="adamw",
        ),
    ),
]

BLOCK_CLASSES = {
    "pre_norm": PreNormBlock,
    "post_norm": PostNormBlock,
    "ligr": LiGRBlock,
    "hstu": HSTUBlock,
}


@pytest.fixture(scope="module")
def small_world():
    """150 users walking i -> i+1 over 40 items; (training rows, each user's last event)."""
    world = make_sequential_world(
        n_users=150, n_items=40, min_length=8, max_length=12, noise=0.02, random_state=0
    )
    return split_last(world)


def test_the_grid_covers_every_component_value():
    used = {
        name: {estimator.get_params()[name] for _, estimator in GRID}
        for name in ("block", "positional", "loss", "negative_sampling", "norm", "activation")
    }
    assert used["block"] == set(BLOCK_CLASSES)
    assert used["positional"] == set(POSITIONALS)
    assert used["loss"] == set(LOSSES) - {"mse"}
    assert used["negative_sampling"] == {"auto", *NEGATIVE_SAMPLING}
    assert used["norm"] == set(NORMS)
    assert used["activation"] == {"gelu", "relu", "swiglu", None}


def test_the_bar_is_out_of_reach_without_training(small_world):
    train, test = small_world
    popular = PopularityRecommender().fit(train).recommend(train, top_k=10)
    untrained = TransformerRecommender(**{**SMALL, "epochs": 0}).fit(train)
    assert hit_rate(popular, test) < 0.5
    assert hit_rate(untrained.recommend(train, top_k=10), test) < 0.5


@pytest.mark.parametrize("estimator", [e for _, e in GRID], ids=[name for name, _ in GRID])
def test_combination_learns_the_world(small_world, estimator):
    train, test = small_world
    recs = estimator.fit(train).recommend(train, top_k=10)
    assert hit_rate(recs, test) > 0.9

    # the components asked for are the ones built (a parameter cannot be silently ignored)
    modules = list(estimator.module_.modules())
    block = estimator.block
    assert all(isinstance(b, BLOCK_CLASSES[block]) for b in estimator.module_.blocks)
    has_rotary = any(isinstance(m, RotaryEmbedding) for m in modules)
    assert has_rotary == (estimator.positional == "rope")
    if block != "hstu":  # an HSTU block has its own relative bias whatever `positional` is
        has_bias = any(isinstance(m, RelativePositionBias) for m in modules)
        assert has_bias == (estimator.positional == "relative")
    positional = estimator.module_.positional
    if estimator.positional in ("from_end", "from_start"):
        assert isinstance(positional, LearnablePositionalEmbedding)
        assert positional.from_end == (estimator.positional == "from_end")
    else:
        assert isinstance(positional, NoPositionalEmbedding)


INVALID = {
    "history_negatives-shared": (
        SASRecClassifierEstimator(exclude_history_negatives=True, negative_sampling="shared"),
        "exclude_history_negatives=True needs negative_sampling='uniform'",
    ),
    "mse-classifier": (SASRecClassifierEstimator(loss="mse"), "loss='mse' is not available"),
    "bce-regressor": (SASRecRegressorEstimator(loss="bce"), "loss='bce' is not available"),
    "rope-odd-head": (
        SASRecClassifierEstimator(positional="rope", hidden_units=6, num_heads=2),
        "positional='rope' needs an even head size",
    ),
    # BERT4Rec's default sampling is "shared": both of its checks must fire
    "bert4rec-history_negatives": (
        BERT4RecEstimator(exclude_history_negatives=True),
        "exclude_history_negatives=True needs negative_sampling='uniform'",
    ),
    "bert4rec-history_negatives-uniform": (
        BERT4RecEstimator(exclude_history_negatives=True, negative_sampling="uniform"),
        "exclude_history_negatives=True needs the next-item \\(causal\\) objective",
    ),
    "heads-not-dividing": (
        SASRecClassifierEstimator(hidden_units=30, num_heads=4),
        "hidden_units=30 must be divisible by num_heads=4",
    ),
    "unknown-block": (SASRecClassifierEstimator(block="gru"), "block must be one of"),
}


@pytest.mark.parametrize("estimator, message", INVALID.values(), ids=INVALID.keys())
def test_invalid_combination_raises_at_fit(tiny, estimator, message):
    y = [3.0] * len(tiny)  # the regressor needs a y; the check comes first anyway
    with pytest.raises(InvalidParameterError, match=f"{type(estimator).__name__}: {message}"):
        estimator.fit(tiny, y)
    assert not hasattr(estimator, "module_")  # a failed fit leaves it unfitted

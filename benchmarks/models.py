"""Benchmark configurations: name -> factory(seed, epochs, patience, protocol, max_len).

Every sequential model runs with its documented defaults (the papers' MovieLens settings)
unless ``--max-len`` overrides the window and ``--patience`` (epochs) or
``--patience-steps`` the early stopping; early stopping uses the protocol's validation
data (``X_valid`` under LOO, the time carve-out under TIME).
"""

from __future__ import annotations

from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SequentialTransformerEstimator,
)


def popularity(**_):
    return PopularityRecommender()


def _factory(cls, default_max_len=200, **fixed):
    def make(*, seed, epochs, patience, protocol, max_len=None):
        stopping = {}  # patience None: the estimator's own early stopping default
        if patience is not None:
            stopping = {"early_stopping_patience": patience, "early_stopping_steps": None}
        return cls(
            max_len=max_len or default_max_len,
            epochs=epochs,
            validation="time" if protocol == "time" else "last_event",
            random_state=seed,
            **stopping,
            **fixed,
        )

    make.__doc__ = f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in fixed.items())})"
    return make


MODELS = {
    "popularity": popularity,
    # scikit-rec defaults (hidden 50, 2 blocks, BCE with 1 negative), max_len 200 on MovieLens
    "sasrec": _factory(SASRecClassifierEstimator),
    "esasrec": _factory(ESASRecEstimator),
    "esasrec_softmax": _factory(ESASRecEstimator, loss="softmax"),
    "gsasrec": _factory(GSASRecEstimator),
    "bert4rec": _factory(BERT4RecEstimator),
    "hstu": _factory(HSTUEstimator),
    "seqtransformer": _factory(SequentialTransformerEstimator),
    # the "Revisiting SASRec" options, each one change from "sasrec"
    "sasrec_post_norm": _factory(SASRecClassifierEstimator, block="post_norm"),
    "sasrec_from_start": _factory(SASRecClassifierEstimator, positional="from_start"),
    "sasrec_rope": _factory(SASRecClassifierEstimator, positional="rope"),
    "sasrec_no_positions": _factory(SASRecClassifierEstimator, positional="none"),
    "sasrec_exclude_history_negatives": _factory(
        SASRecClassifierEstimator, exclude_history_negatives=True
    ),
}

"""Benchmark configurations: name -> factory(seed, epochs, patience, protocol, max_len)."""

from __future__ import annotations

from skseqrec import PopularityRecommender, SASRecClassifierEstimator


def popularity(**_):
    return PopularityRecommender()


def sasrec(*, seed, epochs, patience, protocol, max_len=None):
    """scikit-rec defaults (hidden 50, 2 blocks, BCE 1 negative), max_len 200 on MovieLens."""
    return SASRecClassifierEstimator(
        max_len=max_len or 200,
        epochs=epochs,
        early_stopping_patience=patience,
        validation="time" if protocol == "time" else "last_event",
        random_state=seed,
    )


MODELS = {"popularity": popularity, "sasrec": sasrec}

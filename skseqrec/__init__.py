"""skseqrec: transformer sequential recommenders for scikit-learn users."""

from ._version import __version__
from .evaluation import evaluate
from .estimators import (
    ESASRecEstimator,
    GSASRecEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
)

__all__ = [
    "ESASRecEstimator",
    "GSASRecEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
    "__version__",
    "evaluate",
]

"""skseqrec: transformer sequential recommenders for scikit-learn users."""

from ._version import __version__
from .estimators import (
    ESASRecEstimator,
    GSASRecEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
)
from .evaluation import evaluate

__all__ = [
    "ESASRecEstimator",
    "GSASRecEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
    "__version__",
    "evaluate",
]

"""skseqrec: transformer sequential recommenders for scikit-learn users."""

from ._version import __version__
from .estimators import PopularityRecommender, SASRecClassifierEstimator

__all__ = ["PopularityRecommender", "SASRecClassifierEstimator", "__version__"]

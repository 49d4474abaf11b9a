"""scikit-learn estimators: thin classes composing data, nn and training."""

from ._base import BaseRecommender
from .esasrec import ESASRecEstimator
from .gsasrec import GSASRecEstimator
from .popularity import PopularityRecommender
from .sasrec import SASRecClassifierEstimator

__all__ = [
    "BaseRecommender",
    "ESASRecEstimator",
    "GSASRecEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
]

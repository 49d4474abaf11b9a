"""skseqrec: transformer sequential recommenders for scikit-learn users."""

from ._version import __version__
from .estimators import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    MLPRankerEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    SequentialTransformerEstimator,
    TwoStageRecommender,
)
from .evaluation import evaluate, recommend
from .explain import explain
from .persistence import load, save

__all__ = [
    "BERT4RecEstimator",
    "ESASRecEstimator",
    "GSASRecEstimator",
    "HSTUEstimator",
    "MLPRankerEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
    "SASRecRegressorEstimator",
    "SequentialTransformerEstimator",
    "TwoStageRecommender",
    "__version__",
    "evaluate",
    "explain",
    "load",
    "recommend",
    "save",
]

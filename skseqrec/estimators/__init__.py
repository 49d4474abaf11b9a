"""scikit-learn estimators: thin classes composing data, nn and training."""

from ._base import BaseRecommender
from ._transformer import TransformerRecommender, preset
from .bert4rec import BERT4RecEstimator
from .esasrec import ESASRecEstimator
from .gsasrec import GSASRecEstimator
from .hstu import HSTUEstimator
from .popularity import PopularityRecommender
from .ranker import MLPRankerEstimator
from .sasrec import SASRecClassifierEstimator, SASRecRegressorEstimator
from .sequential_transformer import SequentialTransformerEstimator
from .two_stage import TwoStageRecommender

__all__ = [
    "BERT4RecEstimator",
    "BaseRecommender",
    "ESASRecEstimator",
    "GSASRecEstimator",
    "HSTUEstimator",
    "MLPRankerEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
    "SASRecRegressorEstimator",
    "SequentialTransformerEstimator",
    "TransformerRecommender",
    "TwoStageRecommender",
    "preset",
]

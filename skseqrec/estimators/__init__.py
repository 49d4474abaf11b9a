"""scikit-learn estimators: thin classes composing data, nn and training."""

from ._base import BaseRecommender
from ._transformer import TransformerRecommender, preset
from .bert4rec import BERT4RecEstimator
from .esasrec import ESASRecEstimator
from .gsasrec import GSASRecEstimator
from .hstu import HSTUEstimator
from .popularity import PopularityRecommender
from .sasrec import SASRecClassifierEstimator, SASRecRegressorEstimator
from .sequential_transformer import SequentialTransformerEstimator

__all__ = [
    "BERT4RecEstimator",
    "BaseRecommender",
    "ESASRecEstimator",
    "GSASRecEstimator",
    "HSTUEstimator",
    "PopularityRecommender",
    "SASRecClassifierEstimator",
    "SASRecRegressorEstimator",
    "SequentialTransformerEstimator",
    "TransformerRecommender",
    "preset",
]

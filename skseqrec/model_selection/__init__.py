"""Model selection: splitters usable as ``cv=`` in scikit-learn searches, ranking scorers.

Splitters yield ``(train_idx, test_idx)`` positional indices whose test folds carry each
test user's history rows and target row (see :class:`LeaveLastOut`,
:class:`GlobalTemporalSplit` and :class:`UserKFold`).
"""

from ._scorer import make_ranking_scorer
from ._split import (
    GlobalTemporalSplit,
    LeaveLastOut,
    UserKFold,
    last_event_validation_split,
    time_validation_split,
)

__all__ = [
    "GlobalTemporalSplit",
    "LeaveLastOut",
    "UserKFold",
    "last_event_validation_split",
    "make_ranking_scorer",
    "time_validation_split",
]

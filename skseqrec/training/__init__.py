"""Training loop, callbacks, history, device handling."""

from .callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LearningRateSchedule,
    ProgressBar,
    ReduceLROnPlateau,
    TimeBudget,
    unvalidated,
)
from .device import autocast, loadable_device, release_host_memory, resolve_device
from .history import History
from .loop import Trainer

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GradientClipping",
    "LearningRateSchedule",
    "History",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TimeBudget",
    "Trainer",
    "autocast",
    "loadable_device",
    "release_host_memory",
    "resolve_device",
    "unvalidated",
]

"""Training loop, callbacks, history, device handling."""

from .callbacks import Callback, EarlyStopping, ProgressBar, TimeBudget
from .device import autocast, resolve_device
from .history import History
from .loop import Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "TimeBudget",
    "Trainer",
    "autocast",
    "resolve_device",
]

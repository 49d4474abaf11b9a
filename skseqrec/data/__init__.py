"""Data preparation: validated interactions -> encoded, ragged int sequences (numpy only)."""

from .encoding import IdEncoder
from .sequences import Sequences, build_sequences, chronological_order, pad_windows
from .time import TimeAxis
from .validation import Interactions, check_column, check_interactions, check_times, to_pandas

__all__ = [
    "IdEncoder",
    "Interactions",
    "Sequences",
    "TimeAxis",
    "build_sequences",
    "check_column",
    "check_interactions",
    "check_times",
    "chronological_order",
    "pad_windows",
    "to_pandas",
]

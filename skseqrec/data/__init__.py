"""Data preparation: validated interactions -> encoded, ragged int sequences (numpy only)."""

from .encoding import IdEncoder
from .sequences import Sequences, build_sequences, chronological_order, pad_windows
from .validation import Interactions, check_interactions, to_pandas

__all__ = [
    "IdEncoder",
    "Interactions",
    "Sequences",
    "build_sequences",
    "check_interactions",
    "chronological_order",
    "pad_windows",
    "to_pandas",
]

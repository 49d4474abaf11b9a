"""Warnings and errors raised by skseqrec."""

__all__ = [
    "InvalidParameterError",
    "LeakWarning",
    "SkseqrecWarning",
    "DataDropWarning",
    "DeviceWarning",
    "ModelFormatError",
    "VersionMismatchWarning",
]


class SkseqrecWarning(UserWarning):
    """Base class of every warning skseqrec emits."""


class DataDropWarning(SkseqrecWarning):
    """Rows, users or items were left out on purpose; the message says how many."""


class DeviceWarning(SkseqrecWarning):
    """A model was moved to another device than the one it was fitted on."""


class VersionMismatchWarning(SkseqrecWarning):
    """A model saved by another skseqrec version was loaded."""


class ModelFormatError(ValueError):
    """A file given to :func:`skseqrec.load` is not a valid skseqrec model (nothing was run)."""


class InvalidParameterError(ValueError, TypeError):
    """A parameter of a skseqrec class has a bad type or value (the message names it).

    Subclasses both ``ValueError`` and ``TypeError``, like scikit-learn's own
    ``InvalidParameterError``, so ``except ValueError`` catches every bad parameter.
    """


class LeakWarning(SkseqrecWarning):
    """An evaluation split lets training see events after a test target."""

"""Warnings and errors raised by skseqrec, and where warnings point."""

import inspect

__all__ = [
    "InvalidParameterError",
    "LeakWarning",
    "SkseqrecWarning",
    "DataDropWarning",
    "DeviceWarning",
    "ModelFormatError",
    "VersionMismatchWarning",
    "user_stacklevel",
]


def user_stacklevel() -> int:
    """Stack level of the first frame outside skseqrec (and outside scikit-learn/joblib).

    ``warnings.warn(..., stacklevel=user_stacklevel())`` then points at the user's line,
    whatever path (fit, recommend, score, a scorer inside a search, load) led there. It
    lives here, at the bottom of the package, so that every layer can use it.

    Returns
    -------
    int
        1 for the function calling ``user_stacklevel``, 2 for its caller, and so on.
    """
    frame = inspect.currentframe().f_back
    level = 1
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] not in ("skseqrec", "sklearn", "joblib", "contextlib"):
            return level
        frame = frame.f_back
        level += 1
    return 1


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

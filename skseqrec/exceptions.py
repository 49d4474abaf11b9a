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
    """Base class of every warning skseqrec emits.

    Examples
    --------
    >>> import warnings
    >>> from skseqrec.exceptions import (DataDropWarning, DeviceWarning, LeakWarning,
    ...                                  SkseqrecWarning, VersionMismatchWarning)
    >>> all(issubclass(category, SkseqrecWarning) for category in
    ...     (DataDropWarning, DeviceWarning, LeakWarning, VersionMismatchWarning))
    True
    >>> issubclass(SkseqrecWarning, UserWarning)
    True

    One filter silences (``"ignore"``) or raises (``"error"``) all of them:

    >>> from skseqrec import PopularityRecommender
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "b", "c", "b"],
    ...                   "timestamp": [0, 1, 2, 3, 4]})
    >>> est = PopularityRecommender().fit(X)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SkseqrecWarning)
    ...     top = est.recommend(X, users=[1, 7], top_k=1)  # user 7 has no history
    >>> top["item_id"].tolist()
    ['c', 'b']
    """


class DataDropWarning(SkseqrecWarning):
    """Rows, users or items were left out on purpose; the message says how many.

    Examples
    --------
    >>> import warnings
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.exceptions import DataDropWarning
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "b", "c", "b"],
    ...                   "timestamp": [0, 1, 2, 3, 4]})
    >>> est = PopularityRecommender().fit(X)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", DataDropWarning)
    ...     top = est.recommend(X, users=[1, 7], top_k=1)  # user 7 has no rows in X
    >>> print(caught[0].message)
    1 of 2 users have no history in X (no rows, or only items unknown to the model); they
    get the most popular items.
    """


class DeviceWarning(SkseqrecWarning):
    """A model was moved to another device than the one it was fitted on.

    :func:`skseqrec.load` (and unpickling) warns so when a model fitted on a GPU is read
    on a machine without one: it is moved to the CPU.

    Examples
    --------
    >>> import warnings
    >>> from skseqrec.exceptions import DeviceWarning, SkseqrecWarning
    >>> issubclass(DeviceWarning, SkseqrecWarning)
    True

    Turn the move into an error where a model must stay on its GPU:

    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DeviceWarning)
    ...     try:
    ...         warnings.warn("fitted on cuda:0, moved to the CPU", DeviceWarning)
    ...     except DeviceWarning as exc:
    ...         print("refused:", exc)
    refused: fitted on cuda:0, moved to the CPU
    """


class VersionMismatchWarning(SkseqrecWarning):
    """A model saved by another skseqrec version was loaded.

    Examples
    --------
    >>> import warnings
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.exceptions import VersionMismatchWarning
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "b", "c", "b"],
    ...                   "timestamp": [0, 1, 2, 3, 4]})
    >>> state = PopularityRecommender().fit(X).get_state()
    >>> state["_skseqrec_version"] = "0.0.1"  # as if saved by skseqrec 0.0.1
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", VersionMismatchWarning)
    ...     PopularityRecommender().set_state(state)
    >>> print(caught[0].message)
    This PopularityRecommender was saved with skseqrec 0.0.1 and is loaded with ...;
    results may differ.
    """


class ModelFormatError(ValueError):
    """A file given to :func:`skseqrec.load` is not a valid skseqrec model (nothing was run).

    Examples
    --------
    >>> import os, tempfile
    >>> from skseqrec import load
    >>> from skseqrec.exceptions import ModelFormatError
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> with open(path, "wb") as file:
    ...     _ = file.write(b"not a model")
    >>> load(path)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.ModelFormatError: '...model.safetensors' is not a skseqrec model file
    (expected a safetensors file written by skseqrec.save): ...
    >>> issubclass(ModelFormatError, ValueError)
    True
    """


class InvalidParameterError(ValueError, TypeError):
    """A parameter of a skseqrec class has a bad type or value (the message names it).

    Subclasses both ``ValueError`` and ``TypeError``, like scikit-learn's own
    ``InvalidParameterError``, so ``except ValueError`` catches every bad parameter.

    Examples
    --------
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.exceptions import InvalidParameterError
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "b", "c", "b"],
    ...                   "timestamp": [0, 1, 2, 3, 4]})
    >>> PopularityRecommender(user_col="").fit(X)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: PopularityRecommender: user_col must be a
    non-empty string, got ''.
    >>> issubclass(InvalidParameterError, ValueError), issubclass(InvalidParameterError, TypeError)
    (True, True)
    """


class LeakWarning(SkseqrecWarning):
    """An evaluation split lets training see events after a test target.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.exceptions import LeakWarning
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2], "item_id": ["a", "b", "c", "a", "b"],
    ...                   "timestamp": [0, 1, 2, 0, 1]})
    >>> est = PopularityRecommender().fit(X)  # trained on every row
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", LeakWarning)
    ...     _ = est.score(X.iloc[[0, 1, 3, 4]])  # user 1's target "b" precedes training's "c"
    >>> print(caught[0].message)
    1 of 2 evaluated users of X have training events later than their target: the split
    leaks future events into training (...). Use skseqrec.model_selection.LeaveLastOut,
    GlobalTemporalSplit or UserKFold as cv=.
    """

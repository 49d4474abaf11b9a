"""Declarative parameter checks shared by every public skseqrec class.

Each class declares ``name -> checker`` once and calls :func:`validate_params` at the start
of ``fit``/``split``/``transform`` (never in ``__init__``). Every failure raises
:class:`~skseqrec.exceptions.InvalidParameterError` (a ``ValueError`` and a ``TypeError``)
whose message names the class, the parameter and the value.

Examples
--------
>>> from skseqrec.params import Interval, validate_values
>>> validate_values({"k": 0}, {"k": Interval(int, 1)}, owner="f")
Traceback (most recent call last):
...
skseqrec.exceptions.InvalidParameterError: f: k must be in [1, inf], got 0.
"""

from __future__ import annotations

import datetime
import numbers

import numpy as np
import pandas as pd

from .exceptions import InvalidParameterError

__all__ = [
    "AnyOf",
    "Boolean",
    "Callbacks",
    "Device",
    "Duration",
    "Interval",
    "Options",
    "RandomState",
    "String",
    "TupleOf",
    "store_params",
    "validate_params",
    "validate_values",
]


class Interval:
    """A number in ``[low, high]`` (bounds optional; ``closed`` says which are inclusive).

    Examples
    --------
    >>> from skseqrec.params import Interval
    >>> dropout = Interval(float, 0.0, 1.0, closed="left")
    >>> dropout.check("dropout_rate", 0.2)  # passes silently
    >>> dropout.check("dropout_rate", 1.0)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: dropout_rate must be in [0.0, 1.0), got 1.0.
    >>> Interval(int, 1, allow_none=True).check("patience", None)
    >>> Interval(int, 1).check("epochs", 2.0)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: epochs must be an int, got 2.0 (float).
    """

    def __init__(self, kind, low=None, high=None, *, closed="both", allow_none=False):
        self.kind, self.low, self.high, self.closed, self.allow_none = (
            kind,
            low,
            high,
            closed,
            allow_none,
        )

    def check(self, name, value):
        if value is None and self.allow_none:
            return
        integral = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
        ok_type = (
            integral
            if self.kind is int
            else (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)))
        )
        if not ok_type:
            kind = "an int" if self.kind is int else "a number"
            none = " or None" if self.allow_none else ""
            raise InvalidParameterError(
                f"{name} must be {kind}{none}, got {value!r} ({type(value).__name__})."
            )
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        if not (low_ok and high_ok and np.isfinite(value)):
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            low = "-inf" if self.low is None else self.low
            high = "inf" if self.high is None else self.high
            raise InvalidParameterError(
                f"{name} must be in {left}{low}, {high}{right}, got {value!r}."
            )


class Options:
    """One of a fixed set of values.

    Examples
    --------
    >>> from skseqrec.params import Options
    >>> optimizer = Options("adam", "adamw")
    >>> optimizer.check("optimizer", "adamw")
    >>> optimizer.check("optimizer", "sgd")
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: optimizer must be one of ['adam', 'adamw'],
    got 'sgd'.
    """

    def __init__(self, *options):
        self.options = options

    def check(self, name, value):
        try:
            ok = any(
                value is o or (isinstance(value, type(o)) and value == o) for o in self.options
            )
        except (TypeError, ValueError):  # arrays and other values without a plain ==
            ok = False
        if not ok:
            raise InvalidParameterError(
                f"{name} must be one of {list(self.options)!r}, got {value!r}."
            )


class Boolean:
    """``True`` or ``False`` (numpy booleans too).

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.params import Boolean
    >>> Boolean().check("warm_start", np.True_)
    >>> Boolean().check("warm_start", 1)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: warm_start must be True or False, got 1.
    """

    def check(self, name, value):
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")


class RandomState:
    """None, an int or a numpy ``RandomState``.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.params import RandomState
    >>> for seed in (None, 0, np.random.RandomState(0)):
    ...     RandomState().check("random_state", seed)
    >>> RandomState().check("random_state", "0")
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: random_state must be None, an int or a numpy
    RandomState, got '0'.
    """

    def check(self, name, value):
        if value is None or (
            isinstance(value, (numbers.Integral, np.random.RandomState))
            and not isinstance(value, (bool, np.bool_))
        ):
            return
        raise InvalidParameterError(
            f"{name} must be None, an int or a numpy RandomState, got {value!r}."
        )


class String:
    """A non-empty string.

    Examples
    --------
    >>> from skseqrec.params import String
    >>> String().check("user_col", "user_id")
    >>> String().check("user_col", "")
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: user_col must be a non-empty string, got ''.
    """

    def check(self, name, value):
        if not isinstance(value, str) or not value:
            raise InvalidParameterError(f"{name} must be a non-empty string, got {value!r}.")


class Duration:
    """A positive span of time: a ``datetime.timedelta`` (``pd.Timedelta`` included) or a
    string ``pd.Timedelta`` reads (``"90D"``, ``"12h"``).

    Examples
    --------
    >>> from skseqrec.params import Duration
    >>> Duration().check("period", "90D")
    >>> Duration().check("period", "-1D")
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: period must be a positive timedelta or a
    string pd.Timedelta reads, got '-1D'.
    """

    def check(self, name, value):
        ok = False
        if isinstance(value, (str, datetime.timedelta)) and not isinstance(value, bool):
            try:
                ok = pd.Timedelta(value) > pd.Timedelta(0)
            except (ValueError, TypeError):
                ok = False
        if not ok:
            raise InvalidParameterError(
                f"{name} must be a positive timedelta or a string pd.Timedelta reads, "
                f"got {value!r}."
            )


class Device:
    """``"auto"``, a device string or a ``torch.device``.

    Only the type is checked here; whether the device exists is decided at ``fit``.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.params import Device
    >>> for device in ("auto", "cpu", torch.device("cpu")):
    ...     Device().check("device", device)
    >>> Device().check("device", 0)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: device must be 'auto', a device string or a
    torch.device, got 0.
    """

    def check(self, name, value):
        import torch

        if value is None or isinstance(value, (str, torch.device)):
            return
        raise InvalidParameterError(
            f"{name} must be 'auto', a device string or a torch.device, got {value!r}."
        )


class Callbacks:
    """None or a list of :class:`~skseqrec.training.Callback` objects.

    Examples
    --------
    >>> from skseqrec.params import Callbacks
    >>> from skseqrec.training import TimeBudget
    >>> Callbacks().check("callbacks", [TimeBudget(60)])
    >>> Callbacks().check("callbacks", [TimeBudget(60), "early_stopping"])
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: callbacks[1] must be a
    skseqrec.training.Callback, got 'early_stopping' (str).
    """

    def check(self, name, value):
        from .training import Callback

        if value is None:
            return
        if not isinstance(value, (list, tuple)):
            raise InvalidParameterError(
                f"{name} must be None or a list of skseqrec.training.Callback, got {value!r}."
            )
        for position, callback in enumerate(value):
            if not isinstance(callback, Callback):
                raise InvalidParameterError(
                    f"{name}[{position}] must be a skseqrec.training.Callback, got "
                    f"{callback!r} ({type(callback).__name__})."
                )


class TupleOf:
    """A non-empty list or tuple whose every element passes ``checker``.

    Examples
    --------
    >>> from skseqrec.params import Interval, TupleOf
    >>> sizes = TupleOf(Interval(int, 1))
    >>> sizes.check("hidden_layer_sizes", (64, 32))
    >>> sizes.check("hidden_layer_sizes", (64, 0))
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: hidden_layer_sizes[1] must be in [1, inf],
    got 0.
    >>> sizes.check("hidden_layer_sizes", ())
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: hidden_layer_sizes must be a non-empty list or
    tuple, got ().
    """

    def __init__(self, checker):
        self.checker = checker

    def check(self, name, value):
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidParameterError(f"{name} must be a non-empty list or tuple, got {value!r}.")
        for position, element in enumerate(value):
            self.checker.check(f"{name}[{position}]", element)


class AnyOf:
    """Passes when any of the given checkers passes (e.g. ``True``/``False`` or an int).

    Examples
    --------
    >>> from skseqrec.params import AnyOf, Boolean, Interval
    >>> verbose = AnyOf(Boolean(), Interval(int, 0), description="True, False or an int >= 0")
    >>> verbose.check("verbose", True)
    >>> verbose.check("verbose", 2)
    >>> verbose.check("verbose", -1)
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: verbose must be True, False or an int >= 0,
    got -1.
    """

    def __init__(self, *checkers, description: str):
        self.checkers = checkers
        self.description = description

    def check(self, name, value):
        for checker in self.checkers:
            try:
                checker.check(name, value)
                return
            except InvalidParameterError:
                continue
        raise InvalidParameterError(f"{name} must be {self.description}, got {value!r}.")


def validate_values(values: dict, specs: dict, *, owner: str | None = None) -> None:
    """Check ``values`` (name -> value) against ``specs`` (name -> checker).

    Raises
    ------
    InvalidParameterError
        The first bad value; the message starts with ``owner`` when given.
    """
    for name, spec in specs.items():
        try:
            spec.check(name, values[name])
        except InvalidParameterError as exc:
            if owner is None:
                raise
            raise InvalidParameterError(f"{owner}: {exc}") from None


def validate_params(estimator, specs: dict) -> None:
    """Check ``estimator``'s parameters (``get_params(deep=False)``) against ``specs``."""
    validate_values(estimator.get_params(deep=False), specs, owner=type(estimator).__name__)


def store_params(estimator, params: dict) -> None:
    """Set each constructor argument as an attribute, unchanged (``__init__`` stores only).

    Call as ``store_params(self, locals())`` first thing in ``__init__``; scikit-learn
    reads the parameters back from the signature, so the names must match.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)

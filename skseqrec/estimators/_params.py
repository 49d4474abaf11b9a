"""Declarative parameter checks, run at the start of ``fit`` (never in ``__init__``)."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Interval", "Options", "Boolean", "RandomState", "validate_params"]


class Interval:
    """A number in ``[low, high]`` (bounds optional; ``closed`` says which are inclusive)."""

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
        integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        ok_type = (
            integral
            if self.kind is int
            else (isinstance(value, numbers.Real) and not isinstance(value, bool))
        )
        if not ok_type:
            kind = "an int" if self.kind is int else "a number"
            none = " or None" if self.allow_none else ""
            raise TypeError(f"{name} must be {kind}{none}, got {value!r} ({type(value).__name__}).")
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
            raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}.")


class Options:
    """One of a fixed set of values."""

    def __init__(self, *options):
        self.options = options

    def check(self, name, value):
        if value not in self.options:
            raise ValueError(f"{name} must be one of {list(self.options)!r}, got {value!r}.")


class Boolean:
    def check(self, name, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {value!r}.")


class RandomState:
    def check(self, name, value):
        if value is None or isinstance(value, (numbers.Integral, np.random.RandomState)):
            return
        raise TypeError(f"{name} must be None, an int or a numpy RandomState, got {value!r}.")


class String:
    def check(self, name, value):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string, got {value!r}.")


class Device:
    def check(self, name, value):
        import torch

        if value is None or isinstance(value, (str, torch.device)):
            return
        raise TypeError(f"{name} must be 'auto', a device string or a torch.device, got {value!r}.")


def validate_params(estimator, specs: dict) -> None:
    """Check ``estimator``'s parameters against ``specs`` (name -> checker)."""
    params = estimator.get_params(deep=False)
    for name, spec in specs.items():
        spec.check(name, params[name])


def store_params(estimator, params: dict) -> None:
    """Set each constructor argument as an attribute, unchanged (``__init__`` stores only).

    Call as ``store_params(self, locals())`` first thing in ``__init__``; scikit-learn
    reads the parameters back from the signature, so the names must match.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)

"""The time axis of an interactions frame: user-given times and durations on one number line.

:func:`~skseqrec.data.check_interactions` turns every time column into sortable numbers
(datetimes: int64 nanoseconds since the epoch, UTC). Parameters such as a splitter's
``cutoff`` or a filter's ``start`` and ``last`` are given in the column's own terms (a
``pd.Timestamp``, a date string, a ``pd.Timedelta``, a number); :class:`TimeAxis`
converts them to that number line and back, once for every module that needs it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError

__all__ = ["TimeAxis"]


@dataclass(frozen=True)
class TimeAxis:
    """Conversions between a time column's values and the axis of ``check_interactions``.

    On the axis, datetimes are int64 nanoseconds since the epoch (UTC) and numeric times
    are themselves. A naive datetime given for a tz-aware column is read in the column's
    time zone.

    Parameters
    ----------
    column : str
        Name of the time column (used in messages).
    is_datetime : bool
        Whether the column holds datetimes.
    tz : tzinfo or None, default=None
        Time zone of a tz-aware datetime column.
    is_integer : bool, default=False
        Whether a numeric column holds integers (axis values then come back as ``int``).

    See Also
    --------
    skseqrec.data.check_interactions : validates the column and puts it on the axis.

    Examples
    --------
    >>> import pandas as pd
    >>> times = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"]).tz_localize("UTC"))
    >>> axis = TimeAxis.of(times, "timestamp")
    >>> axis.kind
    'datetimes (tz-aware)'
    >>> value = axis.to_axis("2024-01-02", "cutoff", "GlobalTemporalSplit")
    >>> value
    1704153600000000000
    >>> axis.from_axis(value - axis.to_duration("1D", "last", "TimeWindowFilter"))
    Timestamp('2024-01-01 00:00:00+0000', tz='UTC')
    >>> TimeAxis.of(pd.Series([0, 5]), "t").to_axis("2024", "cutoff", "f")
    Traceback (most recent call last):
    ...
    skseqrec.exceptions.InvalidParameterError: f: cutoff must be a finite number because column 't' holds numeric times; got '2024'.
    """

    column: str
    is_datetime: bool
    tz: object = None
    is_integer: bool = False

    @classmethod
    def of(cls, series: pd.Series, column: str) -> TimeAxis:
        """The axis of a time column.

        Parameters
        ----------
        series : pandas.Series
            The column (numbers or datetimes, tz-aware or not).
        column : str
            Its name, for messages.

        Returns
        -------
        TimeAxis
        """
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            return cls(column, True, dtype.tz)
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return cls(column, True, None)
        return cls(column, False, None, pd.api.types.is_integer_dtype(dtype))

    @property
    def kind(self) -> str:
        """``"numbers"``, ``"datetimes"`` or ``"datetimes (tz-aware)"``: what the column holds.

        Two axes with the same kind accept the same parameter values.
        """
        if not self.is_datetime:
            return "numbers"
        return "datetimes (tz-aware)" if self.tz is not None else "datetimes"

    def to_axis(self, value, name: str, owner: str):
        """A time given by the user as a value on the axis.

        Parameters
        ----------
        value : scalar
            A number for numeric columns; a ``pd.Timestamp``, datetime or string for
            datetime columns.
        name, owner : str
            The parameter and the class (or function) it belongs to, for messages.

        Returns
        -------
        int or float

        Raises
        ------
        InvalidParameterError
            ``value`` is not a time of the column's kind.
        """
        if self.is_datetime:
            if isinstance(value, (bool, np.bool_, numbers.Number)):
                raise InvalidParameterError(
                    f"{owner}: {name} must be a datetime (pd.Timestamp, datetime or a string "
                    f"such as '2020-01-31') because column {self.column!r} holds datetimes; "
                    f"got {value!r}."
                )
            try:
                stamp = pd.Timestamp(value)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"{owner}: {name}={value!r} cannot be read as a datetime for column "
                    f"{self.column!r}."
                ) from exc
            if stamp is pd.NaT:
                raise InvalidParameterError(f"{owner}: {name} must not be NaT, got {value!r}.")
            if self.tz is not None:
                stamp = stamp.tz_localize(self.tz) if stamp.tz is None else stamp
            elif stamp.tz is not None:
                raise InvalidParameterError(
                    f"{owner}: {name}={value!r} is tz-aware but column {self.column!r} holds "
                    "tz-naive datetimes; pass a naive value."
                )
            return int(stamp.as_unit("ns").value)
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
        ):
            raise InvalidParameterError(
                f"{owner}: {name} must be a finite number because column {self.column!r} holds "
                f"numeric times; got {value!r}."
            )
        return value

    def to_duration(self, value, name: str, owner: str):
        """A positive duration given by the user as a length on the axis.

        Parameters
        ----------
        value : scalar
            A number for numeric columns; a ``pd.Timedelta`` or a string such as ``"30D"``
            for datetime columns.
        name, owner : str
            The parameter and its class (or function), for messages.

        Returns
        -------
        int or float

        Raises
        ------
        InvalidParameterError
            ``value`` is not a positive duration of the column's kind.
        """
        if self.is_datetime:
            if isinstance(value, (bool, np.bool_, numbers.Number)):
                raise InvalidParameterError(
                    f"{owner}: {name} must be a duration (pd.Timedelta or a string such as "
                    f"'30D') because column {self.column!r} holds datetimes; got {value!r}."
                )
            try:
                delta = pd.Timedelta(value)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"{owner}: {name}={value!r} cannot be read as a duration (pd.Timedelta)."
                ) from exc
            if delta is pd.NaT or delta <= pd.Timedelta(0):
                raise InvalidParameterError(
                    f"{owner}: {name} must be a positive duration, got {value!r}."
                )
            return int(delta.as_unit("ns").value)
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
            or value <= 0
        ):
            raise InvalidParameterError(
                f"{owner}: {name} must be a positive number because column {self.column!r} "
                f"holds numeric times; got {value!r}."
            )
        return value

    def from_axis(self, value):
        """An axis value back in the column's terms.

        Parameters
        ----------
        value : int or float
            A value on the axis.

        Returns
        -------
        pandas.Timestamp or int or float
            A ``pd.Timestamp`` (in the column's time zone) for datetime columns; an ``int``
            for integer columns when the value is whole; a ``float`` otherwise.
        """
        if self.is_datetime:
            stamp = pd.Timestamp(int(value), unit="ns")
            return stamp.tz_localize("UTC").tz_convert(self.tz) if self.tz is not None else stamp
        if self.is_integer and float(value).is_integer():
            return int(value)
        return float(value)

"""TimeAxis: user-given times and durations on the axis of check_interactions, and back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skseqrec.data import TimeAxis, check_interactions
from skseqrec.exceptions import InvalidParameterError


def frame(times) -> pd.DataFrame:
    return pd.DataFrame(
        {"user_id": [1] * len(times), "item_id": [1] * len(times), "timestamp": times}
    )


@pytest.mark.parametrize(
    "times, value, kind",
    [
        (pd.Series([0, 10, 20]), 10, "numbers"),
        (pd.Series([0.5, 1.5]), 1.25, "numbers"),
        (pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"])), "2024-01-15", "datetimes"),
        (
            pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]).tz_localize("Asia/Tokyo")),
            "2024-01-15 09:00",
            "datetimes (tz-aware)",
        ),
        (
            pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"])).astype("datetime64[s]"),
            pd.Timestamp("2024-01-15"),
            "datetimes",
        ),
    ],
)
def test_round_trip_on_the_axis_of_check_interactions(times, value, kind):
    axis = TimeAxis.of(times, "timestamp")
    assert axis.kind == kind
    on_axis = axis.to_axis(value, "cutoff", "Owner")
    # the axis is the one check_interactions sorts on
    axis_times = check_interactions(frame(times)).times
    assert (axis_times < on_axis).sum() == 1
    back = axis.from_axis(on_axis)
    if axis.is_datetime:
        expected = pd.Timestamp(value)
        expected = expected.tz_localize(axis.tz) if axis.tz is not None else expected
        assert back == expected and back.tz == expected.tz
    else:
        assert back == value and type(back) is type(value)


def test_durations_and_integer_axis_values():
    numeric = TimeAxis.of(pd.Series([0, 10]), "t")
    assert numeric.to_duration(5, "last", "Owner") == 5
    assert numeric.from_axis(np.int64(7)) == 7 and type(numeric.from_axis(np.int64(7))) is int
    assert type(numeric.from_axis(7.5)) is float
    dates = TimeAxis.of(pd.Series(pd.to_datetime(["2024-01-01"])), "t")
    assert dates.to_duration("1D", "last", "Owner") == 86_400 * 10**9


@pytest.mark.parametrize(
    "times, method, value, match",
    [
        ([0, 1], "to_axis", "2024-01-01", "must be a finite number"),
        ([0, 1], "to_axis", np.inf, "must be a finite number"),
        ([0, 1], "to_axis", True, "must be a finite number"),
        ([0, 1], "to_duration", 0, "must be a positive number"),
        ([0, 1], "to_duration", "7D", "must be a positive number"),
        (pd.to_datetime(["2024-01-01"]), "to_axis", 5, "must be a datetime"),
        (pd.to_datetime(["2024-01-01"]), "to_axis", "someday", "cannot be read as a datetime"),
        (pd.to_datetime(["2024-01-01"]), "to_axis", pd.NaT, "must not be NaT"),
        (
            pd.to_datetime(["2024-01-01"]),
            "to_axis",
            pd.Timestamp("2024-01-01", tz="UTC"),
            "is tz-aware but column 'timestamp' holds tz-naive",
        ),
        (pd.to_datetime(["2024-01-01"]), "to_duration", 3, "must be a duration"),
        (pd.to_datetime(["2024-01-01"]), "to_duration", "soon", "cannot be read as a duration"),
        (pd.to_datetime(["2024-01-01"]), "to_duration", "-1D", "must be a positive duration"),
    ],
)
def test_bad_values_raise_invalid_parameter_error_naming_owner_and_parameter(
    times, method, value, match
):
    axis = TimeAxis.of(pd.Series(times), "timestamp")
    with pytest.raises(InvalidParameterError, match=match) as info:
        getattr(axis, method)(value, "cutoff", "Owner")
    assert str(info.value).startswith("Owner: cutoff")
    assert isinstance(info.value, ValueError)

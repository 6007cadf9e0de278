"""Apple-epoch dates: seconds or nanoseconds since 2001 to aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coldtexts.messages.dates import apple_time, to_apple_nanoseconds, to_apple_seconds


@pytest.mark.parametrize(("value", "expected"), [
    (0, None), (None, None), (True, None), ("x", None),
    (1, datetime(2001, 1, 1, 0, 0, 1, tzinfo=UTC)),
    (600_000_000, datetime(2020, 1, 6, 10, 40, tzinfo=UTC)),
    (600_000_000_000_000_000, datetime(2020, 1, 6, 10, 40, tzinfo=UTC)),
    (600_000_000.5, datetime(2020, 1, 6, 10, 40, 0, 500000, tzinfo=UTC)),
    (10**30, None),
])
def test_known_values(value: object, expected: datetime | None) -> None:
    assert apple_time(value) == expected  # type: ignore[arg-type]


@given(st.datetimes(min_value=datetime(2001, 1, 2), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)))
def test_round_trips_in_both_units(moment: datetime) -> None:
    exact = moment.replace(microsecond=moment.microsecond)
    assert apple_time(to_apple_nanoseconds(exact)) == exact
    assert apple_time(to_apple_seconds(exact)) == exact.replace(microsecond=0)

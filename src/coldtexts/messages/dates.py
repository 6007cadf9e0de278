"""Apple epoch timestamps (sms.db `date*` columns) to timezone-aware UTC datetimes.

sms.db counts from 2001-01-01T00:00:00Z. iOS 11 and later store nanoseconds (values
around 1e17-1e18 for dates after 2004); older databases store seconds (around 1e8-1e9).
Zero and NULL mean "unset".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
APPLE_EPOCH_UNIX = 978_307_200

# Anything this large cannot be seconds (it would be millions of years after 2001), and
# anything smaller cannot be nanoseconds after early 2001. Seconds reach ~1e9 around 2032,
# nanoseconds are ~1e14 only for the first day of 2001, so the gap is wide.
_NANOSECONDS_THRESHOLD = 1e12
# datetime's range ends in the year 9999; refuse values beyond it instead of raising.
_MAX_SECONDS = 250_000_000_000.0
_MAX_NANOSECONDS = 250_000_000_000 * 1_000_000_000


def apple_seconds(value: object) -> float | None:
    """Seconds since the Apple epoch, or None for 0/NULL/absurd values."""
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, int | float) or value == 0:
        return None
    seconds = value / 1_000_000_000 if abs(value) >= _NANOSECONDS_THRESHOLD else float(value)
    if abs(seconds) > _MAX_SECONDS or seconds != seconds:  # NaN check
        return None
    return seconds


def apple_time(value: object) -> datetime | None:
    """An sms.db date (seconds or nanoseconds since 2001) as an aware UTC datetime."""
    if type(value) is int and _NANOSECONDS_THRESHOLD <= value <= _MAX_NANOSECONDS:
        # The common case. timedelta(0, 0, us) is timedelta(microseconds=us), a third faster
        # without the keyword (measured).
        return APPLE_EPOCH + timedelta(0, 0, value // 1000)
    seconds = apple_seconds(value)
    if seconds is None:
        return None
    if isinstance(value, int) and abs(value) >= _NANOSECONDS_THRESHOLD:
        # Integer arithmetic keeps microsecond precision exactly.
        return APPLE_EPOCH + timedelta(microseconds=value // 1000)
    return APPLE_EPOCH + timedelta(seconds=seconds)


def to_apple_nanoseconds(moment: datetime) -> int:
    """The inverse for writers (fixtures): an aware datetime as nanoseconds since 2001."""
    delta = moment - APPLE_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def to_apple_seconds(moment: datetime) -> int:
    """An aware datetime as whole seconds since 2001 (pre-iOS 11 databases, attachments)."""
    return int((moment - APPLE_EPOCH).total_seconds())

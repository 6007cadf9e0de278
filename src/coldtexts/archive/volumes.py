"""Volumes: one per calendar year (in the render time zone), busy years split by count.

Deterministic: a volume depends only on the messages of its own year, so messages added
to 2024 never change 2019's volumes. A year with more than VOLUME_MAX messages becomes
consecutive chunks of VOLUME_MAX keyed "2019-1", "2019-2", ….
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from coldtexts.view import VolumeRef

from .store import from_us, to_us

VOLUME_MAX = 4000


@dataclass(frozen=True, slots=True)
class VolumeSlice:
    ref: VolumeRef
    start: int  # index of the first message in the conversation's date order
    stop: int  # one past the last


def local_year(when_us: int, zone: ZoneInfo) -> int:
    return from_us(when_us).astimezone(zone).year


def split_volumes(dates_us: Sequence[int], zone: ZoneInfo,
                  limit: int = VOLUME_MAX) -> list[VolumeSlice]:
    """Volumes of a conversation whose message dates (µs, ascending) are `dates_us`."""
    years = _year_runs(dates_us, zone)
    slices: list[VolumeSlice] = []
    for year, start, stop in years:
        count = stop - start
        parts = max(1, -(-count // limit))
        for number in range(parts):
            lo = start + number * limit
            hi = min(stop, lo + limit)
            key = str(year) if parts == 1 else f"{year}-{number + 1}"
            label = str(year) if parts == 1 else f"{year} (part {number + 1} of {parts})"
            ref = VolumeRef(key, label, _dt(dates_us[lo], zone), _dt(dates_us[hi - 1], zone),
                            hi - lo)
            slices.append(VolumeSlice(ref, lo, hi))
    return slices


def _year_runs(dates_us: Sequence[int], zone: ZoneInfo) -> list[tuple[int, int, int]]:
    runs: list[tuple[int, int, int]] = []
    # Year boundaries are cheap to find: compare against the next New Year only.
    index = 0
    total = len(dates_us)
    while index < total:
        year = local_year(dates_us[index], zone)
        boundary = _new_year_us(year + 1, zone)
        stop = index
        while stop < total and dates_us[stop] < boundary:
            stop += 1
        runs.append((year, index, stop))
        index = stop
    return runs


def _new_year_us(year: int, zone: ZoneInfo) -> int:
    return to_us(datetime(year, 1, 1, tzinfo=zone))


def _dt(when_us: int, zone: ZoneInfo) -> datetime:
    return from_us(when_us).astimezone(zone)
